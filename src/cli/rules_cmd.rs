//! `leakhound rules list|show|check`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::args::{ListFormat, RulesCommand};
use super::{EXIT_CLEAN, EXIT_FINDINGS};
use crate::rules::{self, LoadedRule};

pub fn run(command: RulesCommand) -> Result<i32> {
    match command {
        RulesCommand::List { format, rules } => list(format, &rules),
        RulesCommand::Show { id, rules } => show(&id, &rules),
        RulesCommand::Check { files } => check(&files),
        RulesCommand::Fmt { files, check } => format_files(&files, check),
    }
}

/// `rules fmt [--check]`: each named file, or each `*.toml` in a named directory (sorted).
fn format_files(paths: &[PathBuf], check_only: bool) -> Result<i32> {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("{}: cannot list directory", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| {
                    file.extension()
                        .is_some_and(|extension| extension == "toml")
                })
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    let mut differing = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("{}: cannot read rule file", file.display()))?;
        let formatted =
            rules::format::canonical(&text).with_context(|| file.display().to_string())?;
        if formatted == text {
            continue;
        }
        differing += 1;
        if check_only {
            println!("{}: not in canonical form", file.display());
        } else {
            std::fs::write(file, formatted)
                .with_context(|| format!("{}: cannot write rule file", file.display()))?;
            println!("{}: formatted", file.display());
        }
    }
    Ok(if check_only && differing > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    })
}

pub(super) fn all_rules(extra: &[PathBuf]) -> Result<Vec<LoadedRule>> {
    let mut loaded = rules::load_builtin()?;
    for path in extra {
        loaded.extend(rules::load_path(path)?);
    }
    rules::loader::ensure_unique_ids(&loaded)?;
    Ok(loaded)
}

fn list(format: ListFormat, extra: &[PathBuf]) -> Result<i32> {
    let loaded = all_rules(extra)?;
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Json => {
            let entries: Vec<serde_json::Value> = loaded
                .iter()
                .map(|rule| {
                    serde_json::json!({
                        "id": rule.spec.id,
                        "name": rule.spec.name,
                        "provider": rule.spec.provider,
                        "severity": rule.spec.severity,
                        "confidence": rule.spec.confidence,
                        "keywords": rule.spec.keywords,
                        "validates": rule.spec.validate.is_some(),
                        "revokes": rule.spec.revoke.is_some(),
                        "file": rule.origin.display().to_string(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &entries)?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            let id_width = loaded.iter().map(|r| r.spec.id.len()).max().unwrap_or(2);
            let provider_width = loaded
                .iter()
                .map(|r| r.spec.provider.len())
                .max()
                .unwrap_or(8);
            writeln!(
                out,
                "{:id_width$}  {:provider_width$}  {:8}  {:10}  LIVE CHECK",
                "ID", "PROVIDER", "SEVERITY", "CONFIDENCE"
            )?;
            for rule in &loaded {
                let live_check = match (&rule.spec.validate, &rule.spec.revoke) {
                    (Some(_), Some(_)) => "validate, revoke",
                    (Some(_), None) => "validate",
                    (None, Some(_)) => "revoke",
                    (None, None) => "-",
                };
                writeln!(
                    out,
                    "{:id_width$}  {:provider_width$}  {:8}  {:10}  {live_check}",
                    rule.spec.id,
                    rule.spec.provider,
                    rule.spec.severity.as_str(),
                    rule.spec.confidence.as_str()
                )?;
            }
            let validated = loaded
                .iter()
                .filter(|rule| rule.spec.validate.is_some())
                .count();
            writeln!(
                out,
                "{} rules, {validated} with a live validator (--validate)",
                loaded.len()
            )?;
        }
    }
    Ok(EXIT_CLEAN)
}

fn show(id: &str, extra: &[PathBuf]) -> Result<i32> {
    let loaded = all_rules(extra)?;
    let Some(rule) = loaded.iter().find(|rule| rule.spec.id == id) else {
        bail!("no rule with id `{id}` (see `leakhound rules list`)");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "# from {}", rule.origin.display())?;
    for (what, check) in [
        ("validated", &rule.spec.validate),
        ("revoked", &rule.spec.revoke),
    ] {
        if let Some(check) = check {
            writeln!(
                out,
                "# {what} with {} {}; the secret is sent only to: {}",
                check.method,
                check.url,
                check.hosts.join(", ")
            )?;
        }
    }
    let wrapper = serde_json::json!({ "rule": [rule.spec] });
    write!(out, "{}", toml::to_string_pretty(&wrapper)?)?;
    Ok(EXIT_CLEAN)
}

fn check(files: &[PathBuf]) -> Result<i32> {
    let mut user_rules = Vec::new();
    for path in files {
        user_rules.extend(rules::load_path(path)?);
        if user_rules.len() > rules::loader::MAX_USER_RULES {
            anyhow::bail!(
                "{}: more than {} user rules in this run; leakhound loads at most {}",
                path.display(),
                rules::loader::MAX_USER_RULES,
                rules::loader::MAX_USER_RULES
            );
        }
    }
    rules::loader::ensure_unique_ids(&user_rules)?;
    let failures = crate::matcher::examples::check_examples(&user_rules);
    let mut out = std::io::stdout().lock();
    for failure in &failures {
        writeln!(out, "FAIL {failure}")?;
    }
    writeln!(
        out,
        "{} rules checked, {} problems",
        user_rules.len(),
        failures.len()
    )?;
    Ok(if failures.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}
