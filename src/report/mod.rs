//! Reports: each format turns findings into bytes. Reports never re-read files or git and
//! never see raw secrets (findings carry only the form that may be shown).

pub mod csv;
pub mod human;
pub mod json;
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
}

/// Writes `findings` in `format`. `colour` only affects `human`.
pub fn write_report(
    format: Format,
    findings: &[Finding],
    colour: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::write(findings, colour, out),
        Format::Json => json::write_array(findings, out),
        Format::Jsonl => json::write_lines(findings, out),
        Format::Sarif => sarif::write(findings, out),
        Format::Csv => csv::write(findings, out),
    }
}
