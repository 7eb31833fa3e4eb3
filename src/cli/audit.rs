//! `audit` and `merge`: many repositories into one report, and shards of an audit back into
//! one. Each repository is scanned with the same machinery as `history` (or `scan` with
//! `--tree`); its findings are tagged with the repository and grouped across repositories by
//! fingerprint (`scan::group_across_repositories`), which is also all `merge` does, so N
//! shards merged equal one run.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::args::{AuditArgs, MergeArgs};
use super::config_source::ConfigSource;
use super::output::Output;
use super::plan::{self, Plan};
use super::{emit, EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::diagnostics::Diagnostics;
use crate::finding::Finding;
use crate::report;
use crate::scan::{self, ScanOutcome, Summary};
use crate::source;
use crate::source::git::clone::{self, is_remote};

pub fn audit_command(args: AuditArgs) -> Result<i32> {
    let started = Instant::now();
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let mut failed: Vec<String> = Vec::new();
    let mut entries: Vec<String> = Vec::new();
    if let Some(repos) = &args.repos {
        let list = std::fs::read_to_string(repos)
            .with_context(|| format!("cannot read --repos {}", repos.display()))?;
        entries.extend(
            list.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_string),
        );
    }
    // A listing that fails is a failed source, named like a failed repository.
    let listings = args
        .github_org
        .iter()
        .map(|org| {
            (
                format!("github org {org}"),
                source::forge::github_org_repositories(&args.github_api, org),
            )
        })
        .chain(args.gitlab_group.iter().map(|group| {
            (
                format!("gitlab group {group}"),
                source::forge::gitlab_group_repositories(&args.gitlab_api, group),
            )
        }));
    for (name, listed) in listings {
        match listed {
            Ok(urls) => {
                eprintln!("leakhound: audit: {name}: {} repositories", urls.len());
                entries.extend(urls);
            }
            Err(error) => {
                eprintln!("leakhound: audit: {name}: {}", sanitize(&error.to_string()));
                failed.push(name);
            }
        }
    }
    // The same repository listed twice (or in a list and an organisation) is scanned once.
    let mut seen = std::collections::HashSet::new();
    entries.retain(|entry| seen.insert(normalise(entry)));
    if entries.is_empty() && failed.is_empty() {
        bail!("no repositories to audit: the list and the listings are empty");
    }
    let selected: Vec<&str> = entries
        .iter()
        .map(String::as_str)
        .filter(|entry| shard.is_none_or(|(k, n)| shard_of(entry, n) == k - 1))
        .collect();
    let listing_failures = failed.len();
    // An auditor's run: built-in rules, or --config for all; a repository's own configuration
    // is not trusted to allowlist its own secrets.
    let plan = plan::build(&args.common, ConfigSource::Directory(None))?;
    let diagnostics = Diagnostics::new(false);
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary: Option<Summary> = None;
    let cache = super::clone_cache(args.clone_cache.as_deref());
    // Remote repositories are mirrored one ahead on another thread: repository i+1 is fetched
    // while repository i is scanned.
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let cache = &cache;
        let selected = &selected;
        scope.spawn(move || {
            for entry in selected {
                let fetched = if is_remote(entry) {
                    clone::mirror(entry, cache).map(Some)
                } else {
                    Ok(None)
                };
                if sender.send(fetched).is_err() {
                    return;
                }
            }
        });
        for entry in selected {
            let name = display_name(entry);
            let Ok(fetched) = receiver.recv() else {
                break;
            };
            let scanned = fetched.map_err(anyhow::Error::from).and_then(|mirror| {
                let result = scan_repository(entry, mirror.as_deref(), &args, &plan, &diagnostics);
                if let Some(mirror) = mirror.filter(|_| !args.keep_clone) {
                    let _ = std::fs::remove_dir_all(mirror);
                }
                result
            });
            match scanned {
                Ok((mut outcome, problem)) => {
                    scan::tag_repository(&mut outcome.findings, &name);
                    findings.append(&mut outcome.findings);
                    match summary.as_mut() {
                        Some(summary) => summary.absorb(&outcome.summary),
                        None => summary = Some(outcome.summary),
                    }
                    if let Some(problem) = problem {
                        eprintln!("leakhound: audit: {}: {problem}", sanitize(&name));
                        failed.push(name);
                    }
                }
                Err(error) => {
                    eprintln!("leakhound: audit: {}: {error:#}", sanitize(&name));
                    failed.push(name);
                }
            }
        }
    });
    let findings = scan::group_across_repositories(findings);
    let mut summary = summary.unwrap_or_default();
    summary.history = None;
    summary.findings = findings.len() as u64;
    summary.elapsed = started.elapsed();
    eprintln!(
        "leakhound: audit: {} of {} repositor{} scanned{}",
        selected.len() + listing_failures - failed.len(),
        selected.len(),
        if selected.len() == 1 { "y" } else { "ies" },
        if failed.is_empty() {
            String::new()
        } else {
            format!(
                "; {} failed: {}",
                failed.len(),
                failed
                    .iter()
                    .map(|name| sanitize(name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let status = emit(&args.common, ScanOutcome { findings, summary }, &plan)?.0;
    Ok(if failed.is_empty() {
        status
    } else {
        EXIT_ERROR
    })
}

/// Scans one listed repository; the second value names a problem that makes the repository
/// count as failed although its findings are reported (a partial clone with blobs missing).
fn scan_repository(
    entry: &str,
    mirror: Option<&std::path::Path>,
    args: &AuditArgs,
    plan: &Plan,
    diagnostics: &Diagnostics,
) -> Result<(ScanOutcome, Option<String>)> {
    let path = match mirror {
        Some(_) if args.tree => {
            bail!("--tree needs a work tree; a remote repository is mirrored without one");
        }
        Some(mirror) => mirror.to_path_buf(),
        None => PathBuf::from(entry),
    };
    if !path.is_dir() {
        bail!("no such directory");
    }
    if args.tree {
        let walk = source::fs::WalkOptions {
            path_prefix: String::new(),
            roots: vec![path],
            respect_ignore_files: true,
            threads: plan.threads,
            max_file_size: plan.max_file_size,
            admission: plan.admission,
            budget: plan.budget.clone(),
        };
        let outcome = scan::scan_source(&plan.matcher, &walk, &plan.settings, diagnostics);
        return Ok((outcome, None));
    }
    let options = source::git::HistoryOptions {
        repo: path,
        range: None,
        since: None,
        threads: plan.threads,
        max_file_size: plan.max_file_size,
        admission: plan.admission,
        budget: plan.budget.clone(),
    };
    let outcome = super::allocator::scan_history(plan, &options, diagnostics)?;
    let missing = outcome.summary.missing_objects;
    let partial = outcome
        .summary
        .history
        .as_ref()
        .is_some_and(|history| history.partial_clone);
    let problem = (partial && missing > 0 && !args.allow_missing).then(|| {
        format!("partial clone: {missing} blobs not present, so not scanned (--allow-missing)")
    });
    Ok((outcome, problem))
}

pub fn merge_command(args: MergeArgs) -> Result<i32> {
    let mut findings: Vec<Finding> = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // serde's messages can quote the offending value; say where, never what.
        let bad = |line: usize, error: serde_json::Error| {
            anyhow::anyhow!(
                "{}:{}: not a leakhound JSON finding ({:?} error at column {})",
                path.display(),
                line + error.line().saturating_sub(1),
                error.classify(),
                error.column()
            )
        };
        if text.trim_start().starts_with('[') {
            let list: Vec<Finding> = serde_json::from_str(&text).map_err(|error| bad(1, error))?;
            findings.extend(list);
        } else {
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                findings.push(serde_json::from_str(line).map_err(|error| bad(index + 1, error))?);
            }
        }
    }
    // Serialised findings lack UTF-16 columns; without them a SARIF column counts bytes.
    for finding in &mut findings {
        finding.column_utf16 = finding.column;
        for occurrence in &mut finding.occurrences {
            occurrence.column_utf16 = occurrence.column;
        }
    }
    let findings = scan::group_across_repositories(findings);
    let mut output = Output::open(args.output.as_deref())?;
    {
        let mut writer = BufWriter::new(output.writer());
        report::write_report(
            args.format,
            &findings,
            &report::RunNotes::default(),
            false,
            &mut writer,
        )
        .context("cannot write the report")?;
        writer.flush().context("cannot write the report")?;
    }
    output.finish()?;
    eprintln!(
        "leakhound: merged {} report{}: {} finding{}",
        args.reports.len(),
        if args.reports.len() == 1 { "" } else { "s" },
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    Ok(if findings.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

/// `K/N` with 1 <= K <= N.
fn parse_shard(text: &str) -> Result<(u64, u64)> {
    let parsed = text.split_once('/').and_then(|(k, n)| {
        let k: u64 = k.trim().parse().ok()?;
        let n: u64 = n.trim().parse().ok()?;
        (1..=n).contains(&k).then_some((k, n))
    });
    parsed.with_context(|| format!("invalid --shard {text:?}: expected K/N with 1 <= K <= N"))
}

/// Which of `n` shards (0-based) a repository belongs to: a hash of its normalised name, so
/// the split is the same on every machine whatever the order of the list.
fn shard_of(entry: &str, n: u64) -> u64 {
    let hash = blake3::hash(normalise(entry).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first) % n
}

/// A repository's name for sharding: credentials, a trailing `/` or `.git` and the scheme's and
/// host's case do not make it another repository.
fn normalise(entry: &str) -> String {
    let mut name = display_name(entry);
    if let Some((scheme, rest)) = name.split_once("://") {
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        name = format!(
            "{}://{}/{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase(),
            path
        );
    }
    let trimmed = name.trim_end_matches('/');
    trimmed.strip_suffix(".git").unwrap_or(trimmed).to_string()
}

/// What reports call a repository: the path as listed, or the URL without user information.
fn display_name(entry: &str) -> String {
    clone::without_credentials(entry)
}

fn sanitize(text: &str) -> String {
    crate::diagnostics::sanitize(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_normalise_for_sharding() {
        // Assembled at run time, so this source file holds no URL with a password.
        let with_password = ["https://user", ":hunter2x@", "github.com/org/repo.git"].concat();
        assert_eq!(
            display_name(&with_password),
            "https://github.com/org/repo.git"
        );
        assert_eq!(display_name("../local/repo"), "../local/repo");
        assert_eq!(
            normalise("HTTPS://GitHub.com/Org/Repo.git/"),
            normalise("https://token@github.com/Org/Repo")
        );
        assert!(is_remote("git@github.com:org/repo.git"));
        assert!(!is_remote("./repos/a"));
        assert_eq!(parse_shard("2/3").unwrap(), (2, 3));
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
    }
}
