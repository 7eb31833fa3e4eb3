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
    /// Values the validator's `context` takes from the file (a customer's own host).
    #[serde(default)]
    context: BTreeMap<String, String>,
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
    /// The paths of the fallback URLs, where they differ from `path` (answered the same way).
    #[serde(default)]
    other_paths: Vec<String>,
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
    /// Response headers the provider sends beside the body (identity may read them).
    #[serde(default)]
    headers: BTreeMap<String, String>,
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
    let path_matches = std::iter::once(&expected.path)
        .chain(&expected.other_paths)
        .any(|path| request.target == fill(path, values));
    if !path_matches {
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
        for (name, value) in case.parts.iter().chain(&case.context) {
            values.insert(name.clone(), value.clone());
        }
        let mut live = Reply::new(case.live.status, &case.live.body)
            .header("Content-Type", "application/json");
        for (name, value) in &case.live.headers {
            live = live.header(name, value);
        }
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
        // One retry at each URL: a rate limit at one regional host says nothing of the others.
        let urls = 1 + check.fallback_urls.len();
        if verdict.status != ValidationStatus::Unknown
            || !verdict.detail.contains("429")
            || requests.len() != 2 * urls
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

// ---- The command line: --validate, --only-live, --fail-on, revoke ----

/// A closed port on 127.0.0.1: what a provider is from a machine without network.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A GitHub stand-in: 200 with a user for `live`, 401 for anything else.
fn github_server(live: &str) -> MockServer {
    let live = format!("Bearer {live}");
    MockServer::start(move |request| {
        if request.header("authorization") == Some(live.as_str()) {
            Reply::new(200, r#"{"login":"octocat","id":583231,"type":"User"}"#)
        } else {
            Reply::new(401, r#"{"message":"Bad credentials"}"#)
        }
    })
}

fn validating(dir: &Dir, endpoints: &str, args: &[&str]) -> std::process::Output {
    let mut command = dir.command();
    command
        .env("LEAKHOUND_TEST_ENDPOINTS", endpoints)
        .args(["scan", "."])
        .args(args);
    run(&mut command)
}

fn validation_of(finding: &serde_json::Value) -> (String, String) {
    (
        finding["validation"]["status"]
            .as_str()
            .unwrap_or("none")
            .to_string(),
        finding["validation"]["identity"]["login"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

#[test]
fn validate_marks_a_live_token_with_its_owner_and_asks_once_per_secret() {
    let token = github_token("ghp_", 1301);
    let dir = Dir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    dir.write("b/config.yml", format!("token: {token}\n"));
    let server = github_server(&token);
    let endpoints = format!("api.github.com={}", server.base());
    let output = validating(&dir, &endpoints, &["--validate", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        validation_of(&findings[0]),
        ("live".to_string(), "octocat".to_string())
    );
    assert_eq!(findings[0]["validation"]["identity"]["user_id"], "583231");
    assert_eq!(
        server.requests().len(),
        1,
        "one request for a repeated secret"
    );
    assert!(stderr(&output).contains("validation: 1 live, 0 invalid, 0 unknown (1 request)"));
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(&token), "the token was printed");
    }
    let human = validating(&dir, &endpoints, &["--validate"]);
    assert!(
        stdout(&human).contains(
            "validation: live (HTTP 200: accepted by the provider); identity: login=octocat"
        ),
        "{}",
        stdout(&human)
    );
    let sarif = validating(&dir, &endpoints, &["--validate", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&stdout(&sarif)).expect("sarif json");
    assert_eq!(
        log["runs"][0]["results"][0]["properties"]["validation"]["status"],
        "live"
    );
    let csv = validating(&dir, &endpoints, &["--validate", "--format", "csv"]);
    let csv = stdout(&csv);
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",validation,validation_identity,repository"));
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .ends_with(",live,login=octocat; type=User; user_id=583231,"),
        "{csv}"
    );
}

#[test]
fn validate_without_network_says_unknown_and_keeps_the_exit_status() {
    let token = github_token("ghp_", 1302);
    let dir = Dir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    let endpoints = format!("api.github.com={}", closed_port());
    let without = validating(&dir, &endpoints, &["--format", "json"]);
    let with = validating(&dir, &endpoints, &["--validate", "--format", "json"]);
    assert_eq!(without.status.code(), Some(1));
    assert_eq!(with.status.code(), Some(1), "{}", stderr(&with));
    let findings = json_findings(&with);
    assert_eq!(findings[0]["validation"]["status"], "unknown");
    assert!(findings[0]["validation"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("network:"));
    let messages = stderr(&with);
    let warnings: Vec<&str> = messages
        .lines()
        .filter(|line| line.contains("warning: validation could not reach api.github.com"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", stderr(&with));
    assert!(json_findings(&without)[0].get("validation").is_none());
}

#[test]
fn only_live_and_fail_on_live_shape_the_report_and_the_exit_status() {
    let live = github_token("ghp_", 1303);
    let revoked = github_token("ghp_", 1304);
    let dir = Dir::new();
    dir.write("live.env", format!("GITHUB_TOKEN={live}\n"));
    dir.write("old.env", format!("GITHUB_TOKEN={revoked}\n"));
    let server = github_server(&live);
    let endpoints = format!("api.github.com={}", server.base());

    let all = validating(
        &dir,
        &endpoints,
        &["--validate", "--fail-on", "live", "--format", "json"],
    );
    assert_eq!(all.status.code(), Some(1));
    let mut statuses: Vec<(String, String)> = json_findings(&all)
        .iter()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap().to_string(),
                finding["validation"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("live.env".to_string(), "live".to_string()),
            ("old.env".to_string(), "invalid".to_string())
        ]
    );

    let only = validating(
        &dir,
        &endpoints,
        &["--validate", "--only-live", "--format", "json"],
    );
    let paths: Vec<String> = json_findings(&only)
        .iter()
        .map(|finding| finding["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["live.env"]);

    std::fs::remove_file(dir.join("live.env")).unwrap();
    let none_live = validating(&dir, &endpoints, &["--validate", "--fail-on", "live"]);
    assert_eq!(none_live.status.code(), Some(0), "{}", stderr(&none_live));

    let misuse = validating(&dir, &endpoints, &["--fail-on", "live"]);
    assert_eq!(misuse.status.code(), Some(2));
    assert_stderr_contains(&misuse, "--fail-on live needs --validate");
}

#[test]
fn aws_secret_is_validated_with_the_key_id_found_next_to_it() {
    let key_id = aws_access_key_id(1305);
    let secret = Rng::new(1305).string(BASE62, 40);
    let dir = Dir::new();
    dir.write(
        "credentials",
        format!("[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"),
    );
    let expected_credential = format!("Credential={key_id}/");
    let server = MockServer::start(move |request| {
        let signed = request
            .header("authorization")
            .is_some_and(|value| value.contains(&expected_credential));
        if signed && request.target == "/?Action=GetCallerIdentity&Version=2011-06-15" {
            Reply::new(
                200,
                "<GetCallerIdentityResponse><GetCallerIdentityResult>\
                 <Arn>arn:aws:iam::123456789012:user/deploy</Arn><UserId>AIDAEXAMPLE</UserId>\
                 <Account>123456789012</Account></GetCallerIdentityResult>\
                 </GetCallerIdentityResponse>",
            )
        } else {
            Reply::new(
                403,
                "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
            )
        }
    });
    let endpoints = format!("sts.amazonaws.com={}", server.base());
    let output = validating(&dir, &endpoints, &["--validate", "--format", "json"]);
    let findings = json_findings(&output);
    let by_rule = |rule: &str| {
        findings
            .iter()
            .find(|finding| finding["rule_id"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {findings:?}"))
            .clone()
    };
    let secret_finding = by_rule("aws-secret-access-key");
    assert_eq!(secret_finding["validation"]["status"], "live");
    assert_eq!(
        secret_finding["validation"]["identity"]["arn"],
        "arn:aws:iam::123456789012:user/deploy"
    );
    let key_finding = by_rule("aws-access-key-id");
    assert_eq!(key_finding["validation"]["status"], "live");
    assert_eq!(
        key_finding["validation"]["detail"],
        "live together with the aws-secret-access-key at credentials:3"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_redirect_to_another_host_is_refused_and_a_slow_provider_times_out() {
    let token = github_token("ghp_", 1306);
    let dir = Dir::new();
    dir.write("a.env", format!("GITHUB_TOKEN={token}\n"));
    let redirecting = MockServer::start(|_| {
        Reply::new(302, "").header("Location", "https://collector.example/user")
    });
    let output = validating(
        &dir,
        &format!("api.github.com={}", redirecting.base()),
        &["--validate", "--format", "json"],
    );
    let findings = json_findings(&output);
    assert_eq!(findings[0]["validation"]["status"], "unknown");
    assert_eq!(
        findings[0]["validation"]["detail"],
        "HTTP 302: redirect to another host refused"
    );
    assert_eq!(redirecting.requests().len(), 1);

    let slow = MockServer::start(|_| {
        let mut reply = Reply::new(200, r#"{"login":"late"}"#);
        reply.delay = Duration::from_secs(4);
        reply
    });
    let output = validating(
        &dir,
        &format!("api.github.com={}", slow.base()),
        &["--validate", "--validate-timeout", "1", "--format", "json"],
    );
    let findings = json_findings(&output);
    assert_eq!(findings[0]["validation"]["status"], "unknown");
    assert_eq!(
        findings[0]["validation"]["detail"],
        "network: timed out waiting for the provider"
    );
    assert_eq!(output.status.code(), Some(1));
}

fn revoke_command(dir: &Dir, endpoints: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut command = dir.command();
    command
        .env("LEAKHOUND_TEST_ENDPOINTS", endpoints)
        .arg("revoke")
        .args(args)
        .write_stdin(stdin.as_bytes().to_vec());
    run(&mut command)
}

#[test]
fn revoke_sends_the_documented_revocation_and_never_prints_the_secret() {
    let token = github_token("ghp_", 1307);
    let dir = Dir::new();
    let server = MockServer::start(|request| {
        if request.method == "POST" && request.target == "/credentials/revoke" {
            Reply::new(202, "{}")
        } else {
            Reply::new(404, "{}")
        }
    });
    let endpoints = format!("api.github.com={}", server.base());
    let output = revoke_command(
        &dir,
        &endpoints,
        &["--rule", "github-pat-classic", "--yes"],
        &token,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("revoked: ghp_****"),
        "{}",
        stdout(&output)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, serde_json::json!({ "credentials": [token] }));
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(&token));
    }

    // From a report: the redacted one is refused, the --show-secrets one works.
    dir.write("app.env", format!("GITHUB_TOKEN={token}\n"));
    let redacted = run(dir.command().args(["scan", "app.env", "--format", "json"]));
    let fingerprint = json_findings(&redacted)[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let report = dir.write("redacted.json", stdout(&redacted));
    let report = report.to_str().unwrap();
    let refused = revoke_command(
        &dir,
        &endpoints,
        &["--report", report, "--fingerprint", &fingerprint, "--yes"],
        "",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert_stderr_contains(
        &refused,
        "the finding's secret is redacted; write the report with --show-secrets",
    );
    let full = run(dir
        .command()
        .args(["scan", "app.env", "--format", "jsonl", "--show-secrets"]));
    let report = dir.write("full.jsonl", stdout(&full));
    let output = revoke_command(
        &dir,
        &endpoints,
        &[
            "--report",
            report.to_str().unwrap(),
            "--fingerprint",
            &fingerprint,
            "--yes",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.requests().len(), 2);

    let manual = revoke_command(
        &dir,
        &endpoints,
        &["--rule", "aws-access-key-id", "--yes"],
        &aws_access_key_id(1),
    );
    assert_eq!(manual.status.code(), Some(2));
    assert_stderr_contains(
        &manual,
        "aws-access-key-id: AWS documents no API to revoke this credential; revoke it by hand:",
    );
}

#[test]
fn history_and_staged_validate_too() {
    let token = github_token("ghp_", 1308);
    let repo = GitRepo::new();
    repo.write("deploy.sh", format!("export GH_TOKEN={token}\n"));
    repo.commit_all("add deploy script");
    let server = github_server(&token);
    let mut command = leakhound();
    command
        .env(
            "LEAKHOUND_TEST_ENDPOINTS",
            format!("api.github.com={}", server.base()),
        )
        .args(["history", "--validate", "--format", "json"])
        .arg(repo.path());
    let output = run(&mut command);
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{}", stderr(&output));
    assert_eq!(findings[0]["validation"]["status"], "live");
    assert_eq!(findings[0]["commit"].as_str(), Some(repo.head().as_str()));

    repo.write("ci.env", format!("TOKEN={}\n", github_token("ghp_", 1309)));
    repo.git(&["add", "ci.env"]);
    let mut command = leakhound();
    command
        .env(
            "LEAKHOUND_TEST_ENDPOINTS",
            format!("api.github.com={}", server.base()),
        )
        .args(["staged", "--validate", "--format", "json"])
        .arg(repo.path());
    let output = run(&mut command);
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{}", stderr(&output));
    assert_eq!(findings[0]["path"], "ci.env");
    assert_eq!(findings[0]["validation"]["status"], "invalid");
}

#[test]
fn rules_show_and_list_name_the_hosts_and_checks_reject_unsafe_validators() {
    let show = run(leakhound().args(["rules", "show", "github-pat-classic"]));
    assert!(
        stdout(&show).contains(
            "# validated with GET https://api.github.com/user; the secret is sent only to: \
             api.github.com"
        ),
        "{}",
        stdout(&show)
    );
    assert!(stdout(&show).contains("# revoked with POST https://api.github.com/credentials/revoke"));
    let list = run(leakhound().args(["rules", "list"]));
    let line = stdout(&list)
        .lines()
        .find(|line| line.starts_with("github-pat-classic "))
        .expect("listed")
        .to_string();
    assert!(line.ends_with("validate, revoke"), "{line}");
    let json = run(leakhound().args(["rules", "list", "--format", "json"]));
    let rules: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let aws = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["id"] == "aws-secret-access-key")
        .unwrap();
    assert_eq!(
        (aws["validates"].as_bool(), aws["revokes"].as_bool()),
        (Some(true), Some(false))
    );

    let dir = Dir::new();
    let rule = good_acme_rule();
    for (block, problem) in [
        (
            "hosts = [\"api.acme.example\"]\nmethod = \"GET\"\nurl = \"http://api.acme.example/me\"\nheaders = { Authorization = \"Bearer {{secret}}\" }\n[rule.validate.success]\n",
            "must start with https:// and a literal host",
        ),
        (
            "hosts = [\"api.acme.example\"]\nmethod = \"GET\"\nurl = \"https://collector.example/me\"\nheaders = { Authorization = \"Bearer {{secret}}\" }\n[rule.validate.success]\n",
            "url host \"collector.example\" is not in hosts",
        ),
        (
            "hosts = [\"api.acme.example\"]\nmethod = \"GET\"\nurl = \"https://api.acme.example/me\"\nheaders = { Authorization = \"Bearer {{token}}\" }\n[rule.validate.success]\n",
            "template {{token}} is neither `secret` nor a name in parts or context",
        ),
        (
            "hosts = [\"*.com\"]\nmethod = \"GET\"\nurl = \"https://{{org}}.com/me\"\nheaders = { Authorization = \"Bearer {{secret}}\" }\ncontext = { org = 'org=(?P<value>[a-z]+)' }\n[rule.validate.success]\n",
            "admits a whole top-level domain",
        ),
        (
            "hosts = [\"api.acme.example\"]\nmethod = \"GET\"\nurl = \"https://{{org}}.acme.example/me\"\nheaders = { Authorization = \"Bearer {{secret}}\" }\ncontext = { org = 'org=(?P<value>[a-z]+)' }\n[rule.validate.success]\n",
            "a host from context needs a `*.` entry in hosts",
        ),
        (
            "hosts = [\"*.acme.example\"]\nmethod = \"GET\"\nurl = \"https://{{org}}.acme.example/me\"\nheaders = { Authorization = \"Bearer {{secret}}\" }\n[rule.validate.success]\n",
            "the host may only come from a `context` value",
        ),
    ] {
        let file = dir.write("acme.toml", format!("{rule}\n[rule.validate]\n{block}"));
        let output = run(leakhound().args(["rules", "check"]).arg(&file));
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert_stderr_contains(&output, problem);
    }
}

#[test]
fn a_regional_key_is_tried_at_each_documented_host_until_one_says_live() {
    let mut rng = Rng::new(1400);
    let eu_key = rng.string(b"0123456789abcdef", 32);
    let dead_key = rng.string(b"0123456789abcdef", 32);
    let dir = Dir::new();
    dir.write("eu.env", format!("DD_API_KEY={eu_key}\n"));
    dir.write("dead.env", format!("DD_API_KEY={dead_key}\n"));
    // Every site answers 403 (Datadog's answer for a key it does not know) but the EU site,
    // which knows the EU key.
    let elsewhere = MockServer::start(|_| Reply::new(403, r#"{"errors":["Forbidden"]}"#));
    let eu = {
        let eu_key = eu_key.clone();
        MockServer::start(move |request| {
            if request.header("dd-api-key") == Some(eu_key.as_str()) {
                Reply::new(200, r#"{"valid":true}"#)
            } else {
                Reply::new(403, r#"{"errors":["Forbidden"]}"#)
            }
        })
    };
    let sites = [
        "api.datadoghq.com",
        "api.us3.datadoghq.com",
        "api.us5.datadoghq.com",
        "api.ap1.datadoghq.com",
        "api.ap2.datadoghq.com",
        "api.uk1.datadoghq.com",
        "api.ddog-gov.com",
        "api.us2.ddog-gov.com",
    ];
    let mut endpoints: Vec<String> = sites
        .iter()
        .map(|site| format!("{site}={}", elsewhere.base()))
        .collect();
    endpoints.push(format!("api.datadoghq.eu={}", eu.base()));
    let output = validating(
        &dir,
        &endpoints.join(","),
        &["--validate", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = validation_rows(&output, "datadog-api-key", "/identity/host");
    assert_eq!(
        results,
        [
            ("dead.env".into(), "invalid".into(), String::new()),
            ("eu.env".into(), "live".into(), "api.datadoghq.eu".into()),
        ]
    );
    // The EU key was asked of US1, US3 and US5 before the EU site (Datadog's order), and the
    // dead key of every site; nothing else was sent anywhere.
    let eu_requests = eu.requests().len();
    assert_eq!(eu_requests, 2, "the EU site is asked once per key");
    assert_eq!(elsewhere.requests().len(), 3 + 8);
}

#[test]
fn an_azure_client_secret_is_checked_with_its_tenant_and_client_ids_from_the_same_file() {
    let mut rng = Rng::new(1500);
    let uuid = |rng: &mut Rng| {
        let hex = rng.string(b"0123456789abcdef", 32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..]
        )
    };
    let (tenant, client, other_tenant) = (uuid(&mut rng), uuid(&mut rng), uuid(&mut rng));
    let secret = format!(
        "{}8Q~{}",
        rng.string(BASE62, 3),
        rng.string(
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            34
        )
    );
    let other_secret = format!("{}8Q~{}", rng.string(BASE62, 3), rng.string(BASE62, 34));
    let dir = Dir::new();
    dir.write(
        "app/.env",
        format!(
            "AZURE_CLIENT_ID={client}\nAZURE_CLIENT_SECRET={secret}\nAZURE_TENANT_ID={tenant}\n"
        ),
    );
    // The same secret beside a tenant Entra does not know: the pairing is wrong, so unknown.
    dir.write(
        "old/.env",
        format!("AZURE_CLIENT_ID={client}\nAZURE_CLIENT_SECRET={other_secret}\nAZURE_TENANT_ID={other_tenant}\n"),
    );
    let server = {
        let (tenant, client, secret) = (tenant.clone(), client.clone(), secret.clone());
        MockServer::start(move |request| {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            if !request
                .target
                .starts_with(&format!("/{tenant}/oauth2/v2.0/token"))
            {
                return Reply::new(400, r#"{"error":"invalid_request","error_codes":[90002]}"#);
            }
            if body.contains(&format!("client_id={client}"))
                && body.contains(&format!("client_secret={secret}&"))
                || body.ends_with(&format!("client_secret={secret}"))
            {
                Reply::new(
                    200,
                    r#"{"token_type":"Bearer","expires_in":3599,"access_token":"x"}"#,
                )
            } else {
                Reply::new(401, r#"{"error":"invalid_client","error_codes":[7000215]}"#)
            }
        })
    };
    let output = validating(
        &dir,
        &format!("login.microsoftonline.com={}", server.base()),
        &["--validate", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let results = validation_rows(&output, "azure-entra-client-secret", "/detail");
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(
        (results[0].0.as_str(), results[0].1.as_str()),
        ("app/.env", "live")
    );
    assert_eq!(
        (results[1].0.as_str(), results[1].1.as_str()),
        ("old/.env", "unknown")
    );
    // No secret in any detail.
    assert!(results
        .iter()
        .all(|(_, _, detail)| !detail.contains(&secret)));
}

/// (path, validation status, the validation field at `pointer`) of each finding of `rule`,
/// sorted.
fn validation_rows(
    output: &std::process::Output,
    rule: &str,
    pointer: &str,
) -> Vec<(String, String, String)> {
    let text = |value: Option<&serde_json::Value>| {
        value
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut rows: Vec<(String, String, String)> = json_findings(output)
        .iter()
        .filter(|finding| finding["rule_id"] == rule)
        .map(|finding| {
            (
                text(finding.get("path")),
                text(finding["validation"].get("status")),
                text(finding["validation"].pointer(pointer)),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_low_severity_part_still_pairs_under_a_severity_floor_and_is_then_dropped() {
    let mut rng = Rng::new(1600);
    let sid = format!("AC{}", rng.string(b"0123456789abcdef", 32));
    let token = rng.string(b"0123456789abcdef", 32);
    let dir = Dir::new();
    dir.write(
        "twilio.env",
        format!("TWILIO_ACCOUNT_SID={sid}\nTWILIO_AUTH_TOKEN={token}\n"),
    );
    let server = {
        let path = format!("/2010-04-01/Accounts/{sid}.json");
        MockServer::start(move |request| {
            if request.target == path {
                Reply::new(
                    200,
                    r#"{"friendly_name":"Acme","status":"active","type":"Full"}"#,
                )
            } else {
                Reply::new(404, "{}")
            }
        })
    };
    let output = validating(
        &dir,
        &format!("api.twilio.com={}", server.base()),
        &["--validate", "--min-severity", "medium", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    // The SID (low severity) is not reported, but the token was checked with it.
    assert_eq!(
        locations(&findings),
        vec![("twilio-auth-token".into(), "twilio.env".into(), 2, 19)]
    );
    assert_eq!(findings[0]["validation"]["status"], "live");
    assert_eq!(server.requests().len(), 1);
    assert_stderr_contains(&output, "suppressed: 1 below --min-severity");
}

#[test]
fn a_gcp_service_account_key_file_is_checked_by_signing_a_token_request_with_its_own_key() {
    // The fixture's RSA key (made for the fixture), in a key file as Google writes one.
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/validation/google.toml");
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let private_key = table["case"][0]["parts"]["private_key"]
        .as_str()
        .unwrap()
        .to_string();
    let key_id = Rng::new(1800).string(b"0123456789abcdef", 40);
    let email = "deploy-bot@acme-prod-3141.iam.gserviceaccount.com";
    let dir = Dir::new();
    dir.write(
        "deploy/sa.json",
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod-3141\",\n  \
             \"private_key_id\": \"{key_id}\",\n  \"private_key\": \"{private_key}\",\n  \
             \"client_email\": \"{email}\"\n}}\n"
        ),
    );
    let server = {
        let key_id = key_id.clone();
        MockServer::start(move |request| {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            let Some(assertion) = body.split("assertion=").nth(1) else {
                return Reply::new(400, r#"{"error":"invalid_request"}"#);
            };
            use base64::Engine as _;
            let header = assertion.split('.').next().unwrap_or_default();
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(header)
                .unwrap_or_default();
            if request.target == "/token" && String::from_utf8_lossy(&header).contains(&key_id) {
                Reply::new(200, r#"{"access_token":"ya29.test","token_type":"Bearer"}"#)
            } else {
                Reply::new(
                    400,
                    r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
                )
            }
        })
    };
    let output = validating(
        &dir,
        &format!("oauth2.googleapis.com={}", server.base()),
        &["--validate", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rows = validation_rows(&output, "gcp-service-account-key", "/status");
    assert_eq!(
        rows,
        [(
            "deploy/sa.json".to_string(),
            "live".to_string(),
            "live".to_string()
        )]
    );
    assert_eq!(server.requests().len(), 1);
    // Nothing of the key reaches the report.
    let report = stdout(&output);
    assert!(!report.contains(&private_key[40..80]), "{report}");
}

/// A token whose API lives on the customer's own host (Okta): the host is the nearest
/// `<org>.okta.com` in the same file, the request goes there and nowhere else, and a token with
/// no such host beside it is not sent at all.
#[test]
fn a_customer_host_is_taken_from_the_tokens_own_file() {
    let mut rng = Rng::new(1700);
    let token = format!("00{}", rng.string(BASE62, 40));
    let other = format!("00{}", rng.string(BASE62, 40));
    let dir = Dir::new();
    dir.write(
        "config/okta.env",
        format!(
            "# staging\nOKTA_ORG_URL=https://acme-staging.oktapreview.com\n\n\
             # production\nOKTA_ORG_URL=https://dev-27182818.okta.com\nOKTA_API_TOKEN={token}\n"
        ),
    );
    dir.write("lonely.env", format!("OKTA_API_TOKEN={other}\n"));
    let server = {
        let expected = format!("SSWS {token}");
        MockServer::start(move |request| {
            let authorized = request.header("authorization") == Some(expected.as_str());
            if request.target == "/api/v1/users/me" && authorized {
                Reply::new(
                    200,
                    r#"{"id":"00u1a2b3c4d5e6f7g8h9","status":"ACTIVE","profile":{"login":"ops@acme.example"}}"#,
                )
            } else {
                Reply::new(401, r#"{"errorCode":"E0000011"}"#)
            }
        })
    };
    // Only the production org's host is mapped: a request to any other host would fail to
    // connect and come back unknown, not live.
    let output = validating(
        &dir,
        &format!("dev-27182818.okta.com={}", server.base()),
        &["--validate", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    let rows: Vec<(String, u64, String, String)> = findings
        .iter()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap().to_string(),
                finding["line"].as_u64().unwrap(),
                finding["validation"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                finding["validation"]["detail"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "config/okta.env");
    assert_eq!((rows[0].1, rows[0].2.as_str()), (6, "live"));
    assert_eq!(
        findings[0]["validation"]["identity"]["login"],
        "ops@acme.example"
    );
    assert_eq!(rows[1].0, "lonely.env");
    assert_eq!(rows[1].2, "unknown");
    assert!(
        rows[1].3.contains("needs the org_host"),
        "detail: {}",
        rows[1].3
    );
    // One request: the lonely token was never sent anywhere.
    assert_eq!(server.requests().len(), 1);
    let text = stdout(&output);
    assert!(!text.contains(&token) && !text.contains(&other));
}

/// An account-owned Cloudflare token fails the user endpoint and is live at its account's: the
/// account id comes from the same file. Without one, a token the user endpoint rejects stays
/// unknown rather than invalid, since it may be an account's.
#[test]
fn an_account_token_is_asked_at_its_accounts_endpoint_when_the_file_names_the_account() {
    let mut rng = Rng::new(1900);
    let token = format!("cfat_{}", rng.string(BASE62, 48));
    let lonely = format!("cfat_{}", rng.string(BASE62, 48));
    let account = rng.string(b"0123456789abcdef", 32);
    let dir = Dir::new();
    dir.write(
        "wrangler.env",
        format!("CLOUDFLARE_ACCOUNT_ID={account}\nCLOUDFLARE_API_TOKEN={token}\n"),
    );
    dir.write("ci.env", format!("CLOUDFLARE_API_TOKEN={lonely}\n"));
    let server = {
        let account_path = format!("/client/v4/accounts/{account}/tokens/verify");
        let expected = format!("Bearer {token}");
        MockServer::start(move |request| {
            let ours = request.header("authorization") == Some(expected.as_str());
            if request.target == account_path && ours {
                Reply::new(
                    200,
                    r#"{"success":true,"errors":[],"messages":[],"result":{"id":"4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e","status":"active"}}"#,
                )
            } else {
                Reply::new(
                    401,
                    r#"{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}]}"#,
                )
            }
        })
    };
    let output = validating(
        &dir,
        &format!("api.cloudflare.com={}", server.base()),
        &["--validate", "--format", "json"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    let rows: Vec<(String, String, String)> = findings
        .iter()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap().to_string(),
                finding["validation"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                finding["validation"]["identity"]["token_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("ci.env".into(), "unknown".into(), String::new()),
            (
                "wrangler.env".into(),
                "live".into(),
                "4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e".into()
            ),
        ]
    );
    assert!(
        findings[0]["validation"]["detail"]
            .as_str()
            .unwrap()
            .contains("no value for {{account_id}}"),
        "{}",
        findings[0]["validation"]["detail"]
    );
    // The live token: user endpoint, then its account's. The lonely one: the user endpoint only.
    assert_eq!(server.requests().len(), 3);
}
