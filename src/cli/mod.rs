//! The command line: parses arguments, builds the objects the library needs once (config,
//! rules, matcher, allowlist), runs the command and maps the outcome to an exit status.
//! No scanning logic lives here.

pub mod args;
mod audit;
mod config_source;
mod gitleaks;
mod hook;
mod output;
mod revoke;
mod rules_cmd;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;

use crate::config::Config;
use crate::diagnostics::Diagnostics;
use crate::matcher::Matcher;
use crate::report;
use crate::rules::{self, LoadedRule};
use crate::scan::{self, ScanOutcome, ScanSettings};
use crate::source::{self, DEFAULT_MAX_FILE_SIZE};
use crate::suppress::baseline::{self, Baseline};
use crate::suppress::{Allowlist, SuppressReason};
use crate::validation::{self, ValidationStatus, Validators};

use args::{
    Cli, ColorChoice, Command, CommonArgs, FailOn, HistoryArgs, HookCommand, ScanArgs, StagedArgs,
};
use config_source::ConfigSource;
use output::Output;

/// Exit statuses, the same for every command (README.md, "Exit codes").
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Parses `std::env::args` and runs the command; `Ok` carries the exit status.
pub fn run() -> Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => scan_command(args),
        Command::History(args) => history_command(args),
        Command::Staged(args) => staged_command(args),
        Command::Hook(HookCommand::Install { force, repo }) => hook::install(&repo, force),
        Command::Hook(HookCommand::Uninstall { repo }) => hook::uninstall(&repo),
        Command::Rules(command) => rules_cmd::run(command),
        Command::Revoke(args) => revoke::run(args),
        Command::Audit(args) => audit::audit_command(args),
        Command::Merge(args) => audit::merge_command(args),
        Command::ImportGitleaks(args) => gitleaks::import_command(args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "leakhound", &mut std::io::stdout());
            Ok(EXIT_CLEAN)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command)
                .render(&mut std::io::stdout())
                .context("cannot write the manual page")?;
            Ok(EXIT_CLEAN)
        }
    }
}

fn scan_command(args: ScanArgs) -> Result<i32> {
    let read_stdin = args.paths.iter().any(|path| path.as_os_str() == "-");
    let roots: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|path| path.as_os_str() != "-")
        .cloned()
        .collect();
    for root in &roots {
        if let Err(error) = std::fs::symlink_metadata(root) {
            if error.kind() == std::io::ErrorKind::NotFound {
                bail!("{}: no such file or directory", root.display());
            }
            bail!("{}: {error}", root.display());
        }
    }
    // One directory: inside a git work tree, the work tree's configuration, with paths shown
    // from the work tree's top (so allowlist globs and code-scanning uploads agree whichever
    // directory is scanned); elsewhere its own. Files (the pre-commit files hook passes a
    // list, from the repository root): the current directory's.
    let in_repository = match roots.as_slice() {
        [root] if root.is_dir() => work_tree_place(root),
        _ => None,
    };
    let config_root = match (roots.as_slice(), &in_repository) {
        (_, Some((top, _))) => Some(top.as_path()),
        ([root], None) if root.is_dir() => Some(root.as_path()),
        ([], None) => None,
        _ => Some(std::path::Path::new(".")),
    };
    let prepared = prepare(&args.common, ConfigSource::Directory(config_root))?;
    let diagnostics = Diagnostics::new(false);
    let walk = source::fs::WalkOptions {
        path_prefix: in_repository
            .as_ref()
            .map(|(_, prefix)| prefix.clone())
            .unwrap_or_default(),
        roots,
        respect_ignore_files: !args.no_ignore,
        threads: prepared.threads,
        max_file_size: prepared.max_file_size,
        archives: prepared.archives,
    };
    let mut outcome = ScanOutcome {
        findings: Vec::new(),
        summary: Default::default(),
    };
    if read_stdin {
        outcome = scan::scan_stdin(
            &prepared.matcher,
            prepared.max_file_size,
            &prepared.settings,
            &diagnostics,
        );
    }
    if !walk.roots.is_empty() {
        let from_files =
            scan::scan_paths(&prepared.matcher, &walk, &prepared.settings, &diagnostics);
        outcome = merge(outcome, from_files, prepared.settings.show_secrets);
    }
    Ok(emit(&args.common, outcome, &prepared)?.0)
}

fn history_command(args: HistoryArgs) -> Result<i32> {
    let named = args.repo.to_string_lossy().into_owned();
    // A URL (not an existing path): mirrored into the clone cache first, removed afterwards
    // unless --keep-clone.
    let remote = source::git::clone::is_remote(&named) && !args.repo.exists();
    let mut _mirror_guard = None;
    let (repo_path, repository) = if remote {
        let shown = source::git::clone::without_credentials(&named);
        let cache = clone_cache(args.clone_cache.as_deref());
        let path = source::git::clone::mirror(&named, &cache)
            .with_context(|| crate::diagnostics::sanitize(&shown))?;
        if !args.keep_clone {
            _mirror_guard = Some(RemoveOnDrop(path.clone()));
        }
        (path, Some(shown))
    } else {
        if !args.repo.exists() {
            bail!("{}: no such file or directory", args.repo.display());
        }
        (args.repo.clone(), None)
    };
    let since = match &args.since {
        Some(text) => Some(source::git::parse_since(text).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let diagnostics = Diagnostics::new(false);
    let config = if args.common.config.is_some() || remote {
        ConfigSource::Directory(None)
    } else {
        config_source::for_history(
            &args.repo,
            args.range.as_deref(),
            args.config_from.as_deref(),
            &diagnostics,
        )?
    };
    let mut prepared = prepare(&args.common, config)?;
    prepared.settings.novelty = !args.full_blob_scan;
    let options = source::git::HistoryOptions {
        repo: repo_path,
        range: args.range.clone(),
        since,
        threads: prepared.threads,
        max_file_size: prepared.max_file_size,
        archives: prepared.archives,
    };
    let mut outcome = scan::scan_history(
        &prepared.matcher,
        &options,
        &prepared.settings,
        &diagnostics,
    )?;
    if let Some(repository) = &repository {
        scan::tag_repository(&mut outcome.findings, repository);
    }
    let partial_clone = outcome
        .summary
        .history
        .as_ref()
        .is_some_and(|history| history.partial_clone);
    let missing = outcome.summary.missing_objects;
    let status = emit(&args.common, outcome, &prepared)?.0;
    if partial_clone && missing > 0 {
        let what = format!(
            "partial clone: {missing} blob{} not present, so not scanned",
            if missing == 1 { " is" } else { "s are" }
        );
        if !args.allow_missing {
            bail!(
                "{what}; fetch them (`git fetch --refetch`, or a full clone) and rerun, or pass \
                 --allow-missing to accept a partial scan"
            );
        }
        eprintln!("leakhound: warning: {what} (--allow-missing)");
    }
    Ok(status)
}

/// The top of the git work tree holding `dir` and `dir`'s place in it (`pkg/api/`, empty at the
/// top), found by looking upward for `.git`; `None` outside a work tree.
fn work_tree_place(dir: &std::path::Path) -> Option<(PathBuf, String)> {
    let absolute = dir.canonicalize().ok()?;
    let top = absolute
        .ancestors()
        .find(|candidate| candidate.join(".git").exists())?
        .to_path_buf();
    let relative = absolute.strip_prefix(&top).ok()?;
    let mut prefix: String = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if !prefix.is_empty() {
        prefix.push('/');
    }
    Some((top, prefix))
}

/// Removes a directory (a mirror made for one run) when dropped, on success or error alike.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--clone-cache`, else `$XDG_CACHE_HOME/leakhound/clones`, else `~/.cache/leakhound/clones`,
/// else the system's temporary directory.
pub(crate) fn clone_cache(chosen: Option<&std::path::Path>) -> PathBuf {
    if let Some(chosen) = chosen {
        return chosen.to_path_buf();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("leakhound").join("clones")
}

fn staged_command(args: StagedArgs) -> Result<i32> {
    if !args.repo.exists() {
        bail!("{}: no such file or directory", args.repo.display());
    }
    let diagnostics = Diagnostics::new(false);
    let config = if args.common.config.is_some() {
        ConfigSource::Directory(None)
    } else {
        config_source::for_staged(&args.repo, args.config_from.as_deref(), &diagnostics)?
    };
    let prepared = prepare(&args.common, config)?;
    let outcome = scan::scan_staged(
        &prepared.matcher,
        &args.repo,
        prepared.max_file_size,
        &prepared.settings,
        &diagnostics,
    )?;
    let (status, reported) = emit(&args.common, outcome, &prepared)?;
    if status == EXIT_FINDINGS && reported > 0 {
        eprintln!(
            "leakhound: commit blocked: the staged change adds {} secret{}.\n\
             \x20 Remove {} from the staged files (and rotate {} if {} ever left this machine), then \
             `git add` again.\n\
             \x20 A false positive? Add a `leakhound:allow` comment on its line, or list its path \
             under [allowlist] paths in .leakhound.toml.\n\
             \x20 To skip the check for this one commit: {}",
            reported,
            if reported == 1 { "" } else { "s" },
            if reported == 1 { "it" } else { "them" },
            if reported == 1 { "it" } else { "them" },
            if reported == 1 { "it" } else { "they" },
            // Under the pre-commit framework, --no-verify would skip every other hook too.
            if std::env::var_os("PRE_COMMIT").is_some() {
                "SKIP=leakhound git commit"
            } else {
                "git commit --no-verify"
            },
        );
    }
    Ok(status)
}

/// Combines a stdin scan with a file scan into one report (each part's secrets masked in the
/// other's snippets too).
fn merge(first: ScanOutcome, second: ScanOutcome, show_secrets: bool) -> ScanOutcome {
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
    let mut findings = scan::group_by_credential(all);
    crate::redact::redact_findings(&mut findings, show_secrets);
    summary.findings = findings.len() as u64;
    ScanOutcome { findings, summary }
}

/// Everything built once from the arguments and config before any byte is read.
struct Prepared {
    matcher: Matcher,
    /// Each rule's validator, filled only with --validate.
    validators: Validators,
    archives: Option<source::archive::Limits>,
    baseline: Option<Baseline>,
    settings: ScanSettings,
    threads: usize,
    max_file_size: u64,
}

fn prepare(common: &CommonArgs, config: ConfigSource<'_>) -> Result<Prepared> {
    crate::finding::init_fingerprint_key()?;
    if let (Some(report), Some(baseline_file)) = (&common.output, &common.write_baseline) {
        if output::resolve_destination(report)? == output::resolve_destination(baseline_file)? {
            bail!(
                "--output and --write-baseline both name {}: the baseline would overwrite the \
                 report",
                report.display()
            );
        }
    }
    // A configuration read from a revision names rule files as of that revision: they are read
    // from the same tree, so a change under review cannot swap a base rule file in the work
    // tree either.
    let revision = match (&common.config, &config) {
        (None, ConfigSource::Revision { at, .. }) => Some(at.clone()),
        _ => None,
    };
    let config = match &common.config {
        Some(file) => Config::load(file)?,
        None => config.load()?,
    };
    let mut loaded = rules::load_builtin().context("built-in rules")?;
    let mut user_rules: Vec<LoadedRule> = Vec::new();
    if let Some((repo, at)) = &revision {
        for relative in &config.rules {
            if relative.is_absolute() {
                user_rules.extend(rules::load_path(relative)?);
                continue;
            }
            let name = relative.to_string_lossy().replace('\\', "/");
            let files =
                source::git::toml_files_at_revision(repo, at, &name)?.with_context(|| {
                    format!("rules = [{name:?}]: no such file or directory at {at}")
                })?;
            let named: Vec<(PathBuf, Vec<u8>)> = files
                .into_iter()
                .map(|(path, bytes)| (PathBuf::from(format!("{path} (at {at})")), bytes))
                .collect();
            user_rules.extend(rules::loader::load_texts(&named)?);
        }
    }
    let from_disk: Vec<PathBuf> = if revision.is_some() {
        Vec::new()
    } else {
        config.rule_paths()
    };
    for path in from_disk.iter().chain(common.rules.iter()) {
        user_rules.extend(rules::load_path(path)?);
        if user_rules.len() > rules::loader::MAX_USER_RULES {
            bail!(
                "{}: more than {} user rules in this run; leakhound loads at most {}",
                path.display(),
                rules::loader::MAX_USER_RULES,
                rules::loader::MAX_USER_RULES
            );
        }
    }
    if !user_rules.is_empty() {
        let failures = crate::matcher::examples::check_examples(&user_rules);
        if let Some(first) = failures.first() {
            bail!("{first}");
        }
        loaded.extend(user_rules);
    }
    rules::loader::ensure_unique_ids(&loaded)?;
    for (rule_id, floor) in &config.entropy {
        let Some(rule) = loaded.iter_mut().find(|rule| &rule.spec.id == rule_id) else {
            bail!(
                "{}: invalid value for `entropy.{rule_id}`: no rule has this id",
                config_origin(&config)
            );
        };
        rule.spec.entropy = Some(*floor);
    }
    for rule_id in common.only_rules.iter().chain(&common.exclude_rules) {
        if !loaded.iter().any(|rule| &rule.spec.id == rule_id) {
            bail!("no rule has the id `{rule_id}` (see `leakhound rules list`)");
        }
    }
    if !common.only_rules.is_empty() {
        loaded.retain(|rule| common.only_rules.contains(&rule.spec.id));
    }
    loaded.retain(|rule| !common.exclude_rules.contains(&rule.spec.id));
    for rule_id in &config.disabled_rules {
        if !loaded.iter().any(|rule| &rule.spec.id == rule_id) {
            bail!(
                "{}: invalid value for `disabled_rules`: no rule has the id `{rule_id}`",
                config_origin(&config)
            );
        }
    }
    // A disabled rule is not compiled in: left in, it would win overlaps against enabled rules
    // matching the same bytes and then be suppressed, hiding what they found. With
    // --no-suppress it stays, so its findings show.
    let before = loaded.len();
    if !common.no_suppress {
        loaded.retain(|rule| !config.disabled_rules.contains(&rule.spec.id));
    }
    let disabled_rules = before - loaded.len();
    if common.fail_on == FailOn::Live && !common.validate {
        bail!("--fail-on live needs --validate: without it no finding is known to be live");
    }
    let validators: Validators = if common.validate {
        loaded
            .iter()
            .filter_map(|rule| {
                let check = rule.spec.validate.clone()?;
                Some((rule.spec.id.clone(), Arc::new(check)))
            })
            .collect()
    } else {
        Validators::new()
    };
    let matcher = Matcher::new(loaded.into_iter().map(|rule| rule.spec).collect())?;
    let mut config = config;
    for glob in &common.exclude_paths {
        if let Err(error) = globset::Glob::new(glob) {
            bail!("--exclude {glob:?} is not a valid glob: {}", error.kind());
        }
        config.allowlist.paths.push(glob.clone());
    }
    let allowlist = Allowlist::from_config(&config)
        .map_err(|problem| anyhow::anyhow!("{}: {problem}", config_origin(&config)))?;
    let threads = common.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let baseline = match &common.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let max_file_size = common
        .max_file_size
        .or(config.max_file_size)
        .unwrap_or(DEFAULT_MAX_FILE_SIZE);
    Ok(Prepared {
        matcher,
        validators,
        archives: (!common.no_archives).then(|| source::archive::Limits {
            max_depth: usize::from(common.archive_depth),
            ..source::archive::Limits::with_max_entry(max_file_size)
        }),
        baseline,
        settings: ScanSettings {
            show_secrets: common.show_secrets,
            min_severity: common.min_severity,
            min_confidence: common.min_confidence.map(Into::into),
            no_suppress: common.no_suppress,
            allowlist,
            progress: !common.no_progress,
            archives: !common.no_archives,
            disabled_rules,
            decode_depth: if common.no_decode {
                0
            } else {
                usize::from(common.decode_depth)
            },
            novelty: true,
        },
        threads,
        max_file_size: common
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
    })
}

/// The validation stage: asks providers about the findings about to be reported, warns in one
/// line about hosts it could not reach, and applies --only-live.
fn validate(
    common: &CommonArgs,
    outcome: &mut ScanOutcome,
    validators: &Validators,
) -> Result<validation::StageReport> {
    let endpoints = validation::Endpoints::for_this_build().map_err(anyhow::Error::msg)?;
    let engine = validation::Engine::new(
        validation::EngineOptions {
            timeout: Duration::from_secs(u64::from(common.validate_timeout)),
            ..Default::default()
        },
        endpoints,
    );
    let report = validation::validate_findings(&mut outcome.findings, validators, &engine);
    if !report.hosts.unreachable.is_empty() {
        eprintln!(
            "leakhound: warning: validation could not reach {} (network unavailable or \
             blocked); findings for {} are `unknown`",
            report.hosts.unreachable.join(", "),
            if report.hosts.unreachable.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
    }
    if common.only_live {
        outcome.findings.retain(|finding| {
            finding
                .validation
                .as_ref()
                .is_some_and(|validation| validation.status == ValidationStatus::Live)
        });
        outcome.summary.findings = outcome.findings.len() as u64;
    }
    Ok(report)
}

fn config_origin(config: &Config) -> String {
    config
        .origin
        .as_deref()
        .map_or_else(|| "config".to_string(), |path| path.display().to_string())
}

/// Writes the report, the baseline if asked, and the summary; returns the exit status and the
/// number of findings reported.
fn emit(
    common: &CommonArgs,
    mut outcome: ScanOutcome,
    prepared: &Prepared,
) -> Result<(i32, usize)> {
    let mut stale = Vec::new();
    if let Some(baseline) = &prepared.baseline {
        let applied = baseline.apply(std::mem::take(&mut outcome.findings));
        outcome.findings = applied.kept;
        if applied.suppressed > 0 {
            *outcome
                .summary
                .suppressed
                .entry(SuppressReason::Baseline)
                .or_default() += applied.suppressed;
        }
        outcome.summary.findings = outcome.findings.len() as u64;
        outcome.summary.stale_baseline_entries = applied.stale.len() as u64;
        stale = applied.stale;
    }
    let validated = if common.validate {
        Some(validate(common, &mut outcome, &prepared.validators)?)
    } else {
        None
    };
    let mut output = Output::open(common.output.as_deref())?;
    let colour = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => output.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // --quiet on a clean run: no human report at all (machine formats still write their empty
    // document, which consumers parse).
    let skip_report =
        common.quiet && outcome.findings.is_empty() && common.format == report::Format::Human;
    if skip_report {
        if let Some(what) = outcome.summary.incomplete() {
            eprintln!("leakhound: scan incomplete: not scanned: {what}");
        }
    } else {
        let mut writer = BufWriter::new(output.writer());
        let notes = report::RunNotes {
            incomplete: outcome.summary.incomplete(),
        };
        report::write_report(
            common.format,
            &outcome.findings,
            &notes,
            colour,
            &mut writer,
        )
        .context("cannot write the report")?;
        writer.flush().context("cannot write the report")?;
    }
    output.finish()?;
    if let Some(path) = &common.write_baseline {
        let file = baseline::build(&outcome.findings);
        let mut target = Output::open(Some(path))?;
        serde_json::to_writer_pretty(target.writer(), &file)
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        target.writer().write_all(b"\n")?;
        target.finish()?;
        eprintln!(
            "leakhound: wrote baseline {} with {} entr{}",
            path.display(),
            file.entries.len(),
            if file.entries.len() == 1 { "y" } else { "ies" }
        );
    }
    let mut stderr = std::io::stderr().lock();
    for entry in &stale {
        let _ = writeln!(
            stderr,
            "leakhound: stale baseline entry: {} (was at {}:{}) matches nothing any more",
            entry.rule_id,
            crate::diagnostics::sanitize(&entry.path),
            entry.line
        );
    }
    let summary = outcome.summary.line();
    let dim = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    if common.quiet {
        // --quiet: the report is the only output (warnings were printed as they happened).
    } else if dim {
        let _ = writeln!(stderr, "\x1b[2mleakhound: {summary}\x1b[0m");
    } else {
        let _ = writeln!(stderr, "leakhound: {summary}");
    }
    if let Some(report) = validated.as_ref().filter(|_| !common.quiet) {
        let _ = writeln!(
            stderr,
            "leakhound: validation: {} live, {} invalid, {} unknown ({} request{})",
            report.live,
            report.invalid,
            report.unknown,
            report.hosts.requests,
            if report.hosts.requests == 1 { "" } else { "s" }
        );
    }
    let fails = match common.fail_on {
        FailOn::Any => !outcome.findings.is_empty(),
        FailOn::Live => outcome.findings.iter().any(|finding| {
            finding
                .validation
                .as_ref()
                .is_some_and(|validation| validation.status == ValidationStatus::Live)
        }),
    };
    let incomplete = outcome.summary.incomplete();
    let status = if common.write_baseline.is_some() {
        EXIT_CLEAN
    } else if let Some(what) = incomplete.filter(|_| common.fail_on_incomplete) {
        let _ = writeln!(
            stderr,
            "leakhound: error: the scan is incomplete (not scanned: {what}); exiting 2 because of \
             --fail-on-incomplete"
        );
        EXIT_ERROR
    } else if fails || (common.fail_on_stale && !stale.is_empty()) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    Ok((status, outcome.findings.len()))
}
