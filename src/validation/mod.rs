//! Live validation (`--validate`): asks each credential's provider whether it still works, with
//! the request its rule's `[rule.validate]` block describes, and revocation (`leakhound
//! revoke`). It runs after grouping and suppression, on the findings that will be reported,
//! and is the only stage that reads `Finding::raw_secret` besides redaction. See
//! docs/ARCHITECTURE.md.

pub mod context;
pub mod google_jwt;
pub mod http;
pub mod request;
pub mod sigv4;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::finding::Finding;
pub use crate::finding::{Validation, ValidationStatus};
use crate::rules::model::HttpCheck;

pub use http::{Endpoints, Engine, EngineOptions, HostReport, Job};
pub use request::{Values, Verdict};

impl From<Verdict> for Validation {
    fn from(verdict: Verdict) -> Validation {
        Validation {
            status: verdict.status,
            detail: verdict.detail,
            identity: verdict.identity,
        }
    }
}

/// Each rule's validator, by rule id.
pub type Validators = HashMap<String, Arc<HttpCheck>>;

/// What the stage did, for the summary and the warning line.
#[derive(Debug, Default, Clone)]
pub struct StageReport {
    pub validated: usize,
    pub live: usize,
    pub invalid: usize,
    pub unknown: usize,
    pub hosts: HostReport,
}

/// Per validated finding: the jobs to try in order, each with the findings that supplied its
/// parts; or why it cannot be asked (a part is missing).
type Plan = Result<Vec<(usize, Vec<usize>)>, String>;

/// Most pairings tried for one finding when several candidates for a part sit in its file.
const MAX_PAIRINGS: usize = 3;

/// Validates every finding whose rule has a validator, sets `Finding::validation`, and gives the
/// other part of a live multi-part credential the same result. Each distinct (rule, credential)
/// is asked once per run, however many findings carry it.
pub fn validate_findings(
    findings: &mut [Finding],
    validators: &Validators,
    engine: &Engine,
) -> StageReport {
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut job_index: HashMap<(String, Values), usize> = HashMap::new();
    let mut plans: Vec<Option<Plan>> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        let Some(check) = validators.get(&finding.rule.rule_id) else {
            plans.push(None);
            continue;
        };
        let secret = String::from_utf8_lossy(finding.raw_secret.bytes()).into_owned();
        if let Some(name) = check
            .context
            .keys()
            .find(|name| !finding.context.contains_key(*name) && needed_first(check, name))
        {
            plans.push(Some(Err(format!(
                "not checked: needs the {name} that goes with it (the rule's validator context), \
                 and none was found in the same file"
            ))));
            continue;
        }
        let pairings = match pairings(findings, index, check) {
            Ok(pairings) => pairings,
            Err(missing) => {
                plans.push(Some(Err(missing)));
                continue;
            }
        };
        let mut plan = Vec::new();
        for partners in pairings {
            let mut values = Values::new();
            values.insert("secret".into(), secret.clone());
            for (name, value) in &finding.context {
                values.insert(name.clone(), value.clone());
            }
            for ((name, _), &partner) in check.parts.iter().zip(&partners) {
                let part = String::from_utf8_lossy(findings[partner].raw_secret.bytes());
                values.insert(name.clone(), part.into_owned());
            }
            let key = (finding.rule.rule_id.clone(), values);
            let job = *job_index.entry(key.clone()).or_insert_with(|| {
                jobs.push(Job {
                    check,
                    values: key.1,
                });
                jobs.len() - 1
            });
            plan.push((job, partners));
        }
        plans.push(Some(Ok(plan)));
    }
    let (verdicts, hosts) = engine.run(&jobs);
    let mut report = StageReport {
        hosts,
        ..StageReport::default()
    };
    let mut partner_results: Vec<(usize, Validation)> = Vec::new();
    for (index, plan) in plans.into_iter().enumerate() {
        let mut partners_used: Vec<usize> = Vec::new();
        let validation = match plan {
            None => continue,
            Some(Err(missing)) => Validation {
                status: ValidationStatus::Unknown,
                detail: missing,
                identity: BTreeMap::new(),
            },
            Some(Ok(plan)) => {
                // The best answer over the pairings tried: live, then invalid, then unknown.
                let best = plan
                    .iter()
                    .min_by_key(|(job, _)| verdicts[*job].status)
                    .expect("a plan has at least one pairing");
                partners_used.clone_from(&best.1);
                if verdicts[best.0].status == ValidationStatus::Live {
                    for &partner in &best.1 {
                        let finding = &findings[index];
                        partner_results.push((
                            partner,
                            Validation {
                                status: ValidationStatus::Live,
                                detail: format!(
                                    "live together with the {} at {}:{}",
                                    finding.rule.rule_id, finding.path, finding.line
                                ),
                                identity: verdicts[best.0].identity.clone(),
                            },
                        ));
                    }
                }
                Validation::from(verdicts[best.0].clone())
            }
        };
        let secrets: Vec<&[u8]> = std::iter::once(index)
            .chain(partners_used)
            .map(|owner| findings[owner].raw_secret.bytes())
            .collect();
        let validation = scrub(validation, &secrets);
        findings[index].validation = Some(validation);
    }
    for (partner, validation) in partner_results {
        if findings[partner].validation.is_none() {
            findings[partner].validation = Some(validation);
        }
    }
    for finding in findings.iter() {
        let Some(validation) = &finding.validation else {
            continue;
        };
        report.validated += 1;
        match validation.status {
            ValidationStatus::Live => report.live += 1,
            ValidationStatus::Invalid => report.invalid += 1,
            ValidationStatus::Unknown => report.unknown += 1,
        }
    }
    report
}

/// Whether the first request of `check` uses the context value `name`. A value only some
/// fallback URL uses is optional: without it that URL is not tried, and an answer of "invalid"
/// from the others ends as unknown (Cloudflare: a token the user endpoint rejects may be an
/// account's, which only the account's own endpoint can tell).
fn needed_first(check: &HttpCheck, name: &str) -> bool {
    let template = format!("{{{{{name}}}}}");
    check
        .first_request_templates()
        .iter()
        .any(|text| text.contains(&template))
}

/// The findings that can supply each part of `check` for `findings[index]`: same file (path
/// and commit), nearest line first. `Err` names the first part nothing can supply.
fn pairings(
    findings: &[Finding],
    index: usize,
    check: &HttpCheck,
) -> Result<Vec<Vec<usize>>, String> {
    if check.parts.is_empty() {
        return Ok(vec![Vec::new()]);
    }
    let finding = &findings[index];
    let mut per_part: Vec<Vec<usize>> = Vec::new();
    for rule_id in check.parts.values() {
        let mut candidates: Vec<usize> = (0..findings.len())
            .filter(|&other| {
                other != index
                    && findings[other].rule.rule_id == *rule_id
                    && same_file(finding, &findings[other])
            })
            .collect();
        if candidates.is_empty() {
            return Err(format!(
                "not checked: needs the {rule_id} that goes with it, and none was found in the \
                 same file"
            ));
        }
        candidates.sort_by_key(|&other| findings[other].line.abs_diff(finding.line));
        per_part.push(candidates);
    }
    // Vary the first part over its nearest candidates; the others take their nearest.
    let first = &per_part[0];
    Ok(first
        .iter()
        .take(MAX_PAIRINGS)
        .map(|&candidate| {
            std::iter::once(candidate)
                .chain(per_part[1..].iter().map(|candidates| candidates[0]))
                .collect()
        })
        .collect())
}

/// Whether two findings share a file: a place (path, commit) of one is a place of the other.
fn same_file(a: &Finding, b: &Finding) -> bool {
    fn places(finding: &Finding) -> impl Iterator<Item = (&str, Option<&str>)> {
        std::iter::once((finding.path.as_str(), finding.commit())).chain(
            finding
                .occurrences
                .iter()
                .map(|place| (place.path.as_str(), place.commit.as_deref())),
        )
    }
    places(a).any(|place| places(b).any(|other| other == place))
}

/// Drops identity values that carry one of the credential's own parts (a provider that echoes
/// the token back must not put it in the report).
fn scrub(mut validation: Validation, secrets: &[&[u8]]) -> Validation {
    validation.identity.retain(|_, value| {
        !secrets.iter().any(|secret| {
            !secret.is_empty() && memchr::memmem::find(value.as_bytes(), secret).is_some()
        })
    });
    validation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_values_carrying_a_credential_part_are_dropped() {
        let mut identity = BTreeMap::new();
        identity.insert("login".to_string(), "octocat".to_string());
        identity.insert("echo".to_string(), "token=ghp_secretvalue".to_string());
        identity.insert("key".to_string(), "AKIAPARTNER".to_string());
        let validation = Validation {
            status: ValidationStatus::Live,
            detail: "HTTP 200".into(),
            identity,
        };
        let scrubbed = scrub(validation, &[b"ghp_secretvalue", b"AKIAPARTNER"]);
        assert_eq!(
            scrubbed.identity.keys().collect::<Vec<_>>(),
            ["login"],
            "only the value without a credential part is kept"
        );
    }
}
