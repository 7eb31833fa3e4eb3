//! `gitlab`: GitLab's Secret Detection report (schema 15.0.2), so findings land in GitLab's
//! merge request widget, pipeline security tab and vulnerability report
//! (`artifacts: reports: secret_detection`). Each finding is one vulnerability.
//!
//! - Its `id` is stable across runs: it is derived from the fingerprint and the place.
//! - Its primary identifier is the rule id.
//! - Its location carries the introducing commit, or `0000000` outside history, as GitLab's
//!   own analyzer writes it.
//! - `raw_source_code_extract` holds the redacted secret, never the secret.
//!
//! An incomplete scan is a `warn` message on the scan.

use std::io::Write;

use serde_json::{json, Value};

use super::RunNotes;
use crate::finding::Finding;

const SCHEMA_VERSION: &str = "15.0.2";

pub fn write(findings: &[Finding], notes: &RunNotes, out: &mut dyn Write) -> std::io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    // GitLab wants `yyyy-mm-ddThh:mm:ss`, UTC, without a zone designator.
    let time = crate::source::git::format_time(now)
        .trim_end_matches('Z')
        .to_string();
    let tool = json!({
        "id": "leakhound",
        "name": "leakhound",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": { "name": "leakhound" },
    });
    let mut scan = json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "secret_detection",
        "start_time": time,
        "end_time": time,
        "status": "success",
    });
    if let Some(incomplete) = &notes.incomplete {
        scan["messages"] = json!([{
            "level": "warn",
            "value": format!("scan incomplete: not scanned: {incomplete}"),
        }]);
    }
    let vulnerabilities: Vec<Value> = findings.iter().map(vulnerability).collect();
    let report = json!({
        "version": SCHEMA_VERSION,
        "schema": format!(
            "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
        ),
        "scan": scan,
        "vulnerabilities": vulnerabilities,
    });
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

fn vulnerability(finding: &Finding) -> Value {
    let rule = &finding.rule;
    let place = match &finding.repository {
        Some(repository) => format!("{repository}:{}", finding.path),
        None => finding.path.clone(),
    };
    let id = blake3::hash(
        format!(
            "{}\0{place}\0{}\0{}",
            finding.fingerprint, finding.line, finding.column
        )
        .as_bytes(),
    );
    let mut commit = json!({ "sha": finding.commit().unwrap_or("0000000") });
    if let Some(git) = &finding.git {
        for (key, value) in [
            ("author", &git.author),
            ("date", &git.date),
            ("message", &git.message),
        ] {
            commit[key] = json!(value);
        }
    }
    json!({
        "id": id.to_hex()[..32].to_string(),
        "category": "secret_detection",
        "name": truncate(&rule.rule_name, 255),
        "description": truncate(
            &format!(
                "{} ({}, {} confidence) in {place} at line {}, column {}.",
                rule.rule_name,
                rule.provider,
                finding.confidence.as_str(),
                finding.line,
                finding.column
            ),
            1_048_576,
        ),
        "severity": match rule.severity.as_str() {
            "critical" => "Critical",
            "high" => "High",
            "medium" => "Medium",
            _ => "Low",
        },
        "solution": truncate(&rule.remediation, 7000),
        "raw_source_code_extract": finding.secret,
        "identifiers": [{
            "type": "leakhound_rule_id",
            "name": format!("leakhound rule {}", rule.rule_id),
            "value": rule.rule_id,
        }],
        "location": {
            "file": place,
            "start_line": finding.line,
            "end_line": finding.line,
            "commit": commit,
        },
    })
}

/// At most `limit` characters, cut at a character boundary.
fn truncate(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}
