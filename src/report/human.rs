//! The report a person reads: findings grouped by file, the secret redacted, other places the
//! same credential appears listed under it, and each rule's remediation once at the end.
//! Colour only when asked (the CLI asks when stdout is a terminal). All text from the scanned
//! content is sanitised so a hostile file cannot drive the terminal.

use std::io::Write;

use crate::diagnostics::sanitize;
use crate::finding::Finding;
use crate::rules::model::Severity;

/// How many other places are listed under a finding before "and N more".
const OCCURRENCES_SHOWN: usize = 5;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        self.paint(code, severity.as_str())
    }
}

pub fn write(
    findings: &[Finding],
    notes: &super::RunNotes,
    colour: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let style = Style { on: colour };
    let incomplete = |out: &mut dyn Write| match &notes.incomplete {
        Some(what) => writeln!(
            out,
            "{} not scanned: {what}. The result covers only what was scanned.",
            style.paint("1;33", "Scan incomplete:")
        ),
        None => Ok(()),
    };
    if findings.is_empty() {
        writeln!(out, "No secrets found.")?;
        return incomplete(out);
    }
    let mut current_path: Option<(Option<&str>, &str)> = None;
    for finding in findings {
        let place = (finding.repository.as_deref(), finding.path.as_str());
        if current_path != Some(place) {
            if current_path.is_some() {
                writeln!(out)?;
            }
            let header = match finding.repository.as_deref() {
                // `audit`: which repository, then the path inside it.
                Some(repository) => {
                    format!("{} :: {}", sanitize(repository), sanitize(&finding.path))
                }
                None => sanitize(&finding.path),
            };
            writeln!(out, "{}", style.paint("1;4", &header))?;
            current_path = Some(place);
        }
        writeln!(
            out,
            "  {}:{}  {}  {} [{}, {} confidence]",
            finding.line,
            finding.column,
            style.paint("1", &finding.rule.rule_id),
            sanitize(&finding.rule.rule_name),
            style.severity(finding.rule.severity),
            finding.confidence.as_str(),
        )?;
        if let Some(commit) = &finding.commit {
            writeln!(
                out,
                "      commit {} by {} <{}> on {}: {}",
                &commit[..commit.len().min(12)],
                sanitize(finding.author.as_deref().unwrap_or("")),
                sanitize(finding.email.as_deref().unwrap_or("")),
                finding.date.as_deref().unwrap_or(""),
                sanitize(finding.commit_message.as_deref().unwrap_or("")),
            )?;
        }
        writeln!(out, "      secret: {}", sanitize(&finding.secret))?;
        if let Some(validation) = &finding.validation {
            let code = match validation.status {
                crate::finding::ValidationStatus::Live => "1;31",
                crate::finding::ValidationStatus::Invalid => "32",
                crate::finding::ValidationStatus::Unknown => "33",
            };
            write!(
                out,
                "      validation: {} ({})",
                style.paint(code, validation.status.as_str()),
                sanitize(&validation.detail)
            )?;
            if !validation.identity.is_empty() {
                let identity: Vec<String> = validation
                    .identity
                    .iter()
                    .map(|(label, value)| format!("{label}={}", sanitize(value)))
                    .collect();
                write!(out, "; identity: {}", identity.join(", "))?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "      {}",
            style.paint("2", &sanitize(&finding.snippet))
        )?;
        if !finding.occurrences.is_empty() {
            let listed: Vec<String> = finding
                .occurrences
                .iter()
                .take(OCCURRENCES_SHOWN)
                .map(|place| {
                    let mut text =
                        format!("{}:{}:{}", sanitize(&place.path), place.line, place.column);
                    if let Some(repository) = place
                        .repository
                        .as_deref()
                        .filter(|repository| Some(*repository) != finding.repository.as_deref())
                    {
                        text = format!("{} :: {text}", sanitize(repository));
                    }
                    if let Some(commit) = &place.commit {
                        text.push_str(&format!(" @{}", &commit[..commit.len().min(12)]));
                    }
                    text
                })
                .collect();
            let more = finding.occurrences.len().saturating_sub(OCCURRENCES_SHOWN);
            write!(out, "      also at: {}", listed.join(", "))?;
            if more > 0 {
                write!(out, " and {more} more")?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out)?;
    writeln!(out, "{}", style.paint("1", "What to do"))?;
    let mut seen: Vec<&str> = Vec::new();
    for finding in findings {
        if seen.contains(&finding.rule.rule_id.as_str()) {
            continue;
        }
        seen.push(&finding.rule.rule_id);
        writeln!(
            out,
            "  {} ({}): {}",
            style.paint("1", &finding.rule.rule_id),
            sanitize(&finding.rule.provider),
            sanitize(&finding.rule.remediation)
        )?;
    }
    if notes.incomplete.is_some() {
        writeln!(out)?;
    }
    incomplete(out)
}
