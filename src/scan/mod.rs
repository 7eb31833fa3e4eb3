//! Orchestration: sources -> matcher -> findings -> suppression, with threads, progress and
//! counters. No format- or provider-specific code lives here.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod history;
mod staged;

pub use history::scan_history;
pub use staged::scan_staged;

use crate::diagnostics::Diagnostics;
use crate::finding::{self, Finding, LineCounter, SourceKind};
use crate::matcher::{Matcher, Scratch};
use crate::rules::model::Severity;
use crate::source::{self, Blob, BlobVisitor, SkipReason};
use crate::suppress::{inline, Allowlist, SuppressReason};

/// Decisions made once per run that shape every finding.
pub struct ScanSettings {
    pub show_secrets: bool,
    pub min_severity: Option<Severity>,
    /// Report what suppressions would hide (they are still counted).
    pub no_suppress: bool,
    pub allowlist: Allowlist,
    pub progress: bool,
}

/// Counters for the one-line summary.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
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
}

impl Summary {
    fn absorb(&mut self, other: &Summary) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.skipped_binary += other.skipped_binary;
        self.skipped_oversize += other.skipped_oversize;
        self.skipped_unreadable += other.skipped_unreadable;
        for (reason, count) in &other.suppressed {
            *self.suppressed.entry(*reason).or_default() += count;
        }
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
        text.push_str(&format!(
            "{} {what}, {:.1} MB scanned in {:.2} s ({:.1} MB/s); {} finding{}",
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
        if let Some(ignored) = self.ignored_files.filter(|&ignored| ignored > 0) {
            text.push_str(&format!(
                "; {ignored} file{} left out by ignore rules (--no-ignore includes them)",
                if ignored == 1 { "" } else { "s" }
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

/// Scans files and directories on disk.
pub fn scan_paths(
    matcher: &Matcher,
    walk: &source::fs::WalkOptions,
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
) -> ScanOutcome {
    let ignored = AtomicU64::new(0);
    let mut outcome = run_with_progress(settings, diagnostics, |progress, collected| {
        let left_out = source::fs::walk(walk, diagnostics, || {
            Collector::new(matcher, settings, progress, collected)
        });
        ignored.store(left_out, Ordering::Relaxed);
    });
    if walk.respect_ignore_files {
        outcome.summary.ignored_files = Some(ignored.load(Ordering::Relaxed));
    }
    outcome
}

/// Scans standard input as one blob.
pub fn scan_stdin(
    matcher: &Matcher,
    max_file_size: u64,
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
) -> ScanOutcome {
    run_with_progress(settings, diagnostics, |progress, collected| {
        let mut collector = Collector::new(matcher, settings, progress, collected);
        source::stdin::scan_stdin(max_file_size, diagnostics, &mut collector);
    })
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
    let findings = finish(collected.findings, &mut summary);
    summary.findings = findings.len() as u64;
    summary.warnings = diagnostics.warning_count();
    summary.elapsed = started.elapsed();
    ScanOutcome { findings, summary }
}

/// One credential, one finding: occurrences of the same (rule, secret) are folded into the
/// first in (path, line, column) order.
pub fn group_by_credential(mut all: Vec<Finding>) -> Vec<Finding> {
    all.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    let mut grouped: Vec<Finding> = Vec::new();
    let mut index: HashMap<(String, [u8; 32]), usize> = HashMap::new();
    for finding in all {
        let key = (finding.rule_id.clone(), finding.secret_hash);
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

/// One per walker thread: its own matcher scratch, findings and counters, merged into the
/// shared result once, when the thread finishes.
pub(crate) struct Collector<'a> {
    matcher: &'a Matcher,
    settings: &'a ScanSettings,
    scratch: Scratch,
    /// Every secret span in the current blob, for redacting snippets.
    spans: Vec<(usize, usize)>,
    findings: Vec<Finding>,
    summary: Summary,
    progress: &'a Progress,
    collected: &'a Mutex<Collected>,
}

impl<'a> Collector<'a> {
    pub(crate) fn new(
        matcher: &'a Matcher,
        settings: &'a ScanSettings,
        progress: &'a Progress,
        collected: &'a Mutex<Collected>,
    ) -> Self {
        Collector {
            matcher,
            settings,
            scratch: matcher.scratch(),
            spans: Vec::new(),
            findings: Vec::new(),
            summary: Summary::default(),
            progress,
            collected,
        }
    }

    fn suppress(&mut self, reason: SuppressReason) -> bool {
        *self.summary.suppressed.entry(reason).or_default() += 1;
        !self.settings.no_suppress
    }
}

impl BlobVisitor for Collector<'_> {
    fn visit(&mut self, blob: Blob<'_>) {
        self.summary.files += 1;
        self.summary.bytes += blob.bytes.len() as u64;
        self.progress.files.fetch_add(1, Ordering::Relaxed);
        self.progress
            .bytes
            .fetch_add(blob.bytes.len() as u64, Ordering::Relaxed);
        let matches = self.matcher.scan(blob.bytes, &mut self.scratch).to_vec();
        if matches.is_empty() {
            return;
        }
        self.spans.clear();
        self.spans
            .extend(matches.iter().map(|found| (found.start, found.end)));
        let mut lines = LineCounter::new(blob.bytes);
        for found in matches {
            let rule = self.matcher.rule(found.rule_index);
            let secret = &blob.bytes[found.start..found.end];
            if let Some(min) = self.settings.min_severity {
                if rule.severity < min && self.suppress(SuppressReason::BelowMinSeverity) {
                    continue;
                }
            }
            if inline::line_allows(line_of(blob.bytes, found.start), &rule.id)
                && self.suppress(SuppressReason::InlineMarker)
            {
                continue;
            }
            // Git blobs have many paths: their path allowlist is applied per appearance.
            let path_for_allowlist = match blob.source {
                SourceKind::Git => None,
                _ => Some(blob.path),
            };
            if let Some(reason) =
                self.settings
                    .allowlist
                    .check(&rule.id, path_for_allowlist, secret, None)
            {
                if self.suppress(reason) {
                    continue;
                }
            }
            let (line, column) = lines.position(found.start);
            let shown = if self.settings.show_secrets {
                String::from_utf8_lossy(secret).into_owned()
            } else {
                finding::redact(secret)
            };
            let hash = finding::secret_hash(&rule.id, secret);
            self.findings.push(Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                provider: rule.provider.clone(),
                severity: rule.severity,
                confidence: found.confidence,
                path: blob.path.to_string(),
                line,
                column,
                snippet: finding::snippet(
                    blob.bytes,
                    found.start,
                    found.end,
                    &self.spans,
                    self.settings.show_secrets,
                ),
                secret: shown,
                entropy: (found.entropy * 100.0).round() / 100.0,
                fingerprint: finding::fingerprint(&rule.id, &hash),
                remediation: rule.remediation.trim().to_string(),
                commit: None,
                author: None,
                email: None,
                date: None,
                commit_message: None,
                status: None,
                occurrences: Vec::new(),
                decoded: Vec::new(),
                source: blob.source,
                secret_hash: hash,
                origin: blob.origin,
            });
        }
    }

    fn skipped(&mut self, reason: SkipReason, _bytes: u64) {
        match reason {
            SkipReason::Binary => self.summary.skipped_binary += 1,
            SkipReason::Oversize => self.summary.skipped_oversize += 1,
            SkipReason::Unreadable => self.summary.skipped_unreadable += 1,
        }
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut collected = self
            .collected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        collected.findings.append(&mut self.findings);
        collected.summary.absorb(&self.summary);
    }
}

/// How far from the secret an inline marker is looked for on very long (minified) lines, so
/// many findings on one huge line stay linear.
const MARKER_REACH: usize = 4096;

/// The line holding `offset` (for inline markers), without its line break, cut to
/// `MARKER_REACH` bytes on either side of `offset`.
fn line_of(haystack: &[u8], offset: usize) -> &[u8] {
    let floor = offset.saturating_sub(MARKER_REACH);
    let ceiling = (offset + MARKER_REACH).min(haystack.len());
    let start = memchr::memrchr(b'\n', &haystack[floor..offset]).map_or(floor, |i| floor + i + 1);
    let end = memchr::memchr(b'\n', &haystack[offset..ceiling]).map_or(ceiling, |i| offset + i);
    &haystack[start..end]
}
