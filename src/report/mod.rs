//! Reports: each format turns findings into bytes. Reports never re-read files or git and
//! never see raw secrets (findings carry only the form that may be shown).

pub mod csv;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::io::Write;

use crate::finding::Finding;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    Csv,
    /// JUnit XML, for CI test-report views.
    Junit,
    /// One self-contained HTML page (audits).
    Html,
    /// GitLab's Secret Detection report (security dashboard, merge request widget).
    Gitlab,
}

/// What a report says about the run besides its findings.
#[derive(Debug, Default, Clone)]
pub struct RunNotes {
    /// Set when content in scope was not scanned (what, in words): the report must not read as
    /// a clean bill of health. `human` prints it, `sarif` carries it as a tool execution
    /// notification and a run property, `junit` as an errored test case, `gitlab` as a `warn`
    /// scan message, `html` as a banner; `json`, `jsonl` and `csv` are lists of findings by
    /// contract, so for them the summary on stderr and `--fail-on-incomplete` carry it.
    pub incomplete: Option<String>,
}

/// Writes `findings` in `format`. `colour` only affects `human`.
pub fn write_report(
    format: Format,
    findings: &[Finding],
    notes: &RunNotes,
    colour: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::write(findings, notes, colour, out),
        Format::Json => json::write_array(findings, out),
        Format::Jsonl => json::write_lines(findings, out),
        Format::Sarif => sarif::write(findings, notes, out),
        Format::Csv => csv::write(findings, out),
        Format::Junit => junit::write(findings, notes, out),
        Format::Html => html::write(findings, notes, out),
        Format::Gitlab => gitlab::write(findings, notes, out),
    }
}
