//! The behavioural check of rules: every example matches its own rule and no negative example
//! does, through a matcher built from the whole rule set, filters and overlap resolution
//! included, so a rule's tests mean what a scan means.

use crate::matcher::Matcher;
use crate::rules::LoadedRule;

/// One failed expectation of a rule's examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub file: String,
    pub rule_id: String,
    pub problem: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: rule `{}`: {}",
            self.file, self.rule_id, self.problem
        )
    }
}

/// Runs every rule's examples through a matcher built from the whole rule set (so overlaps
/// with other rules count, as in a real scan) and lists what did not behave.
pub fn check_examples(rules: &[LoadedRule]) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    let matcher = match Matcher::new(rules.iter().map(|rule| rule.spec.clone()).collect()) {
        Ok(matcher) => matcher,
        Err(error) => {
            failures.push(ExampleFailure {
                file: String::new(),
                rule_id: String::new(),
                problem: error.to_string(),
            });
            return failures;
        }
    };
    let mut scratch = matcher.scratch();
    // An example stands in a file its own rule's `paths` admit. Other rules scoped to other file
    // names (`.esmtprc`, `.ftpconfig`) would not run there, so they neither report in it nor
    // win an overlap, as in a scan (`Matcher::exclude_rules`).
    let path_scoped: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| !rule.spec.paths.is_empty())
        .map(|(index, _)| index)
        .collect();
    for (index, rule) in rules.iter().enumerate() {
        matcher.exclude_rules(
            &mut scratch,
            path_scoped.iter().copied().filter(|&other| other != index),
        );
        // An example of a rule that reads whole files (no keywords) is such a file's content;
        // the path condition is the collector's, not the matcher's, so it is not checked here.
        let whole_file: Vec<usize> = if matcher.is_whole_file(index) {
            vec![index]
        } else {
            Vec::new()
        };
        let file = rule.origin.display().to_string();
        let fail = |problem: String| ExampleFailure {
            file: file.clone(),
            rule_id: rule.spec.id.clone(),
            problem,
        };
        if rule.spec.examples.len() < 2 {
            failures.push(fail("needs at least two examples".into()));
        }
        if rule.spec.negative_examples.is_empty() {
            failures.push(fail("needs at least one negative example".into()));
        }
        for (number, example) in rule.spec.examples.iter().enumerate() {
            let matches = matcher.scan_whole_file(example.as_bytes(), &whole_file, &mut scratch);
            if !matches
                .iter()
                .any(|m| m.rule_index == index && !m.documented_sample)
            {
                let others: Vec<&str> = matches
                    .iter()
                    .map(|m| matcher.rule(m.rule_index).id.as_str())
                    .collect();
                failures.push(fail(format!(
                    "example #{} does not match{}",
                    number + 1,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (matched instead: {})", others.join(", "))
                    }
                )));
            }
        }
        for (number, example) in rule.spec.negative_examples.iter().enumerate() {
            let matches = matcher.scan_whole_file(example.as_bytes(), &whole_file, &mut scratch);
            // A documented sample is dropped by suppression: as good as not found.
            if matches
                .iter()
                .any(|m| m.rule_index == index && !m.documented_sample)
            {
                failures.push(fail(format!("negative example #{} matches", number + 1)));
            }
        }
    }
    failures
}
