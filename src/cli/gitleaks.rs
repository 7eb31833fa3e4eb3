//! `import-gitleaks`: what a team migrating from gitleaks already decided, in leakhound's terms.
//!
//! - The allowlists of `.gitleaks.toml` (`[allowlist]`, and `[[allowlists]]` from gitleaks 8.25)
//!   become an `[allowlist]` section for `.leakhound.toml`, printed to stdout. Mapped: `paths`
//!   (regexes, as `path_regexes`), `regexes` (against the secret), `stopwords` and `commits`.
//!   What does not map (another `regexTarget`, `condition = "AND"`, per-rule allowlists) is named
//!   in a comment.
//! - `.gitleaksignore` lists findings by gitleaks fingerprint (`commit:path:rule:line`, or
//!   `path:rule:line` outside history). Rule ids differ between the tools, so an entry is matched
//!   by place: the leakhound findings of a scan at that path and line (and commit) go into a
//!   leakhound baseline (`--write-baseline-to FILE`). Entries that match nothing are listed.

use anyhow::{Context, Result};

use super::args::ImportGitleaksArgs;
use super::config_source::ConfigSource;
use super::output::Output;
use super::plan;
use super::EXIT_CLEAN;
use crate::diagnostics::Diagnostics;
use crate::finding::Finding;
use crate::scan;
use crate::source;
use crate::suppress::baseline;

pub fn import_command(args: ImportGitleaksArgs) -> Result<i32> {
    let config_file = args
        .gitleaks_config
        .clone()
        .or_else(|| Some(args.path.join(".gitleaks.toml")).filter(|file| file.is_file()));
    if let Some(file) = &config_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let fragment = convert_allowlists(&text)
            .with_context(|| format!("{}: not a gitleaks configuration", file.display()))?;
        print!("{fragment}");
    }
    let ignore_file = args
        .gitleaksignore
        .clone()
        .or_else(|| Some(args.path.join(".gitleaksignore")).filter(|file| file.is_file()));
    let entries = match &ignore_file {
        Some(file) => parse_ignore(
            &std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        ),
        None => Vec::new(),
    };
    if config_file.is_none() && ignore_file.is_none() {
        anyhow::bail!(
            "{}: neither .gitleaks.toml nor .gitleaksignore found",
            args.path.display()
        );
    }
    if entries.is_empty() {
        return Ok(EXIT_CLEAN);
    }
    let Some(baseline_path) = &args.write_baseline_to else {
        eprintln!(
            "leakhound: {} .gitleaksignore entries: pass --write-baseline-to FILE to turn them into a baseline",
            entries.len()
        );
        return Ok(EXIT_CLEAN);
    };
    let findings = scan_for_entries(&args)?;
    let mut matched: Vec<Finding> = Vec::new();
    let mut unmatched: Vec<&IgnoreEntry> = Vec::new();
    for entry in &entries {
        let hits: Vec<&Finding> = findings
            .iter()
            .filter(|finding| entry.matches(finding))
            .collect();
        if hits.is_empty() {
            unmatched.push(entry);
        }
        for hit in hits {
            if !matched
                .iter()
                .any(|kept| kept.fingerprint == hit.fingerprint && kept.path == hit.path)
            {
                matched.push(hit.clone());
            }
        }
    }
    let file = baseline::build(&matched);
    let mut target = Output::open(Some(baseline_path))?;
    serde_json::to_writer_pretty(target.writer(), &file)
        .with_context(|| format!("cannot write baseline {}", baseline_path.display()))?;
    target.writer().write_all(b"\n")?;
    target.finish()?;
    eprintln!(
        "leakhound: {} of {} .gitleaksignore entries matched; baseline {} has {} entr{}",
        entries.len() - unmatched.len(),
        entries.len(),
        baseline_path.display(),
        file.entries.len(),
        if file.entries.len() == 1 { "y" } else { "ies" }
    );
    for entry in unmatched {
        eprintln!(
            "leakhound: no finding at {} (from .gitleaksignore: {})",
            crate::diagnostics::sanitize(&entry.place()),
            crate::diagnostics::sanitize(&entry.text)
        );
    }
    Ok(EXIT_CLEAN)
}

fn scan_for_entries(args: &ImportGitleaksArgs) -> Result<Vec<Finding>> {
    let plan = plan::build(&args.common, ConfigSource::Directory(Some(&args.path)))?;
    let diagnostics = Diagnostics::new(false);
    let mut outcome = if args.history {
        let options = source::git::HistoryOptions {
            repo: args.path.clone(),
            range: None,
            since: None,
            threads: plan.threads,
            max_file_size: plan.max_file_size,
            admission: plan.admission,
            budget: plan.budget.clone(),
        };
        super::allocator::scan_history(&plan, &options, &diagnostics)?
    } else {
        let walk = source::fs::WalkOptions {
            path_prefix: String::new(),
            roots: vec![args.path.clone()],
            respect_ignore_files: true,
            threads: plan.threads,
            max_file_size: plan.max_file_size,
            admission: plan.admission,
            budget: plan.budget.clone(),
        };
        scan::scan_source(&plan.matcher, &walk, &plan.settings, &diagnostics)
    };
    // Only the masking stage: these findings become baseline entries, not a report.
    plan.pipeline().redact.run(&mut outcome);
    Ok(outcome.findings)
}

/// One `.gitleaksignore` line.
struct IgnoreEntry {
    text: String,
    commit: Option<String>,
    path: String,
    line: usize,
}

impl IgnoreEntry {
    /// The finding, or one of its other places, is at this entry's path and line (and commit).
    fn matches(&self, finding: &Finding) -> bool {
        let here = |path: &str, line: usize, commit: Option<&str>| {
            path == self.path
                && line == self.line
                && self
                    .commit
                    .as_deref()
                    .is_none_or(|wanted| commit.is_some_and(|commit| commit.starts_with(wanted)))
        };
        here(&finding.path, finding.line, finding.commit())
            || finding
                .occurrences
                .iter()
                .any(|place| here(&place.path, place.line, place.commit.as_deref()))
    }

    fn place(&self) -> String {
        match &self.commit {
            Some(commit) => format!("{}:{} in {commit}", self.path, self.line),
            None => format!("{}:{}", self.path, self.line),
        }
    }
}

/// `commit:path:rule:line` or `path:rule:line`; `#` comments and blank lines skipped. Parsed
/// from the right, so a path may hold colons.
fn parse_ignore(text: &str) -> Vec<IgnoreEntry> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let (rest, number) = line.rsplit_once(':')?;
            let number: usize = number.parse().ok()?;
            let (rest, _rule) = rest.rsplit_once(':')?;
            let (commit, path) = match rest.split_once(':') {
                Some((first, path))
                    if first.len() >= 7 && first.bytes().all(|byte| byte.is_ascii_hexdigit()) =>
                {
                    (Some(first.to_ascii_lowercase()), path)
                }
                _ => (None, rest),
            };
            Some(IgnoreEntry {
                text: line.to_string(),
                commit,
                path: path.to_string(),
                line: number,
            })
        })
        .collect()
}

/// The `[allowlist]` section for `.leakhound.toml` made from a gitleaks configuration.
fn convert_allowlists(text: &str) -> Result<String> {
    let config: toml::Table = toml::from_str(text)?;
    let mut lists: Vec<&toml::Table> = Vec::new();
    if let Some(single) = config.get("allowlist").and_then(toml::Value::as_table) {
        lists.push(single);
    }
    if let Some(many) = config.get("allowlists").and_then(toml::Value::as_array) {
        lists.extend(many.iter().filter_map(toml::Value::as_table));
    }
    let mut section = toml::Table::new();
    let mut not_mapped: Vec<String> = Vec::new();
    for (index, list) in lists.iter().enumerate() {
        let target = list
            .get("regexTarget")
            .and_then(toml::Value::as_str)
            .unwrap_or("secret");
        let and = list
            .get("condition")
            .and_then(toml::Value::as_str)
            .is_some_and(|condition| condition.eq_ignore_ascii_case("and"));
        if and {
            not_mapped.push(format!(
                "allowlist {} has condition = \"AND\" (leakhound's entries each allow on their own): left out",
                index + 1
            ));
            continue;
        }
        if list.contains_key("targetRules") {
            not_mapped.push(format!(
                "allowlist {} applies to some gitleaks rules only (targetRules): left out",
                index + 1
            ));
            continue;
        }
        for (from, to) in [
            ("paths", "path_regexes"),
            ("regexes", "regexes"),
            ("stopwords", "stopwords"),
            ("commits", "commits"),
        ] {
            let Some(values) = list.get(from).and_then(toml::Value::as_array) else {
                continue;
            };
            if from == "regexes" && target != "secret" {
                not_mapped.push(format!(
                    "allowlist {}: {} regexes with regexTarget = {target:?} (leakhound matches \
                     allowlist regexes against the secret): left out",
                    index + 1,
                    values.len()
                ));
                continue;
            }
            let entry = section
                .entry(to)
                .or_insert_with(|| toml::Value::Array(Vec::new()));
            if let Some(array) = entry.as_array_mut() {
                for value in values {
                    if !array.contains(value) {
                        array.push(value.clone());
                    }
                }
            }
        }
    }
    let rule_lists = config
        .get("rules")
        .and_then(toml::Value::as_array)
        .map_or(0, |rules| {
            rules
                .iter()
                .filter(|rule| rule.get("allowlist").is_some() || rule.get("allowlists").is_some())
                .count()
        });
    if rule_lists > 0 {
        not_mapped.push(format!(
            "{rule_lists} gitleaks rules have their own allowlists (rule ids differ between the \
             tools): left out"
        ));
    }
    let mut wrapper = toml::Table::new();
    wrapper.insert("allowlist".into(), toml::Value::Table(section));
    let mut out = String::from(
        "# Converted from .gitleaks.toml by `leakhound import-gitleaks`; paste into .leakhound.toml.\n",
    );
    for note in &not_mapped {
        out.push_str(&format!("# Not mapped: {note}\n"));
    }
    out.push_str(&toml::to_string(&wrapper)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_lines_and_allowlists_are_read_as_gitleaks_writes_them() {
        let entries = parse_ignore(
            "# comment\n0123abcd0123abcd0123abcd0123abcd0123abcd:src/a:b.env:generic-api-key:12\n\
             config/app.env:github-pat:3\nnot an entry\n",
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].path, "src/a:b.env");
        assert_eq!(entries[0].line, 12);
        assert_eq!(
            entries[0].commit.as_deref(),
            Some("0123abcd0123abcd0123abcd0123abcd0123abcd")
        );
        assert_eq!(entries[1].commit, None);
        let fragment = convert_allowlists(
            "[allowlist]\npaths = ['''^vendor/''']\nstopwords = ['example']\n\
             [[allowlists]]\nregexTarget = 'line'\nregexes = ['''x''']\n\
             [[allowlists]]\ncommits = ['abc1234']\n",
        )
        .unwrap();
        assert!(
            fragment.contains("path_regexes = [\"^vendor/\"]"),
            "{fragment}"
        );
        assert!(fragment.contains("stopwords = [\"example\"]"), "{fragment}");
        assert!(fragment.contains("commits = [\"abc1234\"]"), "{fragment}");
        assert!(
            fragment.contains("# Not mapped: allowlist 2: 1 regexes with regexTarget = \"line\""),
            "{fragment}"
        );
    }
}
