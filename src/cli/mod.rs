//! The command line: parses arguments, builds the objects the library needs once (config,
//! rules, matcher, allowlist), runs the command and maps the outcome to an exit status.
//! No scanning logic lives here.

mod allocator;
pub mod args;
mod audit;
mod config_source;
mod emit;
mod gitleaks;
mod hook;
mod output;
mod plan;
mod revoke;
mod rules_cmd;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;

use crate::diagnostics::Diagnostics;
use crate::scan::{self, ScanOutcome};
use crate::source;

use args::{Cli, Command, HistoryArgs, HookCommand, ScanArgs, StagedArgs};
use config_source::ConfigSource;
use emit::emit;

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
    let plan = plan::build(&args.common, ConfigSource::Directory(config_root))?;
    let diagnostics = Diagnostics::new(false);
    let walk = source::fs::WalkOptions {
        path_prefix: in_repository
            .as_ref()
            .map(|(_, prefix)| prefix.clone())
            .unwrap_or_default(),
        roots,
        respect_ignore_files: !args.no_ignore,
        threads: plan.threads,
        max_file_size: plan.max_file_size,
        admission: plan.admission,
        budget: plan.budget.clone(),
    };
    let mut outcome = ScanOutcome {
        findings: Vec::new(),
        summary: Default::default(),
    };
    if read_stdin {
        let stdin = source::stdin::Stdin {
            max_size: plan.max_file_size,
            admission: plan.admission,
        };
        outcome = scan::scan_source(&plan.matcher, &stdin, &plan.settings, &diagnostics);
    }
    if !walk.roots.is_empty() {
        let from_files = scan::scan_source(&plan.matcher, &walk, &plan.settings, &diagnostics);
        outcome = scan::combine(outcome, from_files);
    }
    Ok(emit(&args.common, outcome, &plan)?.0)
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
    let mut plan = plan::build(&args.common, config)?;
    plan.settings.novelty = !args.full_blob_scan;
    let options = source::git::HistoryOptions {
        repo: repo_path,
        range: args.range.clone(),
        since,
        threads: plan.threads,
        max_file_size: plan.max_file_size,
        admission: plan.admission,
        budget: plan.budget.clone(),
    };
    let mut outcome = allocator::scan_history(&plan, &options, &diagnostics)?;
    if let Some(repository) = &repository {
        scan::tag_repository(&mut outcome.findings, repository);
    }
    let partial_clone = outcome
        .summary
        .history
        .as_ref()
        .is_some_and(|history| history.partial_clone);
    let missing = outcome.summary.missing_objects;
    let status = emit(&args.common, outcome, &plan)?.0;
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
    let plan = plan::build(&args.common, config)?;
    let outcome = scan::scan_staged(
        &plan.matcher,
        &args.repo,
        plan.max_file_size,
        plan.admission,
        &plan.settings,
        &diagnostics,
    )?;
    let (status, reported) = emit(&args.common, outcome, &plan)?;
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
