//! Orchestration: sources -> matcher -> findings -> suppression, with threads, progress and
//! counters. No format- or provider-specific code lives here.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod collect;
mod history;
mod lines;
mod repositories;
pub mod scopes;
mod staged;

pub(crate) use collect::Collector;

pub use history::scan_history;
pub use repositories::{group_across_repositories, tag_repository};
pub use staged::scan_staged;

use crate::diagnostics::Diagnostics;
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::source;
use crate::suppress::{SuppressReason, Suppressor};

/// Decisions made once per run that shape every finding.
pub struct ScanSettings {
    pub show_secrets: bool,
    /// Every per-match and per-appearance suppression decision.
    pub suppressor: Suppressor,
    /// Rules that apply only to some paths.
    pub scopes: scopes::RuleScopes,
    pub progress: bool,
    /// Whether archives are opened (said in the summary when off).
    pub archives: bool,
    /// How many layers of encoding (base64 in hex, ...) to look through; 0 turns decoding off.
    pub decode_depth: usize,
    /// Rules the configuration disabled (left out of the matcher; said in the summary).
    pub disabled_rules: usize,
    /// Reuse what earlier versions of a file yielded for the lines a later one still has
    /// (`Blob::versions`); off with `history --full-blob-scan`.
    pub novelty: bool,
    /// What validators need from the file around a credential (`--validate` only).
    pub validation_context: std::sync::Arc<crate::validation::context::ContextFinders>,
}

/// Counters for the one-line summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    /// Binary files (or blobs) read as their printable runs.
    pub binary_as_strings: u64,
    pub skipped_oversize: u64,
    pub skipped_unreadable: u64,
    pub warnings: u64,
    pub findings: u64,
    pub suppressed: BTreeMap<SuppressReason, u64>,
    pub elapsed: Duration,
    /// Set for history scans.
    pub history: Option<HistorySummary>,
    /// Baseline entries that matched no finding.
    pub stale_baseline_entries: u64,
    /// Files that .gitignore/.ignore rules left out (`None` with --no-ignore or no walk).
    pub ignored_files: Option<u64>,
    /// Encoded spans that decoded to text and were scanned.
    pub decoded_spans: u64,
    /// False when --no-decode switched decoding off (said in the summary).
    pub decoding: bool,
    /// Archives opened (nested ones included).
    pub archives_opened: u64,
    /// Archive entries (or archives) a limit, corruption or encryption kept from being scanned.
    pub archive_items_unscanned: u64,
    /// Git objects not in the object database (a partial clone, a broken repository).
    pub missing_objects: u64,
    /// False when --no-archives switched archives off.
    pub archives: bool,
    /// Rules the configuration disabled.
    pub disabled_rules: u64,
    /// Bytes the keyword pass read: all of `bytes`, less what later versions of a file shared
    /// with the version before them.
    pub bytes_matched: u64,
}

/// What a history scan adds to the summary.
#[derive(Debug, Default, Clone)]
pub struct HistorySummary {
    pub refs: u64,
    pub commits: u64,
    pub blobs: u64,
    /// Findings whose secret is still in HEAD's tree, and those that live only in history.
    pub present: u64,
    pub removed: u64,
    pub submodules: u64,
    pub shallow: bool,
    pub partial_clone: bool,
    /// Commits whose object or tree could not be read.
    pub unread_commits: u64,
    /// The walk stopped early, or reached a shallow clone's boundary: older history unscanned.
    pub truncated: bool,
}

impl Summary {
    /// Adds another part of the same run (a thread's, or stdin's beside the files').
    pub(crate) fn absorb(&mut self, other: &Summary) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.skipped_binary += other.skipped_binary;
        self.binary_as_strings += other.binary_as_strings;
        self.skipped_oversize += other.skipped_oversize;
        self.skipped_unreadable += other.skipped_unreadable;
        self.decoded_spans += other.decoded_spans;
        self.archives_opened += other.archives_opened;
        self.archive_items_unscanned += other.archive_items_unscanned;
        self.missing_objects += other.missing_objects;
        self.bytes_matched += other.bytes_matched;
        for (reason, count) in &other.suppressed {
            *self.suppressed.entry(*reason).or_default() += count;
        }
    }

    /// What was not scanned although it was in scope (oversize, unreadable or missing content,
    /// archive entries past a limit, corrupt or encrypted): a clean result does not cover it.
    /// Binary files are out of scope by design and not counted here.
    pub fn incomplete(&self) -> Option<String> {
        let history = self.history.as_ref();
        let mut parts: Vec<String> = [
            (self.skipped_oversize, "over the size limit"),
            (self.skipped_unreadable, "unreadable or missing"),
            (self.archive_items_unscanned, "archive entries not opened"),
            (
                history.map_or(0, |history| history.unread_commits),
                "commits unreadable",
            ),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        if history.is_some_and(|history| history.truncated) {
            parts.push("history older than a shallow boundary or an unreadable commit".into());
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// `leakhound: 12 files, 1.2 MB in 0.03 s (40.0 MB/s); 3 findings; skipped: ...`
    pub fn line(&self) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let megabytes = self.bytes as f64 / 1e6;
        let rate = if seconds > 0.0 {
            megabytes / seconds
        } else {
            0.0
        };
        let what = if self.history.is_some() {
            "blobs"
        } else {
            "files"
        };
        let mut text = String::new();
        if let Some(history) = &self.history {
            text.push_str(&format!(
                "{} commits from {} refs; ",
                history.commits, history.refs
            ));
        }
        // Said where it differs: later versions of a file are matched only where they changed.
        let novel = if self.history.is_some() && self.bytes_matched < self.bytes {
            format!(
                " ({:.1} MB new to each file)",
                self.bytes_matched as f64 / 1e6
            )
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{} {what}, {:.1} MB scanned{novel} in {:.2} s ({:.1} MB/s); {} finding{}",
            self.files,
            megabytes,
            seconds,
            rate,
            self.findings,
            if self.findings == 1 { "" } else { "s" }
        ));
        if let Some(history) = &self.history {
            text.push_str(&format!(
                " ({} still in HEAD, {} only in history)",
                history.present, history.removed
            ));
        }
        text.push_str(&format!(
            "; skipped: {} binary, {} over size limit, {} unreadable",
            self.skipped_binary, self.skipped_oversize, self.skipped_unreadable
        ));
        if self.binary_as_strings > 0 {
            text.push_str(&format!(
                "; {} binary {} read as printable strings",
                self.binary_as_strings,
                if self.binary_as_strings == 1 {
                    "file"
                } else {
                    "files"
                }
            ));
        }
        if !self.archives {
            text.push_str("; archives not opened (--no-archives)");
        } else if self.archives_opened > 0 {
            text.push_str(&format!("; {} archives opened", self.archives_opened));
        }
        if self.decoding {
            if self.decoded_spans > 0 {
                text.push_str(&format!("; {} encoded spans decoded", self.decoded_spans));
            }
        } else {
            text.push_str("; decoding off (--no-decode)");
        }
        if let Some(ignored) = self.ignored_files.filter(|&ignored| ignored > 0) {
            text.push_str(&format!(
                "; {ignored} file{} left out by ignore rules (--no-ignore includes them)",
                if ignored == 1 { "" } else { "s" }
            ));
        }
        if self.disabled_rules > 0 {
            text.push_str(&format!(
                "; {} rule{} disabled by configuration",
                self.disabled_rules,
                if self.disabled_rules == 1 { "" } else { "s" }
            ));
        }
        if !self.suppressed.is_empty() {
            let parts: Vec<String> = self
                .suppressed
                .iter()
                .map(|(reason, count)| format!("{count} {}", reason.label()))
                .collect();
            text.push_str(&format!("; suppressed: {}", parts.join(", ")));
        }
        if let Some(history) = &self.history {
            if history.submodules > 0 {
                text.push_str(&format!(
                    "; {} submodule entries not entered",
                    history.submodules
                ));
            }
            if history.shallow {
                text.push_str("; shallow clone: history truncated");
            }
        }
        if self.stale_baseline_entries > 0 {
            text.push_str(&format!(
                "; {} stale baseline entr{}",
                self.stale_baseline_entries,
                if self.stale_baseline_entries == 1 {
                    "y"
                } else {
                    "ies"
                }
            ));
        }
        if let Some(incomplete) = self.incomplete() {
            text.push_str(&format!("; INCOMPLETE: not scanned: {incomplete}"));
        }
        if self.warnings > 0 {
            text.push_str(&format!(
                "; {} warning{}",
                self.warnings,
                if self.warnings == 1 { "" } else { "s" }
            ));
        }
        text
    }
}

/// Findings (one per credential, sorted by location) and the counters.
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// What every walker thread pushes into once, when it finishes.
#[derive(Default)]
pub(crate) struct Collected {
    pub(crate) findings: Vec<Finding>,
    pub(crate) summary: Summary,
}

/// Shared, lock-free progress counters, read by the progress thread.
#[derive(Default)]
pub(crate) struct Progress {
    pub(crate) files: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// History only: commits walked so far.
    pub(crate) commits: AtomicU64,
}

/// Scans what a source produces (files on disk, standard input, ...): one finding per
/// credential, at its first place in (path, line, column) order.
pub fn scan_source<S: source::Source>(
    matcher: &Matcher,
    input: &S,
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
) -> ScanOutcome {
    let mut produced = source::Produced::default();
    let mut outcome = run_with_progress(settings, diagnostics, |progress, collected| {
        produced = input.produce(diagnostics, || {
            Collector::new(matcher, settings, progress, collected)
        });
    });
    outcome.summary.ignored_files = produced.ignored_files;
    outcome
}

pub(crate) fn run_with_progress(
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
    body: impl FnOnce(&Progress, &Mutex<Collected>),
) -> ScanOutcome {
    run_with_progress_then(settings, diagnostics, body, |findings, _| {
        group_by_credential(findings)
    })
}

/// Like `run_with_progress`, with the step that turns per-blob findings into credentials
/// supplied by the caller (history attributes them to commits).
pub(crate) fn run_with_progress_then(
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
    body: impl FnOnce(&Progress, &Mutex<Collected>),
    finish: impl FnOnce(Vec<Finding>, &mut Summary) -> Vec<Finding>,
) -> ScanOutcome {
    let started = Instant::now();
    let progress = Progress::default();
    let collected = Mutex::new(Collected::default());
    let done = AtomicBool::new(false);
    let show_progress = settings.progress && std::io::stderr().is_terminal();
    std::thread::scope(|scope| {
        if show_progress {
            let bar = indicatif::ProgressBar::new_spinner();
            diagnostics.attach_progress(Some(bar.clone()));
            let (progress, done) = (&progress, &done);
            scope.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    let files = progress.files.load(Ordering::Relaxed);
                    let bytes = progress.bytes.load(Ordering::Relaxed);
                    let seconds = started.elapsed().as_secs_f64().max(1e-3);
                    let commits = progress.commits.load(Ordering::Relaxed);
                    let walked = if commits > 0 {
                        format!("{commits} commits, ")
                    } else {
                        String::new()
                    };
                    bar.set_message(format!(
                        "{walked}{files} blobs/files, {:.1} MB, {:.1} MB/s",
                        bytes as f64 / 1e6,
                        bytes as f64 / 1e6 / seconds
                    ));
                    bar.tick();
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            });
        }
        body(&progress, &collected);
        done.store(true, Ordering::Relaxed);
    });
    diagnostics.attach_progress(None);
    let collected = collected
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut summary = collected.summary;
    summary.decoding = settings.decode_depth > 0;
    summary.archives = settings.archives;
    summary.disabled_rules = settings.disabled_rules as u64;
    let findings = finish(collected.findings, &mut summary);
    summary.findings = findings.len() as u64;
    summary.warnings = diagnostics.warning_count();
    summary.elapsed = started.elapsed();
    ScanOutcome { findings, summary }
}

/// Combines a stdin scan with a file scan into one outcome, regrouped by credential (the
/// pipeline then masks each part's secrets in the other's snippets too).
pub fn combine(first: ScanOutcome, second: ScanOutcome) -> ScanOutcome {
    if first.findings.is_empty() && first.summary.files == 0 {
        return second;
    }
    let mut summary = first.summary.clone();
    summary.absorb(&second.summary);
    summary.warnings = second.summary.warnings;
    summary.ignored_files = second.summary.ignored_files;
    summary.elapsed += second.summary.elapsed;
    let mut all = first.findings;
    for mut finding in second.findings {
        let occurrences = std::mem::take(&mut finding.occurrences);
        all.push(finding.clone());
        for place in occurrences {
            let mut copy = finding.clone();
            copy.path = place.path;
            copy.line = place.line;
            copy.column = place.column;
            copy.column_utf16 = place.column_utf16;
            all.push(copy);
        }
    }
    let findings = group_by_credential(all);
    summary.findings = findings.len() as u64;
    ScanOutcome { findings, summary }
}

/// One credential, one finding: occurrences of the same (rule, secret) are folded into the
/// first in (path, line, column) order.
pub fn group_by_credential(mut all: Vec<Finding>) -> Vec<Finding> {
    all.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule.rule_id).cmp(&(
            &b.path,
            b.line,
            b.column,
            &b.rule.rule_id,
        ))
    });
    let mut grouped: Vec<Finding> = Vec::new();
    let mut index: HashMap<(String, [u8; 32]), usize> = HashMap::new();
    for finding in all {
        let key = (finding.rule.rule_id.clone(), finding.secret_hash);
        match index.get(&key) {
            Some(&primary) => {
                let occurrence = finding.occurrence();
                grouped[primary].occurrences.push(occurrence);
            }
            None => {
                index.insert(key, grouped.len());
                grouped.push(finding);
            }
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::group_by_credential;
    use crate::finding::Finding;

    #[test]
    fn one_finding_per_rule_and_secret_at_its_first_place() {
        let findings = vec![
            Finding::for_test("acme-token", "z.py", 1, "Zq81mXv0LpWw"),
            Finding::for_test("acme-token", "a.py", 9, "Zq81mXv0LpWw"),
            Finding::for_test("acme-token", "a.py", 2, "Zq81mXv0LpWw"),
            // Same secret, another rule: another credential.
            Finding::for_test("other-token", "a.py", 2, "Zq81mXv0LpWw"),
            Finding::for_test("acme-token", "b.py", 1, "Kd02nYt7QsRr"),
        ];
        let grouped = group_by_credential(findings);
        type Shown<'a> = (&'a str, &'a str, usize, Vec<(String, usize)>);
        let shown: Vec<Shown<'_>> = grouped
            .iter()
            .map(|finding| {
                (
                    finding.rule.rule_id.as_str(),
                    finding.path.as_str(),
                    finding.line,
                    finding
                        .occurrences
                        .iter()
                        .map(|place| (place.path.clone(), place.line))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "acme-token",
                    "a.py",
                    2,
                    vec![("a.py".to_string(), 9), ("z.py".to_string(), 1)]
                ),
                ("other-token", "a.py", 2, vec![]),
                ("acme-token", "b.py", 1, vec![]),
            ]
        );
    }
}
