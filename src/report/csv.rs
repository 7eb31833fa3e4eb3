//! `csv`: one row per finding for spreadsheets. Cells that a spreadsheet would evaluate as a
//! formula (starting with `=`, `+`, `-`, `@`) are prefixed with `'`, so a hostile path or
//! snippet cannot run in the auditor's spreadsheet; control characters (ESC, OSC-8 hyperlinks,
//! bells) are escaped as in the human report, so `cat report.csv` cannot drive a terminal.

use std::io::Write;

use crate::finding::Finding;

const HEADER: &[&str] = &[
    "rule_id",
    "rule_name",
    "provider",
    "severity",
    "confidence",
    "path",
    "line",
    "column",
    "secret",
    "snippet",
    "entropy",
    "fingerprint",
    "commit",
    "author",
    "email",
    "date",
    "status",
    "occurrences",
    "source",
    "validation",
    "validation_identity",
    "repository",
];

pub fn write(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    write_row(out, HEADER.iter().copied())?;
    for finding in findings {
        let line = finding.line.to_string();
        let column = finding.column.to_string();
        let entropy = format!("{:.2}", finding.entropy);
        let occurrences = finding.occurrences.len().to_string();
        let status = finding.status.map(|status| match status {
            crate::finding::SecretStatus::Present => "present",
            crate::finding::SecretStatus::Removed => "removed",
        });
        let source = finding.provenance.kind().as_str();
        let validation = finding
            .validation
            .as_ref()
            .map_or("", |validation| validation.status.as_str());
        let identity = finding
            .validation
            .as_ref()
            .map_or(String::new(), |validation| {
                validation
                    .identity
                    .iter()
                    .map(|(label, value)| format!("{label}={value}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            });
        let git = finding.git.as_ref();
        write_row(
            out,
            [
                finding.rule.rule_id.as_str(),
                finding.rule.rule_name.as_str(),
                finding.rule.provider.as_str(),
                finding.rule.severity.as_str(),
                finding.confidence.as_str(),
                finding.path.as_str(),
                line.as_str(),
                column.as_str(),
                finding.secret.as_str(),
                finding.snippet.as_str(),
                entropy.as_str(),
                finding.fingerprint.as_str(),
                finding.commit().unwrap_or(""),
                git.map_or("", |git| git.author.as_str()),
                git.map_or("", |git| git.email.as_str()),
                git.map_or("", |git| git.date.as_str()),
                status.unwrap_or(""),
                occurrences.as_str(),
                source,
                validation,
                identity.as_str(),
                finding.repository.as_deref().unwrap_or(""),
            ],
        )?;
    }
    Ok(())
}

fn write_row<'a>(
    out: &mut dyn Write,
    cells: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<()> {
    let mut first = true;
    for cell in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write_cell(out, cell)?;
    }
    out.write_all(b"\r\n")
}

fn write_cell(out: &mut dyn Write, cell: &str) -> std::io::Result<()> {
    let escaped = crate::diagnostics::sanitize(cell);
    let cell = escaped.as_str();
    let guarded = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = guarded
        || cell.contains([',', '"', '\n', '\r'])
        || cell.starts_with(' ')
        || cell.ends_with(' ');
    if !needs_quotes {
        return out.write_all(cell.as_bytes());
    }
    out.write_all(b"\"")?;
    if guarded {
        out.write_all(b"'")?;
    }
    out.write_all(cell.replace('"', "\"\"").as_bytes())?;
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::write_cell;

    fn cell(text: &str) -> String {
        let mut out = Vec::new();
        write_cell(&mut out, text).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }

    #[test]
    fn escapes_terminal_control_sequences() {
        let hostile = "a\u{1b}]8;;https://evil\u{7}link\u{1b}]8;;\u{7}\u{1b}[2Jb";
        let written = cell(hostile);
        assert!(
            !written.contains('\u{1b}') && !written.contains('\u{7}'),
            "{written:?}"
        );
        assert_eq!(
            written,
            "a\\u{1b}]8;;https://evil\\u{7}link\\u{1b}]8;;\\u{7}\\u{1b}[2Jb"
        );
    }
}
