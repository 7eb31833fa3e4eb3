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

/// The first 12 characters of a commit id (a report read back by `merge` may hold any text,
/// so this never cuts inside a character).
pub(crate) fn short_commit(commit: &str) -> &str {
    commit
        .char_indices()
        .nth(12)
        .map_or(commit, |(at, _)| &commit[..at])
}

/// Text escaped for XML and HTML (`junit`, `html`): markup characters as references, and the
/// characters XML 1.0 cannot carry (control characters such as ESC, U+FFFE, U+FFFF) written as
/// `\xNN` or U+FFFD, so a hostile path or snippet can neither break the document nor drive a
/// terminal that shows it.
pub(crate) fn escape_markup(text: &str) -> String {
    use std::fmt::Write as _;
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '\n' | '\t' => escaped.push(character),
            control if (control as u32) < 0x20 || control == '\u{7f}' => {
                let _ = write!(escaped, "\\x{:02x}", control as u32);
            }
            '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_markup;

    #[test]
    fn markup_quotes_and_control_characters_are_escaped() {
        assert_eq!(
            escape_markup("a<b>&\"c'\u{1b}]8;;x\u{7}\r\u{ffff}"),
            "a&lt;b&gt;&amp;&quot;c&#39;\\x1b]8;;x\\x07\\x0d\u{fffd}"
        );
        assert_eq!(escape_markup("line\nnext\ttab"), "line\nnext\ttab");
    }
}
