//! The report a person reads: a count by severity and provider first, then findings from the
//! most severe (and most certain) down, grouped by file within each severity, the secret
//! redacted, other places the same credential appears listed under it, and each rule's
//! remediation once at the end, wrapped to the terminal's width.
//! Colour only when asked (the CLI asks when stdout is a terminal). All text from the scanned
//! content is sanitised so a hostile file cannot drive the terminal.

use std::io::Write;

use super::short_commit;
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
        self.paint(Self::severity_code(severity), severity.as_str())
    }

    fn severity_heading(&self, severity: Severity) -> String {
        self.paint(
            Self::severity_code(severity),
            &severity.as_str().to_uppercase(),
        )
    }

    fn severity_code(severity: Severity) -> &'static str {
        match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
        }
    }
}

/// One line before the findings: how many at each severity, and the providers most involved.
fn summary(findings: &[Finding], style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let levels = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];
    let by_severity: Vec<String> = levels
        .iter()
        .filter_map(|level| {
            let count = findings
                .iter()
                .filter(|finding| finding.rule.severity == *level)
                .count();
            (count > 0).then(|| format!("{count} {}", style.severity(*level)))
        })
        .collect();
    let mut providers: Vec<(&str, usize)> = Vec::new();
    for finding in findings {
        match providers
            .iter_mut()
            .find(|(name, _)| *name == finding.rule.provider)
        {
            Some((_, count)) => *count += 1,
            None => providers.push((&finding.rule.provider, 1)),
        }
    }
    providers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = providers
        .iter()
        .take(5)
        .map(|(name, count)| format!("{} {count}", sanitize(name)))
        .collect();
    writeln!(
        out,
        "{} finding{}: {}; by provider: {}{}\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        by_severity.join(", "),
        shown.join(", "),
        if providers.len() > 5 { ", …" } else { "" }
    )
}

/// The terminal's width from `COLUMNS` (what shells export), else 100.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .filter(|&columns| columns >= 40)
        .unwrap_or(100)
}

/// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
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
    summary(findings, &style, out)?;
    // Most severe and most certain first; within that, the order given (by file).
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    ordered.sort_by_key(|finding| {
        (
            std::cmp::Reverse(finding.rule.severity),
            std::cmp::Reverse(finding.confidence),
        )
    });
    let mut current_severity: Option<Severity> = None;
    let mut current_path: Option<(Option<&str>, &str)> = None;
    for finding in ordered {
        if current_severity != Some(finding.rule.severity) {
            let count = findings
                .iter()
                .filter(|other| other.rule.severity == finding.rule.severity)
                .count();
            if current_severity.is_some() {
                writeln!(out)?;
            }
            writeln!(
                out,
                "{} ({count})",
                style.severity_heading(finding.rule.severity)
            )?;
            current_severity = Some(finding.rule.severity);
            current_path = None;
        }
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
            style.paint("1", &sanitize(&finding.rule.rule_id)),
            sanitize(&finding.rule.rule_name),
            style.severity(finding.rule.severity),
            finding.confidence.as_str(),
        )?;
        if let Some(offset) = finding.offset {
            writeln!(
                out,
                "      in a binary file, at byte offset {offset} (read as printable strings)"
            )?;
        }
        if let Some(git) = &finding.git {
            writeln!(
                out,
                "      commit {} by {} <{}> on {}: {}",
                sanitize(short_commit(&git.commit)),
                sanitize(&git.author),
                sanitize(&git.email),
                sanitize(&git.date),
                sanitize(&git.message),
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
                        text.push_str(&format!(" @{}", sanitize(short_commit(commit))));
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
            "  {} ({}):",
            style.paint("1", &sanitize(&finding.rule.rule_id)),
            sanitize(&finding.rule.provider),
        )?;
        for line in wrap(
            &sanitize(&finding.rule.remediation),
            width().saturating_sub(4),
        ) {
            writeln!(out, "    {line}")?;
        }
    }
    if notes.incomplete.is_some() {
        writeln!(out)?;
    }
    incomplete(out)
}
