//! `sarif`: SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps). Each rule that
//! fired becomes a `reportingDescriptor` whose help text is the remediation; each finding a
//! result at its primary location, with the other places as `relatedLocations`, the commit in
//! `properties`, and the fingerprint as a `partialFingerprints` entry so the UI tracks it
//! across runs. Secrets appear only in their redacted form (unless `--show-secrets`).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};

use crate::finding::Finding;
use crate::rules::model::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn write(
    findings: &[Finding],
    notes: &super::RunNotes,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for finding in findings {
        if rule_index.contains_key(finding.rule.rule_id.as_str()) {
            continue;
        }
        rule_index.insert(&finding.rule.rule_id, rules.len());
        // The provider's documentation the remediation cites, as the rule's help link.
        let help_uri = finding
            .rule
            .remediation
            .split_whitespace()
            .find(|word| word.starts_with("https://"))
            .map(|word| word.trim_end_matches(['.', ',', ')', ';']));
        let mut rule = json!({
            "id": finding.rule.rule_id,
            "name": pascal_case(&finding.rule.rule_id),
            "shortDescription": { "text": finding.rule.rule_name },
            "fullDescription": {
                "text": format!("{} ({} credential)", finding.rule.rule_name, finding.rule.provider)
            },
            // Code-scanning UIs render the markdown; the plain text stays for the others.
            "help": {
                "text": finding.rule.remediation,
                "markdown": format!(
                    "**{}** ({})\n\n{}\n\nDetected by leakhound rule `{}`.",
                    finding.rule.rule_name,
                    finding.rule.provider,
                    finding.rule.remediation,
                    finding.rule.rule_id
                ),
            },
            "defaultConfiguration": { "level": level(finding.rule.severity) },
            "properties": {
                "provider": finding.rule.provider,
                "severity": finding.rule.severity,
                "tags": ["security", "secret"],
                "security-severity": security_severity(finding.rule.severity),
            },
        });
        if let Some(uri) = help_uri {
            rule["helpUri"] = json!(uri);
        }
        rules.push(rule);
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let mut properties = serde_json::Map::new();
            properties.insert("confidence".into(), json!(finding.confidence));
            properties.insert("entropy".into(), json!(finding.entropy));
            properties.insert("source".into(), json!(finding.provenance));
            if let Some(offset) = finding.offset {
                properties.insert("byteOffset".into(), json!(offset));
            }
            if let Some(repository) = &finding.repository {
                properties.insert("repository".into(), json!(repository));
            }
            if let Some(git) = &finding.git {
                for (key, value) in [
                    ("commit", &git.commit),
                    ("author", &git.author),
                    ("email", &git.email),
                    ("date", &git.date),
                    ("commitMessage", &git.message),
                ] {
                    properties.insert(key.into(), json!(value));
                }
            }
            if let Some(status) = finding.status {
                properties.insert("status".into(), json!(status));
            }
            if let Some(validation) = &finding.validation {
                properties.insert("validation".into(), json!(validation));
            }
            let related: Vec<Value> = finding
                .occurrences
                .iter()
                .enumerate()
                .map(|(index, place)| {
                    let mut location = json!({
                        "id": index + 1,
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(&place.path), "uriBaseId": "%SRCROOT%" },
                            "region": { "startLine": place.line, "startColumn": place.column_utf16 },
                        },
                    });
                    if let Some(commit) = &place.commit {
                        location["message"] = json!({ "text": format!("also in commit {commit}") });
                    }
                    location
                })
                .collect();
            let mut result = json!({
                "ruleId": finding.rule.rule_id,
                "ruleIndex": rule_index[finding.rule.rule_id.as_str()],
                "level": level(finding.rule.severity),
                "message": {
                    "text": format!(
                        "{} found: {}{}",
                        finding.rule.rule_name,
                        finding.secret,
                        if finding.occurrences.is_empty() {
                            String::new()
                        } else {
                            format!(" (and {} other places)", finding.occurrences.len())
                        }
                    )
                },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&finding.path), "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": finding.line,
                            "startColumn": finding.column_utf16,
                            "snippet": { "text": finding.snippet },
                        },
                    },
                }],
                "partialFingerprints": { "leakhound/v1": finding.fingerprint },
                "properties": properties,
            });
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "leakhound",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    });
    // An incomplete scan says so where code-scanning UIs show tool problems.
    let mut invocation = json!({ "executionSuccessful": true });
    if let Some(what) = &notes.incomplete {
        invocation["toolExecutionNotifications"] = json!([{
            "level": "warning",
            "descriptor": { "id": "incomplete-scan" },
            "message": { "text": format!("Scan incomplete: not scanned: {what}") },
        }]);
    }
    let mut log = log;
    log["runs"][0]["invocations"] = json!([invocation]);
    log["runs"][0]["properties"] = json!({ "incomplete": notes.incomplete.is_some() });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning ranks security results by this 0-10 score.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Paths as relative URI references: percent-encode what a URI cannot hold.
fn uri(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}
