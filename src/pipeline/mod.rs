//! The per-run chain: what happens to a run's credentials after matching and grouping, the same
//! for every command and in this one place. Sources and `scan` produce findings grouped one per
//! credential (history attributed to commits, staged filtered to added lines); `Pipeline::run`
//! then applies, in order:
//!
//! 1. `Redact`: masks every reported secret in every shown text. First, so that a finding the
//!    baseline is about to drop still has its secret masked in the snippets of the others.
//! 2. `ApplyBaseline`: drops accepted credentials, counts them, lists stale entries.
//! 3. `Validate` (`--validate` only): asks providers about what is left, so a suppressed
//!    finding is never sent anywhere; then `--only-live`.
//!
//! A new per-run stage is one more type here and one line in `Pipeline::run`; every command
//! (`scan`, `scan -`, `history`, `staged`, `audit`) gets it.

mod stages;

pub use stages::{ApplyBaseline, Redact, Validate};

use crate::scan::ScanOutcome;
use crate::suppress::baseline::BaselineEntry;
use crate::validation::StageReport;

/// The stages a run was planned with.
pub struct Pipeline<'a> {
    pub redact: Redact,
    pub baseline: Option<ApplyBaseline<'a>>,
    pub validate: Option<Validate<'a>>,
}

/// A run's findings after the chain, with what the stages have to tell the user.
pub struct Finished {
    pub outcome: ScanOutcome,
    /// Baseline entries no finding matched.
    pub stale: Vec<BaselineEntry>,
    /// What validation did (`--validate` only).
    pub validated: Option<StageReport>,
}

impl Pipeline<'_> {
    pub fn run(&self, mut outcome: ScanOutcome) -> Finished {
        self.redact.run(&mut outcome);
        let stale = match &self.baseline {
            Some(stage) => stage.run(&mut outcome),
            None => Vec::new(),
        };
        let validated = self.validate.as_ref().map(|stage| stage.run(&mut outcome));
        outcome.summary.findings = outcome.findings.len() as u64;
        Finished {
            outcome,
            stale,
            validated,
        }
    }
}
