//! The per-run stages, each a small type with one `run` over the whole outcome.

use crate::finding::ValidationStatus;
use crate::scan::ScanOutcome;
use crate::suppress::baseline::{Baseline, BaselineEntry};
use crate::suppress::{SuppressReason, Suppressor};
use crate::validation::{self, Engine, StageReport, Validators};

/// Masks every reported secret (raw and encoded spellings) in every snippet and commit message
/// (`redact::redact_findings`), unless the user asked for secrets with `--show-secrets`.
pub struct Redact {
    pub show_secrets: bool,
}

impl Redact {
    pub fn run(&self, outcome: &mut ScanOutcome) {
        crate::redact::redact_findings(&mut outcome.findings, self.show_secrets);
    }
}

/// `--baseline FILE`: drops the credentials the baseline accepts (counted as suppressed) and
/// returns the entries that matched nothing.
pub struct ApplyBaseline<'a> {
    pub baseline: &'a Baseline,
}

impl ApplyBaseline<'_> {
    pub fn run(&self, outcome: &mut ScanOutcome) -> Vec<BaselineEntry> {
        let applied = self.baseline.apply(std::mem::take(&mut outcome.findings));
        outcome.findings = applied.kept;
        if applied.suppressed > 0 {
            *outcome
                .summary
                .suppressed
                .entry(SuppressReason::Baseline)
                .or_default() += applied.suppressed;
        }
        outcome.summary.stale_baseline_entries = applied.stale.len() as u64;
        applied.stale
    }
}

/// After validation: the severity and confidence floors for the rules kept past them so a
/// validator could pair them (`Suppressor::pairing_parts`); counted like any suppression.
pub struct LateFloors<'a> {
    pub suppressor: &'a Suppressor,
}

impl LateFloors<'_> {
    pub fn run(&self, outcome: &mut ScanOutcome) {
        let suppressor = self.suppressor;
        if suppressor.pairing_parts.is_empty() {
            return;
        }
        let summary = &mut outcome.summary;
        outcome.findings.retain(|finding| {
            if !suppressor.pairing_parts.contains(&finding.rule.rule_id) {
                return true;
            }
            let Some(reason) = suppressor.floor(finding.rule.severity, finding.confidence) else {
                return true;
            };
            *summary.suppressed.entry(reason).or_default() += 1;
            !suppressor.drops()
        });
    }
}

/// `--validate`: asks each provider about its findings, then with `--only-live` keeps only the
/// live ones.
pub struct Validate<'a> {
    pub validators: &'a Validators,
    pub engine: &'a Engine,
    pub only_live: bool,
}

impl Validate<'_> {
    pub fn run(&self, outcome: &mut ScanOutcome) -> StageReport {
        let report =
            validation::validate_findings(&mut outcome.findings, self.validators, self.engine);
        if self.only_live {
            outcome.findings.retain(|finding| {
                finding
                    .validation
                    .as_ref()
                    .is_some_and(|validation| validation.status == ValidationStatus::Live)
            });
        }
        report
    }
}
