//! Grouping across repositories (`audit`, `merge`): the same credential in twelve repositories
//! is one finding, with the other places as occurrences. Findings arrive already grouped within
//! their repository; they are grouped again by fingerprint, so `merge` (which sees only
//! serialised findings) produces exactly what one `audit` run produces.

use std::collections::HashMap;

use crate::finding::{Finding, SecretStatus};

/// Tags a repository's findings (and their occurrences) with its name.
pub fn tag_repository(findings: &mut [Finding], repository: &str) {
    for finding in findings {
        finding.repository = Some(repository.to_string());
        for occurrence in &mut finding.occurrences {
            occurrence.repository = Some(repository.to_string());
        }
    }
}

/// One finding per fingerprint: the first by (repository, path, line, column, commit, rule)
/// stays; every other finding and its occurrences become occurrences, sorted and without
/// duplicates; `present` wins over `removed`.
pub fn group_across_repositories(mut all: Vec<Finding>) -> Vec<Finding> {
    let key = |finding: &Finding| {
        (
            finding.repository.clone(),
            finding.path.clone(),
            finding.line,
            finding.column,
            finding.commit().map(str::to_string),
            finding.rule.rule_id.clone(),
        )
    };
    all.sort_by_cached_key(key);
    let mut grouped: Vec<Finding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for finding in all {
        match index.get(&finding.fingerprint) {
            Some(&at) => {
                let primary = &mut grouped[at];
                primary.occurrences.push(finding.occurrence());
                primary.occurrences.extend(finding.occurrences);
                if finding.status == Some(SecretStatus::Present) {
                    primary.status = Some(SecretStatus::Present);
                }
            }
            None => {
                index.insert(finding.fingerprint.clone(), grouped.len());
                grouped.push(finding);
            }
        }
    }
    // By what reports show, so a merge of serialised shards orders them the same way.
    for finding in &mut grouped {
        let place = |occurrence: &crate::finding::Occurrence| {
            (
                occurrence.repository.clone(),
                occurrence.path.clone(),
                occurrence.line,
                occurrence.column,
                occurrence.commit.clone(),
            )
        };
        finding.occurrences.sort_by_cached_key(place);
        finding.occurrences.dedup_by(|a, b| place(a) == place(b));
    }
    grouped
}
