//! `leakhound revoke`: sends one credential's revocation request (its rule's `[rule.revoke]`
//! block) after the user confirms. The secret comes from standard input or from a report made
//! with --show-secrets, never from the command line, where it would land in shell history and
//! the process list.

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::args::RevokeArgs;
use super::{EXIT_CLEAN, EXIT_FINDINGS};
use crate::validation::{self, Job, ValidationStatus, Values};

/// Largest report or standard input read: a report of tens of thousands of findings.
const MAX_INPUT: u64 = 256 * 1024 * 1024;

pub fn run(args: RevokeArgs) -> Result<i32> {
    let (rule_id, secret) = match (&args.report, &args.fingerprint) {
        (Some(report), Some(fingerprint)) => from_report(report, fingerprint)?,
        _ => from_stdin(args.rule.as_deref())?,
    };
    if secret.is_empty() || secret.chars().any(char::is_whitespace) {
        bail!("the secret to revoke is empty or contains whitespace");
    }
    let loaded = super::rules_cmd::all_rules(&args.rules)?;
    let Some(rule) = loaded.iter().find(|rule| rule.spec.id == rule_id) else {
        bail!("no rule with id `{rule_id}` (see `leakhound rules list`)");
    };
    let Some(check) = &rule.spec.revoke else {
        bail!(
            "{rule_id}: {} documents no API to revoke this credential; revoke it by hand:\n  {}",
            rule.spec.provider,
            rule.spec.remediation.trim()
        );
    };
    let shown = crate::finding::redact(secret.as_bytes());
    if !args.yes
        && !confirm(&format!(
        "Revoke the {} credential {shown} ({rule_id}) by sending it to {}? It stops working for \
         everyone who uses it. [y/N] ",
        rule.spec.provider,
        check.hosts.join(", ")
    ))? {
        eprintln!("leakhound: not revoked");
        return Ok(EXIT_FINDINGS);
    }
    let endpoints = validation::Endpoints::for_this_build().map_err(anyhow::Error::msg)?;
    let engine = validation::Engine::new(
        validation::EngineOptions {
            timeout: Duration::from_secs(u64::from(args.timeout)),
            retries: 1,
            ..Default::default()
        },
        endpoints,
    );
    let mut values = Values::new();
    values.insert("secret".into(), secret);
    let (verdicts, _) = engine.run(&[Job { check, values }]);
    let verdict = &verdicts[0];
    match verdict.status {
        ValidationStatus::Live => {
            println!("revoked: {shown} ({rule_id}): {}", verdict.detail);
            Ok(EXIT_CLEAN)
        }
        ValidationStatus::Invalid => {
            println!(
                "not revoked: {shown} ({rule_id}): the provider refused ({}); it may already be \
                 revoked",
                verdict.detail
            );
            Ok(EXIT_FINDINGS)
        }
        ValidationStatus::Unknown => {
            println!("not revoked: {shown} ({rule_id}): {}", verdict.detail);
            Ok(EXIT_FINDINGS)
        }
    }
}

/// A raw secret (with --rule) or one JSON finding with `rule_id` and an unredacted `secret`.
fn from_stdin(rule: Option<&str>) -> Result<(String, String)> {
    let mut text = String::new();
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .context("cannot read standard input")?;
    let text = text.trim();
    if text.starts_with('{') {
        let finding: serde_json::Value = serde_json::from_str(text)
            .map_err(|error| anyhow::anyhow!("standard input is not one JSON finding: {error}"))?;
        return finding_secret(&finding, "standard input");
    }
    let Some(rule) = rule else {
        bail!(
            "give the rule of the secret on standard input with --rule RULE_ID, or pipe a JSON \
             finding from a report made with --show-secrets"
        );
    };
    if text.is_empty() {
        bail!("standard input is empty: pipe the secret to revoke");
    }
    Ok((rule.to_string(), text.to_string()))
}

/// The finding with this fingerprint in a json (array) or jsonl report.
fn from_report(path: &Path, fingerprint: &str) -> Result<(String, String)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    std::io::BufReader::new(file)
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let findings: Vec<serde_json::Value> = match serde_json::from_str(&text) {
        Ok(serde_json::Value::Array(findings)) => findings,
        _ => {
            let mut findings = Vec::new();
            for (number, line) in text.as_bytes().lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                findings.push(serde_json::from_str(&line).map_err(|_| {
                    anyhow::anyhow!(
                        "{}: line {} is not a JSON finding (expected a json or jsonl report)",
                        path.display(),
                        number + 1
                    )
                })?);
            }
            findings
        }
    };
    let Some(finding) = findings
        .iter()
        .find(|finding| finding["fingerprint"].as_str() == Some(fingerprint))
    else {
        bail!(
            "{}: no finding has the fingerprint {fingerprint}",
            path.display()
        );
    };
    finding_secret(finding, &path.display().to_string())
}

fn finding_secret(finding: &serde_json::Value, origin: &str) -> Result<(String, String)> {
    let (Some(rule_id), Some(secret)) = (finding["rule_id"].as_str(), finding["secret"].as_str())
    else {
        bail!("{origin}: the finding has no rule_id and secret");
    };
    let redacted = crate::finding::redact(secret.as_bytes());
    if secret.ends_with("****") || secret == redacted {
        bail!(
            "{origin}: the finding's secret is redacted; write the report with --show-secrets \
             (and delete it afterwards), or pipe the secret itself with --rule {rule_id}"
        );
    }
    Ok((rule_id.to_string(), secret.to_string()))
}

/// Asks on the terminal, not standard input (which may carry the secret).
fn confirm(question: &str) -> Result<bool> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    let Ok(mut tty) = tty else {
        bail!(
            "cannot ask for confirmation without a terminal; pass --yes to revoke without asking"
        );
    };
    tty.write_all(question.as_bytes())?;
    tty.flush()?;
    let mut answer = String::new();
    std::io::BufReader::new(&mut tty).read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
