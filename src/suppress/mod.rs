//! Suppression decides whether a finding is kept; it never changes one. Every drop has a
//! reason, counted in the summary, so nothing disappears silently.
//!
//! All the decisions live here, in `Suppressor`, and are asked at the three moments the facts
//! they need exist: per match (`per_match`: the matched line for inline markers, the secret for
//! allowlist regexes and stopwords, the rule's severity and the match's confidence), per place a
//! git blob appeared (`per_appearance`: a blob has many paths and commits, known only after the
//! walk), and per run (`baseline::Baseline::apply`, called by `pipeline`, which needs the
//! grouped credential).

pub mod allowlist;
pub mod baseline;
pub mod inline;

pub use allowlist::Allowlist;

use crate::rules::model::{Confidence, Severity};

/// Why a finding was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuppressReason {
    InlineMarker,
    AllowlistedPath,
    AllowlistedRegex,
    Stopword,
    AllowlistedCommit,
    DisabledRule,
    BelowMinSeverity,
    BelowMinConfidence,
    Baseline,
    DocumentedSample,
}

impl SuppressReason {
    pub fn label(self) -> &'static str {
        match self {
            SuppressReason::InlineMarker => "inline allow marker",
            SuppressReason::AllowlistedPath => "allowlisted path",
            SuppressReason::AllowlistedRegex => "allowlisted regex",
            SuppressReason::Stopword => "stopword",
            SuppressReason::AllowlistedCommit => "allowlisted commit",
            SuppressReason::DisabledRule => "disabled rule",
            SuppressReason::BelowMinSeverity => "below --min-severity",
            SuppressReason::BelowMinConfidence => "below --min-confidence",
            SuppressReason::Baseline => "in baseline",
            SuppressReason::DocumentedSample => "provider's documented sample",
        }
    }
}

/// One match, as far as suppression needs to see it.
pub struct MatchFacts<'a> {
    pub rule_id: &'a str,
    pub severity: Severity,
    pub confidence: Confidence,
    /// The line holding the match's start (inline markers sit on it).
    pub line: &'a [u8],
    /// `None` for git blobs and commit messages: their paths are checked per appearance.
    pub path: Option<&'a str>,
    pub secret: &'a [u8],
    /// A value the provider publishes in its documentation (`RawMatch::documented_sample`).
    pub documented_sample: bool,
}

/// Every suppression decision of a run, built once from the configuration and the flags.
#[derive(Debug, Default)]
pub struct Suppressor {
    pub min_severity: Option<Severity>,
    pub min_confidence: Option<Confidence>,
    pub allowlist: Allowlist,
    /// `--no-suppress`: decisions are still made and counted, but nothing is dropped.
    pub report_everything: bool,
    /// With `--validate`: rules whose findings a validator may need as the other part of a
    /// credential (an account SID beside its auth token). The severity and confidence floors
    /// are applied to them after validation (`floor`), not per match, so a low-severity part
    /// still pairs.
    pub pairing_parts: std::collections::HashSet<String>,
}

impl Suppressor {
    /// Whether a finding with a reason is dropped (it is always counted).
    pub fn drops(&self) -> bool {
        !self.report_everything
    }

    /// The first reason, in this order, to leave a match out: a provider's documented sample,
    /// severity floor, confidence floor, inline marker on its line, then the allowlist (disabled
    /// rule, path, regex, stopword).
    pub fn per_match(&self, found: &MatchFacts<'_>) -> Option<SuppressReason> {
        if found.documented_sample {
            return Some(SuppressReason::DocumentedSample);
        }
        if !self.pairing_parts.contains(found.rule_id) {
            if let Some(reason) = self.floor(found.severity, found.confidence) {
                return Some(reason);
            }
        }
        if inline::line_allows(found.line, found.rule_id) {
            return Some(SuppressReason::InlineMarker);
        }
        self.allowlist
            .check(found.rule_id, found.path, found.secret)
    }

    /// The `--min-severity` / `--min-confidence` floor a finding falls below, if any.
    pub fn floor(&self, severity: Severity, confidence: Confidence) -> Option<SuppressReason> {
        if self.min_severity.is_some_and(|min| severity < min) {
            return Some(SuppressReason::BelowMinSeverity);
        }
        if self.min_confidence.is_some_and(|min| confidence < min) {
            return Some(SuppressReason::BelowMinConfidence);
        }
        None
    }

    /// For one place a git blob appeared: its path (`None` for a commit message), then the
    /// commit (full hex id).
    pub fn per_appearance(&self, path: Option<&str>, commit: &str) -> Option<SuppressReason> {
        if path.is_some_and(|path| self.allowlist.is_path_allowed(path)) {
            return Some(SuppressReason::AllowlistedPath);
        }
        if self.allowlist.is_commit_allowed(commit) {
            return Some(SuppressReason::AllowlistedCommit);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn suppressor(config: &str) -> Suppressor {
        let config: Config = toml::from_str(config).expect("test config parses");
        Suppressor {
            min_severity: Some(Severity::Medium),
            min_confidence: None,
            allowlist: Allowlist::from_config(&config).expect("test allowlist compiles"),
            report_everything: false,
            pairing_parts: Default::default(),
        }
    }

    fn facts<'a>(line: &'a [u8], path: Option<&'a str>, secret: &'a [u8]) -> MatchFacts<'a> {
        MatchFacts {
            rule_id: "acme-token",
            severity: Severity::High,
            confidence: Confidence::High,
            line,
            path,
            secret,
            documented_sample: false,
        }
    }

    #[test]
    fn per_match_reasons_come_in_their_documented_order() {
        let suppressor = suppressor(
            "[allowlist]\npaths = ['fixtures/**']\nregexes = ['^test-']\nstopwords = ['dummy']\n",
        );
        let line = b"token = 'value' # leakhound:allow";
        // Severity is asked before everything else.
        let low = MatchFacts {
            severity: Severity::Low,
            ..facts(line, Some("fixtures/a"), b"test-dummy")
        };
        assert_eq!(
            suppressor.per_match(&low),
            Some(SuppressReason::BelowMinSeverity)
        );
        // Then the inline marker, then the path, the regex and the stopword.
        assert_eq!(
            suppressor.per_match(&facts(line, Some("fixtures/a"), b"test-dummy")),
            Some(SuppressReason::InlineMarker)
        );
        let plain = b"token = 'value'";
        assert_eq!(
            suppressor.per_match(&facts(plain, Some("fixtures/a"), b"test-dummy")),
            Some(SuppressReason::AllowlistedPath)
        );
        assert_eq!(
            suppressor.per_match(&facts(plain, None, b"test-dummy")),
            Some(SuppressReason::AllowlistedRegex)
        );
        assert_eq!(
            suppressor.per_match(&facts(plain, Some("src/a"), b"a-dummy-b")),
            Some(SuppressReason::Stopword)
        );
        assert_eq!(
            suppressor.per_match(&facts(plain, Some("src/a"), b"Zq81mX")),
            None
        );
    }

    #[test]
    fn appearances_are_checked_by_path_then_commit_prefix() {
        let suppressor = suppressor("[allowlist]\npaths = ['vendor/**']\ncommits = ['ABCDEF12']\n");
        let commit = "abcdef1234567890abcdef1234567890abcdef12";
        assert_eq!(
            suppressor.per_appearance(Some("vendor/x.go"), commit),
            Some(SuppressReason::AllowlistedPath)
        );
        assert_eq!(
            suppressor.per_appearance(None, commit),
            Some(SuppressReason::AllowlistedCommit)
        );
        assert_eq!(
            suppressor.per_appearance(Some("src/x.go"), &commit.replace('a', "0")),
            None
        );
    }
}
