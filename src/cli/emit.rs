//! The last phase of every scanning command: the per-run pipeline, then the report, the
//! baseline file, the summary line and the exit status.

use std::io::{BufWriter, IsTerminal, Write};

use anyhow::{Context, Result};

use super::args::{ColorChoice, CommonArgs, FailOn};
use super::output::Output;
use super::plan::Plan;
use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS};
use crate::pipeline::Finished;
use crate::report;
use crate::scan::ScanOutcome;
use crate::suppress::baseline;
use crate::validation::ValidationStatus;

/// Runs the per-run pipeline, then writes the report, the baseline if asked, and the summary;
/// returns the exit status and the number of findings reported.
pub(super) fn emit(common: &CommonArgs, outcome: ScanOutcome, plan: &Plan) -> Result<(i32, usize)> {
    let Finished {
        outcome,
        stale,
        validated,
    } = plan.pipeline().run(outcome);
    if let Some(report) = &validated {
        if !report.hosts.unreachable.is_empty() {
            eprintln!(
                "leakhound: warning: validation could not reach {} (network unavailable or \
                 blocked); findings for {} are `unknown`",
                report.hosts.unreachable.join(", "),
                if report.hosts.unreachable.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            );
        }
    }
    let mut output = Output::open(common.output.as_deref())?;
    let colour = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => output.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    // --quiet on a clean run: no human report at all (machine formats still write their empty
    // document, which consumers parse).
    let skip_report =
        common.quiet && outcome.findings.is_empty() && common.format == report::Format::Human;
    if skip_report {
        if let Some(what) = outcome.summary.incomplete() {
            eprintln!("leakhound: scan incomplete: not scanned: {what}");
        }
    } else {
        let mut writer = BufWriter::new(output.writer());
        let notes = report::RunNotes {
            incomplete: outcome.summary.incomplete(),
        };
        report::write_report(
            common.format,
            &outcome.findings,
            &notes,
            colour,
            &mut writer,
        )
        .context("cannot write the report")?;
        writer.flush().context("cannot write the report")?;
    }
    output.finish()?;
    if let Some(path) = &common.write_baseline {
        let file = baseline::build(&outcome.findings);
        let mut target = Output::open(Some(path))?;
        serde_json::to_writer_pretty(target.writer(), &file)
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        target.writer().write_all(b"\n")?;
        target.finish()?;
        eprintln!(
            "leakhound: wrote baseline {} with {} entr{}",
            path.display(),
            file.entries.len(),
            if file.entries.len() == 1 { "y" } else { "ies" }
        );
    }
    let mut stderr = std::io::stderr().lock();
    for entry in &stale {
        let _ = writeln!(
            stderr,
            "leakhound: stale baseline entry: {} (was at {}:{}) matches nothing any more",
            entry.rule_id,
            crate::diagnostics::sanitize(&entry.path),
            entry.line
        );
    }
    let summary = outcome.summary.line();
    let dim = match common.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    if common.quiet {
        // --quiet: the report is the only output (warnings were printed as they happened).
    } else if dim {
        let _ = writeln!(stderr, "\x1b[2mleakhound: {summary}\x1b[0m");
    } else {
        let _ = writeln!(stderr, "leakhound: {summary}");
    }
    if let Some(report) = validated.as_ref().filter(|_| !common.quiet) {
        let _ = writeln!(
            stderr,
            "leakhound: validation: {} live, {} invalid, {} unknown ({} request{})",
            report.live,
            report.invalid,
            report.unknown,
            report.hosts.requests,
            if report.hosts.requests == 1 { "" } else { "s" }
        );
    }
    let fails = match common.fail_on {
        FailOn::Any => !outcome.findings.is_empty(),
        FailOn::Live => outcome.findings.iter().any(|finding| {
            finding
                .validation
                .as_ref()
                .is_some_and(|validation| validation.status == ValidationStatus::Live)
        }),
    };
    let incomplete = outcome.summary.incomplete();
    let status = if common.write_baseline.is_some() {
        EXIT_CLEAN
    } else if let Some(what) = incomplete.filter(|_| common.fail_on_incomplete) {
        let _ = writeln!(
            stderr,
            "leakhound: error: the scan is incomplete (not scanned: {what}); exiting 2 because of \
             --fail-on-incomplete"
        );
        EXIT_ERROR
    } else if fails || (common.fail_on_stale && !stale.is_empty()) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    Ok((status, outcome.findings.len()))
}
