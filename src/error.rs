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
        problem: RuleProblem,
    },
    #[error("{path}: no rule files (*.toml) found")]
    EmptyDirectory { path: PathBuf },
}

/// Why a rule is refused: the sentence that follows `file: rule `id`: ` in the error.
#[derive(Debug, thiserror::Error)]
pub enum RuleProblem {
    /// A key is missing, empty or out of range.
    #[error("{0}")]
    Structure(String),
    #[error("regex does not compile: {source}")]
    Regex {
        #[source]
        source: regex::Error,
    },
    #[error("secret_must_contain entry {class:?}: {problem}")]
    ByteClass {
        class: String,
        problem: Box<RuleProblem>,
    },
    /// A problem inside a named part of the rule (`validate`, `revoke`).
    #[error("{block}: {problem}")]
    InBlock {
        block: &'static str,
        problem: Box<RuleProblem>,
    },
}

impl From<String> for RuleProblem {
    fn from(sentence: String) -> RuleProblem {
        RuleProblem::Structure(sentence)
    }
}

impl From<&str> for RuleProblem {
    fn from(sentence: &str) -> RuleProblem {
        RuleProblem::Structure(sentence.to_string())
    }
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

/// An error and its causes on one line, `outer: cause: cause`, leaving out a cause whose text
/// the line already holds: many errors (ours, gix's, std's wrappers) say their cause in their
/// own message and also return it from `source()`, and printing the chain whole said it twice.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        let text = current.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = current.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let read = RuleError::Read {
            file: PathBuf::from("r.toml"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(one_line(&read), "r.toml: cannot read rule file: gone");
        let wrapped = anyhow::Error::new(std::io::Error::other("disk on fire"))
            .context("cannot write the report");
        assert_eq!(
            one_line(wrapped.as_ref()),
            "cannot write the report: disk on fire"
        );
    }
}
