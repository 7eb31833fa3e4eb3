//! Live validation and revocation against a loopback server imitating each provider's
//! documented answers (fixtures/validation/*.toml). No test reaches the internet.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde::Deserialize;

use crate::mock_http::{MockServer, Recorded, Reply};
use crate::util::*;
use leakhound::rules::model::HttpCheck;
use leakhound::validation::{Endpoints, Engine, EngineOptions, Job, ValidationStatus, Values};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    secret: String,
    #[serde(default)]
    parts: BTreeMap<String, String>,
    request: Expected,
    live: Answer,
    invalid: Answer,
    #[serde(default)]
    revoke: Option<RevokeCase>,
}

/// What the validator must send: method, path with query, headers whose values must contain
/// the given text, body fragments, basic credentials. Values are templates like the rules'.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    basic_auth: Option<[String; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    status: u16,
    #[serde(default)]
    body: String,
    #[serde(default)]
    identity: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeCase {
    request: Expected,
    status: u16,
    #[serde(default)]
    body: String,
}

fn fill(template: &str, values: &Values) -> String {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    text
}

/// `None` when `request` is what `expected` describes, else what differs (never the secret).
fn mismatch(expected: &Expected, values: &Values, request: &Recorded) -> Option<String> {
    if request.method != expected.method {
        return Some(format!(
            "method {} instead of {}",
            request.method, expected.method
        ));
    }
    let path = fill(&expected.path, values);
    if request.target != path {
        return Some(format!("path differs from {}", expected.path));
    }
    for (name, value) in &expected.headers {
        let wanted = fill(value, values);
        match request.header(name) {
            Some(actual) if actual.contains(&wanted) => {}
            Some(_) => return Some(format!("header {name} lacks {value}")),
            None => return Some(format!("header {name} missing")),
        }
    }
    let body = String::from_utf8_lossy(&request.body);
    for fragment in &expected.body_contains {
        if !body.contains(&fill(fragment, values)) {
            return Some(format!("body lacks {fragment}"));
        }
    }
    if let Some([user, password]) = &expected.basic_auth {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            fill(user, values),
            fill(password, values)
        ));
        if request.header("authorization") != Some(&format!("Basic {token}")) {
            return Some(format!("basic auth is not {user}:{password}"));
        }
    }
    None
}

/// The fixture directory; `LEAKHOUND_TEST_FIXTURES_DIR` points a prebuilt test binary at a
/// work-in-progress copy (rule authors check validators without rebuilding).
fn fixtures() -> Vec<(String, Case)> {
    let dir = std::env::var_os("LEAKHOUND_TEST_FIXTURES_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/validation")
        });
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/validation")
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture readable");
        let parsed: FixtureFile =
            toml::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        cases.extend(parsed.case.into_iter().map(|case| (name.clone(), case)));
    }
    cases
}

/// Each rule's provider, validator and revocation: the built-in rules, or the rule directory
/// `LEAKHOUND_TEST_RULES_DIR` names (see `fixtures`).
fn builtin_checks() -> HashMap<String, (String, Option<HttpCheck>, Option<HttpCheck>)> {
    let rules = match std::env::var_os("LEAKHOUND_TEST_RULES_DIR") {
        Some(dir) => leakhound::rules::load_path(std::path::Path::new(&dir)),
        None => leakhound::rules::load_builtin(),
    };
    rules
        .expect("rules load")
        .into_iter()
        .map(|rule| {
            (
                rule.spec.id.clone(),
                (
                    rule.spec.provider.clone(),
                    rule.spec.validate,
                    rule.spec.revoke,
                ),
            )
        })
        .collect()
}

fn test_engine(check: &HttpCheck, server: &MockServer, retries: u32) -> Engine {
    let map = check
        .hosts
        .iter()
        .map(|host| (host.clone(), server.base()))
        .collect();
    Engine::new(
        EngineOptions {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            retries,
            backoff: Duration::from_millis(5),
            max_wait: Duration::from_millis(20),
            ..Default::default()
        },
        Endpoints::loopback_for_tests(map).expect("loopback map"),
    )
}

/// Runs `check` once against a server answering `reply` when the request is the expected one
/// (and 418 otherwise); returns the verdict, the requests seen and any mismatch.
fn exchange(
    check: &HttpCheck,
    values: &Values,
    expected: &Expected,
    reply: Reply,
    retries: u32,
) -> (
    leakhound::validation::Verdict,
    Vec<Recorded>,
    Option<String>,
) {
    let mismatches = std::sync::Arc::new(std::sync::Mutex::new(None));
    let server = {
        let expected = expected.clone();
        let values = values.clone();
        let mismatches = std::sync::Arc::clone(&mismatches);
        MockServer::start(move |request| match mismatch(&expected, &values, request) {
            None => reply.clone(),
            Some(problem) => {
                *mismatches.lock().unwrap() = Some(problem);
                Reply::new(418, "request not as documented")
            }
        })
    };
    let engine = test_engine(check, &server, retries);
    let job = Job {
        check,
        values: values.clone(),
    };
    let (mut verdicts, _) = engine.run(std::slice::from_ref(&job));
    let problem = mismatches.lock().unwrap().clone();
    (verdicts.remove(0), server.requests(), problem)
}

/// Every validator and revocation, against the provider's documented answers for a live key,
/// a revoked key and a rate limit; each must send the documented request.
#[test]
fn every_validator_reads_its_providers_documented_answers() {
    let checks = builtin_checks();
    let cases = fixtures();
    let mut failures = Vec::new();
    let mut covered = BTreeSet::new();
    for (file, case) in &cases {
        let label = format!("{file}: {}", case.rule);
        let Some((_, Some(check), revoke)) = checks.get(&case.rule) else {
            failures.push(format!(
                "{label}: no built-in rule with a validator has this id"
            ));
            continue;
        };
        covered.insert(case.rule.clone());
        let mut values = Values::new();
        values.insert("secret".into(), case.secret.clone());
        for (name, value) in &case.parts {
            values.insert(name.clone(), value.clone());
        }
        let live = Reply::new(case.live.status, &case.live.body)
            .header("Content-Type", "application/json");
        let (verdict, _, problem) = exchange(check, &values, &case.request, live, 0);
        if let Some(problem) = problem {
            failures.push(format!("{label}: request not as documented: {problem}"));
            continue;
        }
        if verdict.status != ValidationStatus::Live || verdict.identity != case.live.identity {
            failures.push(format!(
                "{label}: live answer read as {:?} ({}) with identity {:?}, expected live with {:?}",
                verdict.status, verdict.detail, verdict.identity, case.live.identity
            ));
        }
        let invalid = Reply::new(case.invalid.status, &case.invalid.body)
            .header("Content-Type", "application/json");
        let (verdict, _, _) = exchange(check, &values, &case.request, invalid, 0);
        if verdict.status != ValidationStatus::Invalid {
            failures.push(format!(
                "{label}: revoked-key answer read as {:?} ({})",
                verdict.status, verdict.detail
            ));
        }
        let limited = Reply::new(429, r#"{"message":"rate limited"}"#).header("Retry-After", "0");
        let (verdict, requests, _) = exchange(check, &values, &case.request, limited, 1);
        if verdict.status != ValidationStatus::Unknown
            || !verdict.detail.contains("429")
            || requests.len() != 2
        {
            failures.push(format!(
                "{label}: a rate limit gave {:?} ({}) after {} requests, expected unknown after \
                 one retry",
                verdict.status,
                verdict.detail,
                requests.len()
            ));
        }
        match (revoke, &case.revoke) {
            (Some(revoke), Some(expected)) => {
                let reply = Reply::new(expected.status, &expected.body);
                let (verdict, _, problem) = exchange(revoke, &values, &expected.request, reply, 0);
                if let Some(problem) = problem {
                    failures.push(format!(
                        "{label}: revoke request not as documented: {problem}"
                    ));
                } else if verdict.status != ValidationStatus::Live {
                    failures.push(format!(
                        "{label}: revocation answer read as {:?} ({})",
                        verdict.status, verdict.detail
                    ));
                }
            }
            (Some(_), None) => failures.push(format!("{label}: revocation without a fixture")),
            (None, Some(_)) => failures.push(format!("{label}: fixture for a missing revocation")),
            (None, None) => {}
        }
    }
    for (id, (_, check, _)) in &checks {
        if check.is_some() && !covered.contains(id) {
            failures.push(format!("{id}: validator without a fixture case"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Issue 13's bar: validators for at least 80 providers, each part naming a real rule.
#[test]
fn validators_cover_at_least_80_providers() {
    let checks = builtin_checks();
    let providers: BTreeSet<&str> = checks
        .values()
        .filter(|(_, check, _)| check.is_some())
        .map(|(provider, _, _)| provider.as_str())
        .collect();
    for (id, (_, check, _)) in &checks {
        for part in check.iter().flat_map(|check| check.parts.values()) {
            assert!(
                checks.contains_key(part),
                "{id}: part rule {part} does not exist"
            );
        }
    }
    assert!(
        providers.len() >= 80,
        "validators cover {} providers: {providers:?}",
        providers.len()
    );
}
