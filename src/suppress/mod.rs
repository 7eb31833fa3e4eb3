//! Suppression decides whether a finding is kept; it never changes one. Every drop has a
//! reason, counted in the summary, so nothing disappears silently.

pub mod allowlist;
pub mod baseline;
pub mod inline;

pub use allowlist::Allowlist;

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
        }
    }
}
