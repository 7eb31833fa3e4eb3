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
//! 4. `LateFloors` (`--validate` only): the severity and confidence floors of the rules kept
//!    past them so that a validator could pair them.
//!
//! A new per-run stage is one more type here and one line in `Pipeline::run`; every command
//! (`scan`, `scan -`, `history`, `staged`, `audit`) gets it.

mod stages;

pub use stages::{ApplyBaseline, LateFloors, Redact, Validate};

use crate::scan::ScanOutcome;
use crate::suppress::baseline::BaselineEntry;
use crate::validation::StageReport;

/// The stages a run was planned with.
pub struct Pipeline<'a> {
    pub redact: Redact,
    pub baseline: Option<ApplyBaseline<'a>>,
    pub validate: Option<Validate<'a>>,
    /// With `validate`: the floors of the rules validation needed as parts.
    pub late_floors: Option<LateFloors<'a>>,
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
        if let Some(stage) = &self.late_floors {
            stage.run(&mut outcome);
        }
        outcome.summary.findings = outcome.findings.len() as u64;
        Finished {
            outcome,
            stale,
            validated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::scan::Summary;
    use crate::suppress::baseline::{self, Baseline};
    use crate::suppress::SuppressReason;

    fn outcome(findings: Vec<Finding>) -> ScanOutcome {
        ScanOutcome {
            findings,
            summary: Summary::default(),
        }
    }

    #[test]
    fn a_baselined_secret_is_still_masked_in_the_findings_that_remain() {
        let accepted = Finding::for_test("acme-token", "a.py", 1, "Zq81mXv0LpWw");
        let mut new = Finding::for_test("other-token", "b.py", 2, "Kd02nYt7QsRr");
        // The new finding's line also shows the accepted secret.
        new.snippet = "pair = Kd02nYt7QsRr:Zq81mXv0LpWw".into();
        let file = baseline::build(std::slice::from_ref(&accepted));
        let baseline =
            Baseline::from_parsed(file, std::path::Path::new("b.json")).expect("baseline loads");
        let pipeline = Pipeline {
            redact: Redact {
                show_secrets: false,
            },
            baseline: Some(ApplyBaseline {
                baseline: &baseline,
            }),
            validate: None,
            late_floors: None,
        };
        let finished = pipeline.run(outcome(vec![accepted, new]));
        let findings = &finished.outcome.findings;
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule.rule_id, "other-token");
        assert!(
            !findings[0].snippet.contains("Zq81mXv0LpWw"),
            "{}",
            findings[0].snippet
        );
        assert!(
            !findings[0].snippet.contains("Kd02nYt7QsRr"),
            "{}",
            findings[0].snippet
        );
        assert_eq!(finished.outcome.summary.findings, 1);
        assert_eq!(
            finished
                .outcome
                .summary
                .suppressed
                .get(&SuppressReason::Baseline),
            Some(&1)
        );
        assert!(finished.stale.is_empty());
        assert!(finished.validated.is_none());
    }

    #[test]
    fn show_secrets_leaves_snippets_as_they_are() {
        let finding = Finding::for_test("acme-token", "a.py", 1, "Zq81mXv0LpWw");
        let pipeline = Pipeline {
            redact: Redact { show_secrets: true },
            baseline: None,
            validate: None,
            late_floors: None,
        };
        let finished = pipeline.run(outcome(vec![finding]));
        assert_eq!(finished.outcome.findings[0].snippet, "token = Zq81mXv0LpWw");
    }
}
