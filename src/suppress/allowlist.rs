//! The config's allowlists, compiled once: path globs, secret regexes, stopwords, commits and
//! disabled rules.

use std::collections::HashSet;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::RegexSet;

use super::SuppressReason;
use crate::config::Config;

/// An allowlist entry that does not compile (`Config::check` catches these first, naming the
/// entry's index; this is the backstop).
#[derive(Debug, thiserror::Error)]
pub enum AllowlistError {
    #[error("allowlist.paths: {source}")]
    PathGlob {
        #[source]
        source: globset::Error,
    },
    #[error("allowlist.{key}: {source}")]
    Regex {
        key: &'static str,
        #[source]
        source: regex::Error,
    },
}

#[derive(Debug)]
pub struct Allowlist {
    paths: GlobSet,
    path_patterns: RegexSet,
    secret_patterns: RegexSet,
    stopwords: Vec<Vec<u8>>,
    commits: Vec<String>,
    disabled_rules: HashSet<String>,
}

impl Default for Allowlist {
    fn default() -> Self {
        Allowlist {
            paths: GlobSet::empty(),
            path_patterns: RegexSet::empty(),
            secret_patterns: RegexSet::empty(),
            stopwords: Vec::new(),
            commits: Vec::new(),
            disabled_rules: HashSet::new(),
        }
    }
}

impl Allowlist {
    /// Builds from a config whose values `Config::check` already validated.
    pub fn from_config(config: &Config) -> Result<Allowlist, AllowlistError> {
        let glob_error = |source| AllowlistError::PathGlob { source };
        let mut paths = GlobSetBuilder::new();
        for pattern in &config.allowlist.paths {
            paths.add(Glob::new(pattern).map_err(glob_error)?);
        }
        Ok(Allowlist {
            paths: paths.build().map_err(glob_error)?,
            path_patterns: RegexSet::new(&config.allowlist.path_regexes).map_err(|source| {
                AllowlistError::Regex {
                    key: "path_regexes",
                    source,
                }
            })?,
            secret_patterns: RegexSet::new(&config.allowlist.regexes).map_err(|source| {
                AllowlistError::Regex {
                    key: "regexes",
                    source,
                }
            })?,
            stopwords: config
                .allowlist
                .stopwords
                .iter()
                .map(|word| word.to_ascii_lowercase().into_bytes())
                .collect(),
            commits: config
                .allowlist
                .commits
                .iter()
                .map(|commit| commit.to_ascii_lowercase())
                .collect(),
            disabled_rules: config.disabled_rules.iter().cloned().collect(),
        })
    }

    pub fn is_path_allowed(&self, path: &str) -> bool {
        (!self.paths.is_empty() && self.paths.is_match(path))
            || (!self.path_patterns.is_empty() && self.path_patterns.is_match(path.as_bytes()))
    }

    pub fn is_commit_allowed(&self, commit: &str) -> bool {
        self.commits
            .iter()
            .any(|allowed| commit.starts_with(allowed.as_str()))
    }

    /// The reason this finding is allowlisted, if it is.
    pub fn check(
        &self,
        rule_id: &str,
        path: Option<&str>,
        secret: &[u8],
    ) -> Option<SuppressReason> {
        if self.disabled_rules.contains(rule_id) {
            return Some(SuppressReason::DisabledRule);
        }
        if let Some(path) = path {
            if self.is_path_allowed(path) {
                return Some(SuppressReason::AllowlistedPath);
            }
        }
        if !self.secret_patterns.is_empty() && self.secret_patterns.is_match(secret) {
            return Some(SuppressReason::AllowlistedRegex);
        }
        if self.stopwords.iter().any(|word| {
            secret
                .windows(word.len())
                .any(|window| window.eq_ignore_ascii_case(word))
        }) {
            return Some(SuppressReason::Stopword);
        }
        // Commits are checked per appearance, when history attributes a blob's findings
        // (`is_commit_allowed`): a blob has no commit of its own.
        None
    }
}
