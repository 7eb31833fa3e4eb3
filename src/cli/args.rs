//! Command-line arguments exactly as typed: plain data, validated by clap, no side effects.
//! `cli::mod` turns them into the objects the library needs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;
use crate::rules::model::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "leakhound",
    version = concat!(
        env!("CARGO_PKG_VERSION"),
        " (",
        env!("LEAKHOUND_RULE_COUNT"),
        " built-in rules, ",
        env!("LEAKHOUND_VALIDATOR_COUNT"),
        " with a live validator)"
    ),
    about = "Find hardcoded credentials in files, staged changes and git history",
    long_about = "Find hardcoded credentials in files, staged changes and git history.\n\n\
Exit status: 0 nothing found, 1 findings reported, 2 an error (bad arguments, unreadable \
config, a rule that does not compile). Warnings (unreadable files, skipped content) go to \
stderr and do not change the exit status."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories on disk ("-" reads standard input).
    Scan(ScanArgs),
    /// Scan every blob in a repository's git history, reachable from any ref.
    #[command(
        long_about = "Scan every blob in a repository's git history: everything reachable \
from every ref (local and remote branches, tags, the stash, HEAD, detached or not), including \
files later deleted, renamed or only present on a side branch. Each distinct blob is scanned \
once; each credential is reported once, attributed to the commit that first introduced it, \
with every later introduction in `occurrences` and a status: `present` (still in HEAD) or \
`removed` (history only).\n\nOut of scope: commits unreachable from any ref (dangling \
objects, stash entries older than the newest, which live only in the reflog) and submodule \
histories (submodule entries are counted, not entered)."
    )]
    History(HistoryArgs),
    /// Scan only the lines the staged change adds (the index against HEAD): the pre-commit check.
    Staged(StagedArgs),
    /// Install or remove the git pre-commit hook that runs `leakhound staged`.
    #[command(subcommand)]
    Hook(HookCommand),
    /// List, show and check detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Revoke a leaked credential through its provider's own API (rules with a revocation;
    /// `rules list` shows which). Takes the secret from standard input (a raw secret with
    /// --rule, or one JSON finding from a report made with --show-secrets), or a finding by
    /// fingerprint from such a report. Asks before revoking unless --yes.
    Revoke(RevokeArgs),
    /// Scan many repositories into one report: the history (or, with --tree, the work tree) of
    /// each repository listed in --repos, one line each. The same credential in several
    /// repositories is one finding with its occurrences across them. A repository that cannot
    /// be scanned is named and counted, the others are still reported, and the exit status is 2.
    /// --shard K/N takes a stable share of the list, to fan an audit out over N machines;
    /// `leakhound merge` combines their JSONL reports.
    Audit(AuditArgs),
    /// Combine JSON or JSONL reports of `audit --shard` runs into one report, grouped by
    /// fingerprint exactly as one audit run groups them.
    Merge(MergeArgs),
    /// Turn a gitleaks setup into leakhound's: the allowlists of .gitleaks.toml become an
    /// [allowlist] section for .leakhound.toml (printed), and the findings .gitleaksignore names
    /// (matched by path, line and commit) a leakhound baseline (--write-baseline-to FILE).
    ImportGitleaks(ImportGitleaksArgs),
    /// Print a shell completion script: `leakhound completions bash > /etc/bash_completion.d/leakhound`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `leakhound man > leakhound.1 && man ./leakhound.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// File listing the repositories to scan, one a line: a local path or a URL (https, ssh,
    /// git://, file://), `#` starting a comment.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["github_org", "gitlab_group"])]
    pub repos: Option<PathBuf>,

    /// Every repository of this GitHub organisation (repeatable; token from
    /// LEAKHOUND_GITHUB_TOKEN or GITHUB_TOKEN).
    #[arg(long, value_name = "ORG")]
    pub github_org: Vec<String>,

    /// Every project of this GitLab group and its subgroups (repeatable; token from
    /// LEAKHOUND_GITLAB_TOKEN or GITLAB_TOKEN).
    #[arg(long, value_name = "GROUP")]
    pub gitlab_group: Vec<String>,

    /// GitHub API base, for GitHub Enterprise Server (https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub github_api: String,

    /// GitLab API base, for a self-managed instance (https://HOST/api/v4).
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com/api/v4")]
    pub gitlab_api: String,

    /// Scan each repository's work tree instead of its history.
    #[arg(long)]
    pub tree: bool,

    /// Scan only share K of N (1 <= K <= N) of the repositories, chosen by a hash of each
    /// repository's normalised name: the same on every machine and every run.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// History: scan the blobs a partial clone has and go on (see `history --allow-missing`).
    #[arg(long)]
    pub allow_missing: bool,

    /// Keep the mirrors of remote repositories in the clone cache (see `history --keep-clone`).
    #[arg(long)]
    pub keep_clone: bool,

    /// Where mirrors of remote repositories go (see `history --clone-cache`).
    #[arg(long, value_name = "DIR")]
    pub clone_cache: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ImportGitleaksArgs {
    /// The repository or directory holding .gitleaks.toml and .gitleaksignore.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// The gitleaks configuration (default: PATH/.gitleaks.toml, if present).
    #[arg(long, value_name = "FILE")]
    pub gitleaks_config: Option<PathBuf>,

    /// The gitleaks ignore file (default: PATH/.gitleaksignore, if present).
    #[arg(long, value_name = "FILE")]
    pub gitleaksignore: Option<PathBuf>,

    /// Write the findings .gitleaksignore names as a leakhound baseline to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_baseline_to: Option<PathBuf>,

    /// Match .gitleaksignore entries against a history scan (entries with a commit are history
    /// findings) instead of a scan of the files on disk.
    #[arg(long)]
    pub history: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `audit --format jsonl` (or json).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The rule that finds the secret given on standard input.
    #[arg(long, value_name = "RULE_ID", conflicts_with = "report")]
    pub rule: Option<String>,

    /// A json or jsonl report written with --show-secrets to take the finding from.
    #[arg(long, value_name = "FILE", requires = "fingerprint")]
    pub report: Option<PathBuf>,

    /// The fingerprint of the finding in --report to revoke.
    #[arg(long, value_name = "FINGERPRINT", requires = "report")]
    pub fingerprint: Option<String>,

    /// Revoke without asking.
    #[arg(long)]
    pub yes: bool,

    /// Seconds to wait for the provider's answer.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=300))]
    pub timeout: u16,

    /// Include rules from this file or directory too (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; "-" reads standard input. Default: the current directory.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Also scan files excluded by .gitignore, .ignore and git's exclude files.
    #[arg(long)]
    pub no_ignore: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The repository: its work tree, its .git directory, a bare repository, or a URL (https,
    /// ssh, git://, file://; mirrored into the clone cache first, credentials from git's
    /// credential helpers or LEAKHOUND_GIT_TOKEN, never from the command line).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Only blobs introduced by commits in this revision range, e.g. origin/main..HEAD.
    #[arg(long, value_name = "REVSPEC")]
    pub range: Option<String>,

    /// Only commits made at or after DATE (YYYY-MM-DD, RFC 3339, epoch seconds, "2 weeks ago").
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Read .leakhound.toml from this revision (default with --range: the range's base, so a
    /// change under review cannot allowlist its own secret).
    #[arg(long, value_name = "REV", conflicts_with = "config")]
    pub config_from: Option<String>,

    /// In a partial clone, scan the blobs that are present and exit as usual instead of 2
    /// (the missing ones are still counted and the scan is marked incomplete).
    #[arg(long)]
    pub allow_missing: bool,

    /// REPO given as a URL: keep the mirror in the clone cache (the next run fetches into it
    /// instead of cloning again). Without it the mirror is removed at the end.
    #[arg(long)]
    pub keep_clone: bool,

    /// Where mirrors of remote repositories go (default: $XDG_CACHE_HOME/leakhound/clones or
    /// ~/.cache/leakhound/clones).
    #[arg(long, value_name = "DIR")]
    pub clone_cache: Option<PathBuf>,

    /// Match every version of every file whole instead of only what each version changed
    /// (the reference the differential check in benches/novelty_diff.sh compares against).
    #[arg(long, hide = true)]
    pub full_blob_scan: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    /// A directory inside the repository (GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE are honoured).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    /// Read .leakhound.toml from this revision (default: HEAD, so a staged change cannot
    /// allowlist its own secret).
    #[arg(long, value_name = "REV", conflicts_with = "config")]
    pub config_from: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write .git/hooks/pre-commit (or into core.hooksPath) running `leakhound staged`.
    Install {
        /// Replace an existing pre-commit hook that leakhound did not write.
        #[arg(long)]
        force: bool,
        /// A directory inside the repository.
        #[arg(value_name = "REPO", default_value = ".")]
        repo: PathBuf,
    },
    /// Remove the pre-commit hook, if leakhound wrote it.
    Uninstall {
        /// A directory inside the repository.
        #[arg(value_name = "REPO", default_value = ".")]
        repo: PathBuf,
    },
}

/// Options every scanning command shares.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output (a regular file is replaced
    /// atomically; a device or FIFO is written as it is).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Configuration file (default: .leakhound.toml in the scanned directory, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Extra rule file or directory of *.toml rule files (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,

    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,

    /// Worker threads (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Skip files (and blobs) larger than this many bytes [default: 104857600, 100 MiB].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_size: Option<u64>,

    /// Bound on the bytes of large files (1 MiB and up) all threads hold at once; a thread waits
    /// for room rather than read past it. Plain bytes or with K, M, G (KiB, MiB, GiB)
    /// [default: a quarter of physical memory].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub memory_budget: Option<u64>,

    /// Never draw a progress indicator.
    #[arg(long)]
    pub no_progress: bool,

    /// Report only findings of at least this severity (low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    pub min_severity: Option<Severity>,

    /// Report only findings of this confidence and above: low, medium or high (`high` leaves
    /// out the generic, entropy-only rules).
    #[arg(long, value_name = "LEVEL", value_enum)]
    pub min_confidence: Option<ConfidenceLevel>,

    /// Run only this rule (repeatable); the others are not compiled in.
    #[arg(long = "rule", value_name = "RULE_ID")]
    pub only_rules: Vec<String>,

    /// Do not run this rule (repeatable), like `disabled_rules` in the config.
    #[arg(long = "exclude-rule", value_name = "RULE_ID")]
    pub exclude_rules: Vec<String>,

    /// Leave out findings in paths matching this glob (repeatable), like `[allowlist] paths`
    /// in the config.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude_paths: Vec<String>,

    /// Print nothing on a clean run and only the report otherwise (no summary line; warnings
    /// and incomplete-scan notices still go to stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Colour in the human report and summary: auto (when writing to a terminal and NO_COLOR
    /// is unset), always or never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Skip binary files instead of reading their printable runs (as `strings` does) for
    /// secrets compiled or stored in them.
    #[arg(long)]
    pub no_binary: bool,

    /// Do not open archives (zip, jar, tar, tar.gz, gz, ...); they are then binary content.
    #[arg(long)]
    pub no_archives: bool,

    /// Levels of archives inside archives to open (1: only the archive's own entries).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub archive_depth: u8,

    /// Do not look inside base64, hex, percent-encoded or escaped text.
    #[arg(long)]
    pub no_decode: bool,

    /// Layers of encoding to look through (base64 inside hex counts 2).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=8))]
    pub decode_depth: u8,

    /// Report findings that inline markers or allowlists would hide.
    #[arg(long)]
    pub no_suppress: bool,

    /// Report only findings not in this baseline (written by --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the current findings' fingerprints to FILE as a baseline and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Exit 1 when the baseline has entries that match nothing any more.
    #[arg(long, requires = "baseline")]
    pub fail_on_stale: bool,

    /// Exit 2 when anything in scope was not scanned (a file over the size limit, an unreadable
    /// file or missing object, archive entries past a limit): a gate should not pass on a
    /// partial scan.
    #[arg(long)]
    pub fail_on_incomplete: bool,

    /// Ask each credential's provider whether it still works (rules with a validator; see
    /// `rules list`). Sends the secret only to the hosts its rule lists, over HTTPS. Off by
    /// default; a machine without network gets `unknown` for each, and the same exit status.
    #[arg(long)]
    pub validate: bool,

    /// Seconds to wait for one provider's answer (--validate).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=300), requires = "validate")]
    pub validate_timeout: u16,

    /// Report only findings their provider confirmed as live (--validate).
    #[arg(long, requires = "validate")]
    pub only_live: bool,

    /// Which findings make the exit status 1: any finding (the default), or only those
    /// confirmed live (needs --validate).
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfidenceLevel {
    Low,
    Medium,
    High,
}

impl From<ConfidenceLevel> for crate::rules::Confidence {
    fn from(level: ConfidenceLevel) -> Self {
        match level {
            ConfidenceLevel::Low => crate::rules::Confidence::Low,
            ConfidenceLevel::Medium => crate::rules::Confidence::Medium,
            ConfidenceLevel::High => crate::rules::Confidence::High,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Any,
    Live,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule (id, provider, severity, confidence).
    List {
        /// human (a table) or json.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Include rules from this file or directory too (repeatable).
        #[arg(long = "rules", value_name = "FILE|DIR")]
        rules: Vec<PathBuf>,
    },
    /// Show everything about one rule.
    Show {
        /// The rule id.
        id: String,
        /// Include rules from this file or directory too (repeatable).
        #[arg(long = "rules", value_name = "FILE|DIR")]
        rules: Vec<PathBuf>,
    },
    /// Validate rule files: syntax, regexes, examples and negative examples.
    /// Exit status 1 when an example misbehaves, 2 when a file does not load.
    Check {
        /// Rule files or directories.
        #[arg(required = true, value_name = "FILE|DIR")]
        files: Vec<PathBuf>,
    },
    /// Rewrite rule files in canonical form: keys in the documented order (comments move with
    /// their key), ids and levels as basic strings, regexes as literal strings.
    Fmt {
        /// Rule files or directories (their `*.toml` files).
        #[arg(required = true, value_name = "FILE|DIR")]
        files: Vec<PathBuf>,
        /// Change nothing; list the files not in canonical form and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// `4096`, `512K`, `64M`, `2G` (also `KiB`, `MiB`, `GiB`, `KB`...; powers of 1024), at least 1 MiB.
fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 536870912, 512M, 2G)"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if bytes < 1 << 20 {
        return Err(format!("{text:?} is below the 1 MiB minimum"));
    }
    Ok(bytes)
}
