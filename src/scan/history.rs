//! History scans: enumerate with `source::git`, scan each distinct blob once, then attribute
//! every credential to the commit that first introduced it (smallest generation, then oldest
//! commit time) with every later introduction in `occurrences`, and mark it `present` when a
//! blob in HEAD's tree carries it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::{
    run_with_progress_then, Collector, HistorySummary, ScanOutcome, ScanSettings, Summary,
};
use crate::diagnostics::Diagnostics;
use crate::finding::{Finding, GitProvenance, Occurrence, SecretStatus};
use crate::matcher::Matcher;
use crate::source::git::{self, CommitInfo, History, HistoryError, HistoryOptions};
use crate::source::{Blob, BlobVisitor, Provenance, SourceKind, COMMIT_MESSAGE_PATH};
use crate::suppress::SuppressReason;

/// Scans every blob reachable from every ref (or from `--range`/`--since`).
pub fn scan_history(
    matcher: &Matcher,
    options: &HistoryOptions,
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
) -> Result<ScanOutcome, HistoryError> {
    let enumerated: RefCell<Option<Result<History, HistoryError>>> = RefCell::new(None);
    let outcome = run_with_progress_then(
        settings,
        diagnostics,
        |progress, collected| {
            // Commit messages are scanned as the walk reads each commit: a token pasted into
            // a message is as public as one in a file.
            let mut messages = Collector::new(matcher, settings, progress, collected);
            let mut scan_message = |commit: usize, message: &[u8]| {
                messages.visit(Blob {
                    bytes: message,
                    path: COMMIT_MESSAGE_PATH,
                    provenance: Provenance::CommitMessage { commit },
                    versions: Default::default(),
                    strings: None,
                });
            };
            let walked = git::enumerate(options, diagnostics, &progress.commits, &mut scan_message);
            drop(messages);
            let history = match walked {
                Ok(history) => history,
                Err(error) => {
                    *enumerated.borrow_mut() = Some(Err(error));
                    return;
                }
            };
            if history.empty {
                diagnostics.note("the repository has no commits: nothing to scan");
            }
            git::read_blobs(
                &history,
                options.max_file_size,
                options.threads,
                &options.budget,
                diagnostics,
                || Collector::new(matcher, settings, progress, collected),
            );
            *enumerated.borrow_mut() = Some(Ok(history));
        },
        |per_blob, summary| match enumerated.borrow().as_ref() {
            Some(Ok(history)) => attribute(per_blob, history, settings, summary),
            _ => Vec::new(),
        },
    );
    match enumerated.into_inner() {
        Some(Err(error)) => Err(error),
        _ => Ok(outcome),
    }
}

/// One place a credential was introduced: which per-blob finding (for line, column and
/// snippet) and which appearance of that blob (for path and commit).
struct Candidate {
    finding: usize,
    commit: u32,
    path: Arc<str>,
    /// False when a parent's version of the same path already carried this credential: the
    /// commit kept it rather than introduced it. Such places count for `present`/`removed` but
    /// are not occurrences.
    introduced: bool,
}

fn attribute(
    per_blob: Vec<Finding>,
    history: &History,
    settings: &ScanSettings,
    summary: &mut Summary,
) -> Vec<Finding> {
    let mut groups: HashMap<(String, [u8; 32]), Vec<Candidate>> = HashMap::new();
    let mut group_order: Vec<(String, [u8; 32])> = Vec::new();
    let mut suppressed_paths = 0u64;
    let mut suppressed_commits = 0u64;
    let suppressor = &settings.suppressor;
    // Which blob carries which credential, to tell introductions from versions that kept one.
    let blob_positions: HashMap<gix::ObjectId, u32> = history
        .blobs
        .iter()
        .enumerate()
        .map(|(index, blob)| (blob.id, index as u32))
        .collect();
    let carried: std::collections::HashSet<(u32, &str, [u8; 32])> = per_blob
        .iter()
        .filter_map(|finding| match finding.provenance {
            Provenance::Git { blob } => Some((
                blob as u32,
                finding.rule.rule_id.as_str(),
                finding.secret_hash,
            )),
            _ => None,
        })
        .collect();
    for (index, finding) in per_blob.iter().enumerate() {
        // Where this per-blob finding was introduced: (commit, path its allowlist is checked on,
        // reported path). A commit message has one place and no path to allowlist; a blob has
        // every (path, commit) that introduced it.
        let places: Vec<(u32, Option<&str>, Arc<str>, bool)> = match finding.provenance {
            Provenance::CommitMessage { commit } => {
                if commit >= history.commits.len() {
                    continue;
                }
                vec![(commit as u32, None, COMMIT_MESSAGE_PATH.into(), true)]
            }
            Provenance::Git { blob } => {
                let Some(blob) = history.blobs.get(blob) else {
                    continue;
                };
                // Findings inside an archive carry `first-path!inner`; every appearance gets
                // the same inner suffix.
                let inner_suffix = blob
                    .appearances
                    .first()
                    .and_then(|first| finding.path.strip_prefix(&*first.path))
                    .filter(|suffix| suffix.starts_with('!'))
                    .unwrap_or("");
                blob.appearances
                    .iter()
                    .map(|appearance| {
                        let path = if inner_suffix.is_empty() {
                            appearance.path.clone()
                        } else {
                            format!("{}{inner_suffix}", appearance.path).into()
                        };
                        let kept = appearance.previous.iter().any(|previous| {
                            blob_positions.get(previous).is_some_and(|&position| {
                                carried.contains(&(
                                    position,
                                    finding.rule.rule_id.as_str(),
                                    finding.secret_hash,
                                ))
                            })
                        });
                        (appearance.commit, Some(&*appearance.path), path, !kept)
                    })
                    .collect()
            }
            // Blobs from other producers do not reach a history scan.
            _ => continue,
        };
        for (commit, allowlist_path, path, introduced) in places {
            let id = history.commits[commit as usize].id.to_string();
            if let Some(reason) = suppressor.per_appearance(allowlist_path, &id) {
                if reason == SuppressReason::AllowlistedPath {
                    suppressed_paths += 1;
                } else {
                    suppressed_commits += 1;
                }
                if suppressor.drops() {
                    continue;
                }
            }
            let key = (finding.rule.rule_id.clone(), finding.secret_hash);
            groups
                .entry(key.clone())
                .or_insert_with(|| {
                    group_order.push(key);
                    Vec::new()
                })
                .push(Candidate {
                    finding: index,
                    commit,
                    path,
                    introduced,
                });
        }
    }
    if suppressed_paths > 0 {
        *summary
            .suppressed
            .entry(SuppressReason::AllowlistedPath)
            .or_default() += suppressed_paths;
    }
    if suppressed_commits > 0 {
        *summary
            .suppressed
            .entry(SuppressReason::AllowlistedCommit)
            .or_default() += suppressed_commits;
    }

    let repo = history.repo.to_thread_local();
    let mut commit_cache: HashMap<u32, Arc<CommitInfo>> = HashMap::new();
    let mut findings = Vec::with_capacity(groups.len());
    let (mut present, mut removed) = (0u64, 0u64);
    for key in group_order {
        let Some(all_candidates) = groups.remove(&key) else {
            continue;
        };
        let still_in_head =
            all_candidates
                .iter()
                .any(|candidate| match per_blob[candidate.finding].provenance {
                    Provenance::Git { blob } => history
                        .blobs
                        .get(blob)
                        .is_some_and(|blob| history.head_blobs.contains(&blob.id)),
                    _ => false,
                });
        let mut candidates: Vec<Candidate> = all_candidates
            .into_iter()
            .filter(|candidate| candidate.introduced)
            .collect();
        if candidates.is_empty() {
            // Every version carrying it inherited it from one the allowlist dropped (an
            // allowlisted commit introduced it): the allowlist decision stands.
            continue;
        }
        let order_key = |candidate: &Candidate| {
            let commit = &history.commits[candidate.commit as usize];
            let finding = &per_blob[candidate.finding];
            (
                commit.generation,
                commit.time,
                // In the commit that adds a file with a token and names it in its message, the
                // file is the place to fix; the message is listed as another place.
                finding.provenance.kind() == SourceKind::CommitMessage,
                candidate.path.clone(),
                finding.line,
                finding.column,
            )
        };
        candidates.sort_by_key(order_key);
        candidates.dedup_by(|a, b| {
            a.commit == b.commit
                && a.path == b.path
                && per_blob[a.finding].line == per_blob[b.finding].line
                && per_blob[a.finding].column == per_blob[b.finding].column
        });
        let primary = &candidates[0];
        let mut finding = per_blob[primary.finding].clone();
        finding.path = primary.path.to_string();
        let info = commit_cache
            .entry(primary.commit)
            .or_insert_with(|| {
                Arc::new(git::commit_info(
                    &repo,
                    history.commits[primary.commit as usize].id,
                ))
            })
            .clone();
        finding.git = Some(GitProvenance::of(&info));
        finding.occurrences = candidates[1..]
            .iter()
            .map(|candidate| {
                let source = &per_blob[candidate.finding];
                Occurrence {
                    repository: None,
                    path: candidate.path.to_string(),
                    line: source.line,
                    column: source.column,
                    column_utf16: source.column_utf16,
                    commit: Some(history.commits[candidate.commit as usize].id.to_string()),
                }
            })
            .collect();
        finding.status = Some(if still_in_head {
            present += 1;
            SecretStatus::Present
        } else {
            removed += 1;
            SecretStatus::Removed
        });
        findings.push(finding);
    }
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule.rule_id, a.commit()).cmp(&(
            &b.path,
            b.line,
            b.column,
            &b.rule.rule_id,
            b.commit(),
        ))
    });
    summary.history = Some(HistorySummary {
        refs: history.stats.refs,
        commits: history.stats.commits,
        blobs: history.blobs.len() as u64,
        present,
        removed,
        submodules: history.stats.submodules,
        shallow: history.stats.shallow,
        partial_clone: history.stats.partial_clone,
        unread_commits: history.stats.unread_commits,
        truncated: history.stats.walk_stopped || history.stats.shallow_boundary_reached,
    });
    findings
}
