//! The library's error types. Each carries the file, rule id or path it is about, so the CLI can
//! print one line a person can act on. None of them ever holds secret bytes.

use std::path::PathBuf;

/// Problems with rule files: built-in, `--rules` or configured ones.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(
        "{file}: rule file is {size} bytes, over the limit of {limit}: split it, or check that \
         it is the file you meant"
    )]
    TooLarge {
        file: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{file}: more than {limit} user rules in this run; leakhound loads at most {limit}")]
    TooMany { file: PathBuf, limit: usize },
    #[error("{file}: cannot read rule file: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: rule file does not parse: {message}")]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: rule `{rule_id}`: {problem}")]
    Invalid {
        file: PathBuf,
        rule_id: String,
        problem: String,
    },
    #[error("{path}: no rule files (*.toml) found")]
    EmptyDirectory { path: PathBuf },
}

/// Problems with the configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read config: {source}")]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: invalid config: {message}")]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: invalid value for `{key}`: {problem}")]
    InvalidValue {
        file: PathBuf,
        key: String,
        problem: String,
    },
}

/// Turns a byte offset into a 1-based (line, column) for error messages about TOML files.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

/// The matcher could not be built from an otherwise valid rule set.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the keyword automaton: {message}")]
pub struct MatcherBuildError {
    pub message: String,
}
