//! The CI gate: SARIF (validated against the official 2.1.0 schema), CSV, baselines.

use crate::util::*;

fn tree_with_two_secrets() -> (Dir, String, String) {
    let dir = Dir::new();
    let first = github_token("ghp_", 200);
    let second = github_token("ghp_", 201);
    dir.write("app/config.env", format!("# cfg\nGITHUB_TOKEN={first}\n"));
    dir.write("app/copy.env", format!("GITHUB_TOKEN={first}\n"));
    dir.write("lib/client.py", format!("TOKEN = \"{second}\"\n"));
    (dir, first, second)
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/sarif-schema-2.1.0.json"
    )))
    .expect("schema parses");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid_sarif(document: &serde_json::Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_from_scan_validates_against_the_official_schema() {
    let (dir, first, second) = tree_with_two_secrets();
    let output = run(dir.command().args(["scan", ".", "--format", "sarif"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&document);
    let text = stdout(&output);
    assert!(
        !text.contains(&first) && !text.contains(&second),
        "SARIF is redacted"
    );
    let run = &document["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], "github-pat-classic");
    assert!(rules[0]["help"]["text"]
        .as_str()
        .unwrap()
        .contains("https://"));
    assert!(rules[0]["help"]["markdown"]
        .as_str()
        .unwrap()
        .starts_with("**GitHub personal access token (classic)** (GitHub)\n\n"));
    assert!(rules[0]["helpUri"]
        .as_str()
        .unwrap()
        .starts_with("https://docs.github.com/"));
    assert_ne!(rules[0]["name"], rules[0]["id"]);
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app/config.env");
    assert_eq!(location["region"]["startLine"], 2);
    assert_eq!(location["region"]["startColumn"], 14);
    let related = results[0]["relatedLocations"].as_array().unwrap();
    assert_eq!(
        related[0]["physicalLocation"]["artifactLocation"]["uri"],
        "app/copy.env"
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "lib/client.py"
    );
}

#[test]
fn sarif_from_history_validates_and_carries_the_commit() {
    let repo = GitRepo::new();
    repo.write("a.env", format!("T={}\n", github_token("ghp_", 202)));
    let commit = repo.commit_all("add");
    let output = run(leakhound()
        .arg("history")
        .arg(repo.path())
        .args(["--format", "sarif"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&document);
    let result = &document["runs"][0]["results"][0];
    assert_eq!(result["properties"]["commit"], commit.as_str());
    assert_eq!(result["properties"]["status"], "present");
}

#[test]
fn empty_sarif_is_valid() {
    let dir = Dir::new();
    dir.write("a.txt", "nothing here\n");
    let output = run(dir.command().args(["scan", ".", "--format", "sarif"]));
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&document);
    assert!(document["runs"][0]["results"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn csv_has_a_header_and_one_row_per_finding() {
    let (dir, first, _) = tree_with_two_secrets();
    let output = run(dir.command().args(["scan", ".", "--format", "csv"]));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("rule_id,rule_name,provider,severity,confidence,path,line,column"));
    assert!(
        lines[1].starts_with("github-pat-classic,GitHub personal access token"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",app/config.env,2,14,ghp_****,"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(",lib/client.py,1,10,"), "{}", lines[2]);
    assert!(!text.contains(&first));
}

#[test]
fn baseline_round_trip_accepts_known_and_reports_new_secrets() {
    let (dir, first, _) = tree_with_two_secrets();
    let output =
        run(dir
            .command()
            .args(["scan", "app", "lib", "--write-baseline", "baseline.json"]));
    assert_eq!(output.status.code(), Some(0), "writing a baseline exits 0");
    let written = std::fs::read_to_string(dir.join("baseline.json")).unwrap();
    assert!(!written.contains(&first), "no raw secret in the baseline");
    let plain_digest = blake3::hash(first.as_bytes()).to_hex().to_string();
    assert!(
        !written.contains(&plain_digest[..16]),
        "no plain digest either"
    );
    let parsed: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed["entries"].as_array().unwrap().len(), 2);

    let output = run(dir
        .command()
        .args(["scan", "app", "lib", "--baseline", "baseline.json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("2 in baseline"),
        "{}",
        stderr(&output)
    );

    // The baselined secret moves down and the file gains lines: still accepted.
    dir.write(
        "app/config.env",
        format!("# cfg\n# more\n# lines\n\nGITHUB_TOKEN={first}\n"),
    );
    // A different secret on a baselined line: reported.
    let third = github_token("ghp_", 203);
    dir.write("lib/client.py", format!("TOKEN = \"{third}\"\n"));
    let output = run(dir.command().args([
        "scan",
        "app",
        "lib",
        "--baseline",
        "baseline.json",
        "--format",
        "json",
    ]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "lib/client.py".into(), 1, 10)]
    );
    assert!(
        stderr(&output)
            .contains("stale baseline entry: github-pat-classic (was at lib/client.py:1)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("baseline.json")).unwrap(),
        written,
        "a scan never rewrites the baseline"
    );
}

#[test]
fn stale_baseline_entries_fail_only_with_fail_on_stale() {
    let dir = Dir::new();
    dir.write("a.env", format!("T={}\n", github_token("ghp_", 204)));
    run(dir
        .command()
        .args(["scan", ".", "--write-baseline", "../b.json"]));
    let baseline = dir.path().parent().unwrap().join("b.json");
    dir.write("a.env", "T=nothing\n");
    let baseline_arg = baseline.to_str().unwrap();
    let output = run(dir
        .command()
        .args(["scan", ".", "--baseline", baseline_arg]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 stale baseline entry"),
        "{}",
        stderr(&output)
    );
    let output =
        run(dir
            .command()
            .args(["scan", ".", "--baseline", baseline_arg, "--fail-on-stale"]));
    assert_eq!(output.status.code(), Some(1));
    let _ = std::fs::remove_file(baseline);
}

#[test]
fn unreadable_baseline_exits_2() {
    let dir = Dir::new();
    dir.write("baseline.json", "{ not json");
    let output = run(dir
        .command()
        .args(["scan", ".", "--baseline", "baseline.json"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("baseline.json"),
        "{}",
        stderr(&output)
    );
}

/// A gate's configuration comes from the base of the change it judges.
mod configuration_from_the_base {
    use crate::util::*;

    fn locations_of(output: &std::process::Output) -> Vec<(String, String, u64, u64)> {
        locations(&json_findings(output))
    }

    #[test]
    fn a_pull_request_cannot_allowlist_its_own_secret() {
        let repo = GitRepo::new();
        repo.write("README.md", "hello\n");
        let base = repo.commit_all("initial");
        repo.write(".leakhound.toml", "[allowlist]\npaths = [\"**\"]\n");
        repo.write("deploy.env", format!("T={}\n", github_token("ghp_", 600)));
        repo.commit_all("add deploy settings");
        let range = format!("{base}..HEAD");
        let output = repo.history(&["--range", &range]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(
            locations_of(&output),
            [("github-pat-classic".into(), "deploy.env".into(), 1, 3)]
        );
        assert_stderr_contains(&output, ".leakhound.toml is changed in the range");
        assert_stderr_contains(&output, "it would add allowlist.paths [\"**\"]");

        // The same check from the work tree's config (no range) honours it: a full audit of
        // the repository as it is.
        let audit = repo.history(&[]);
        assert_eq!(audit.status.code(), Some(0), "{}", stderr(&audit));
    }

    #[test]
    fn the_base_configuration_applies_to_the_range() {
        let repo = GitRepo::new();
        repo.write(
            ".leakhound.toml",
            "[allowlist]\npaths = [\"fixtures/**\"]\n",
        );
        let base = repo.commit_all("initial");
        repo.write(
            "fixtures/fake.env",
            format!("T={}\n", github_token("ghp_", 601)),
        );
        repo.write("real.env", format!("T={}\n", github_token("ghp_", 602)));
        repo.commit_all("more");
        let output = repo.history(&["--range", &format!("{base}..HEAD")]);
        assert_eq!(
            locations_of(&output),
            [("github-pat-classic".into(), "real.env".into(), 1, 3)]
        );
        assert!(
            !stderr(&output).contains("is changed"),
            "{}",
            stderr(&output)
        );
        // --config-from is the user's explicit choice of revision, and wins over the base.
        repo.write(".leakhound.toml", "[allowlist]\npaths = [\"**\"]\n");
        repo.commit_all("allow everything");
        let output = repo.history(&["--range", &format!("{base}..HEAD"), "--config-from", "HEAD"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(locations_of(&output).is_empty());
        let output = repo.history(&["--range", &format!("{base}..HEAD")]);
        assert_eq!(locations_of(&output).len(), 1);
    }

    #[test]
    fn a_staged_change_cannot_allowlist_its_own_secret() {
        let repo = GitRepo::new();
        repo.write("README.md", "hello\n");
        repo.commit_all("initial");
        repo.write(
            ".leakhound.toml",
            "disabled_rules = [\"github-pat-classic\"]\n",
        );
        repo.write("app.env", format!("T={}\n", github_token("ghp_", 603)));
        repo.git(&["add", "-A"]);
        let output = run(leakhound().arg("staged").arg(repo.path()).args([
            "--format",
            "json",
            "--no-progress",
        ]));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(
            locations_of(&output),
            [("github-pat-classic".into(), "app.env".into(), 1, 3)]
        );
        assert_stderr_contains(&output, ".leakhound.toml is changed by the staged change");
        assert_stderr_contains(&output, "disabled_rules [\"github-pat-classic\"]");

        // Once the configuration is committed on its own, it applies.
        repo.git(&["reset", "-q"]);
        repo.git(&["add", ".leakhound.toml"]);
        repo.git(&["commit", "-q", "-m", "configure"]);
        repo.git(&["add", "app.env"]);
        let output = run(leakhound().arg("staged").arg(repo.path()).args([
            "--format",
            "json",
            "--no-progress",
        ]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
}

#[test]
fn gitlab_report_validates_against_gitlabs_schema_and_hides_the_secret() {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/gitlab-secret-detection-report-format-15.0.2.json"
    )))
    .expect("schema parses");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("schema compiles");
    let repo = GitRepo::new();
    let token = github_token("ghp_", 205);
    repo.write("deploy/app.env", format!("# app\nGITHUB_TOKEN={token}\n"));
    let commit = repo.commit_all("add token");
    let check = |output: &std::process::Output| -> serde_json::Value {
        let text = stdout(output);
        assert!(!text.contains(&token), "the secret is in the report");
        let report: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        report
    };
    let history = run(leakhound().arg("history").arg(repo.path()).args([
        "--format",
        "gitlab",
        "--no-progress",
    ]));
    assert_eq!(history.status.code(), Some(1), "{}", stderr(&history));
    let report = check(&history);
    assert_eq!(report["scan"]["type"], "secret_detection");
    let vulnerability = &report["vulnerabilities"][0];
    assert_eq!(vulnerability["severity"], "Critical");
    assert_eq!(
        vulnerability["identifiers"][0]["value"],
        "github-pat-classic"
    );
    assert_eq!(vulnerability["location"]["file"], "deploy/app.env");
    assert_eq!(vulnerability["location"]["start_line"], 2);
    assert_eq!(vulnerability["location"]["commit"]["sha"], commit.as_str());
    // Outside history, and with a scan marked incomplete.
    let scanned = run(leakhound().current_dir(repo.path()).args([
        "scan",
        ".",
        "--format",
        "gitlab",
        "--no-progress",
        "--max-file-size",
        "10",
    ]));
    let report = check(&scanned);
    assert_eq!(report["vulnerabilities"], serde_json::json!([]));
    assert_eq!(report["scan"]["messages"][0]["level"], "warn");
    let scanned = run(leakhound().current_dir(repo.path()).args([
        "scan",
        ".",
        "--format",
        "gitlab",
        "--no-progress",
    ]));
    let report = check(&scanned);
    assert_eq!(
        report["vulnerabilities"][0]["location"]["commit"]["sha"],
        "0000000"
    );
}
