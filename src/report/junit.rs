//! `junit`: JUnit XML, which CI systems (GitLab's test reports, Jenkins, Azure Pipelines, CircleCI)
//! show as test results without a plug-in. Each finding is a failed test case named by its
//! place; a clean run is one passing case, so the report never reads as "no tests ran"; an
//! incomplete scan is an errored case that says what was not scanned. Text is escaped for XML
//! and characters XML 1.0 cannot carry (control characters, terminal escapes) are written as
//! `\xNN`, so a hostile path or snippet can neither break the document nor drive a terminal.

use std::fmt::Write as _;
use std::io::Write;

use super::{escape_markup as escape, RunNotes};
use crate::finding::Finding;

pub fn write(findings: &[Finding], notes: &RunNotes, out: &mut dyn Write) -> std::io::Result<()> {
    let errors = usize::from(notes.incomplete.is_some());
    let tests = findings.len().max(1) + errors;
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"leakhound\" tests=\"{tests}\" failures=\"{}\" errors=\"{errors}\">",
        findings.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"leakhound\" tests=\"{tests}\" failures=\"{}\" errors=\"{errors}\">",
        findings.len()
    );
    if let Some(incomplete) = &notes.incomplete {
        let _ = writeln!(
            xml,
            "    <testcase classname=\"leakhound\" name=\"scan completeness\">\n      \
             <error type=\"incomplete\" message=\"scan incomplete: {}\"/>\n    </testcase>",
            escape(incomplete)
        );
    }
    if findings.is_empty() {
        xml.push_str("    <testcase classname=\"leakhound\" name=\"no secrets found\"/>\n");
    }
    for finding in findings {
        let place = format!("{}:{}:{}", finding.path, finding.line, finding.column);
        let _ = writeln!(
            xml,
            "    <testcase classname=\"leakhound.{}\" name=\"{}\" file=\"{}\" line=\"{}\">",
            escape(&finding.rule.rule_id),
            escape(&place),
            escape(&finding.path),
            finding.line
        );
        let _ = writeln!(
            xml,
            "      <failure type=\"{}\" message=\"{} ({}) at {}\">",
            finding.rule.severity.as_str(),
            escape(&finding.rule.rule_name),
            escape(&finding.rule.rule_id),
            escape(&place)
        );
        let mut body = format!(
            "secret: {}\nsnippet: {}\nfingerprint: {}\n",
            finding.secret, finding.snippet, finding.fingerprint
        );
        if let Some(commit) = finding.commit() {
            let _ = writeln!(body, "commit: {commit}");
        }
        if let Some(validation) = &finding.validation {
            let _ = writeln!(body, "validation: {}", validation.status.as_str());
        }
        let _ = writeln!(body, "remediation: {}", finding.rule.remediation);
        xml.push_str(&escape(&body));
        xml.push_str("      </failure>\n    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    out.write_all(xml.as_bytes())
}
