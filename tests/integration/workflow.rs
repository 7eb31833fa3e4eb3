//! The flags and hooks people reach for in their workflows: --quiet, --color, rule and path
//! selection, --min-confidence, the pre-commit files hook, --version.

use crate::util::*;

fn tree() -> (Dir, String) {
    let dir = Dir::new();
    let token = github_token("ghp_", 1601);
    dir.write("app/config.env", format!("GITHUB_TOKEN={token}\n"));
    dir.write(
        "app/settings.py",
        format!("DB_PASSWORD = \"{}\"\n", Rng::new(1601).string(BASE62, 16)),
    );
    dir.write("vendor/lib.env", format!("TOKEN={token}x\n"));
    (dir, token)
}

fn rule_ids(output: &std::process::Output) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = json_findings(output)
        .iter()
        .map(|finding| {
            (
                finding["rule_id"].as_str().unwrap().to_string(),
                finding["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn quiet_prints_nothing_on_a_clean_tree_and_only_the_report_otherwise() {
    let dir = Dir::new();
    dir.write("README.md", "nothing to see\n");
    let clean = run(dir.command().args(["scan", ".", "--quiet"]));
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!((stdout(&clean).as_str(), stderr(&clean).as_str()), ("", ""));

    let (dir, _) = tree();
    let dirty = run(dir.command().args(["scan", ".", "-q"]));
    assert_eq!(dirty.status.code(), Some(1));
    assert!(stdout(&dirty).contains("github-pat-classic"));
    assert_eq!(stderr(&dirty), "", "no summary line with --quiet");

    let json = run(dir.command().args([
        "scan",
        "app/settings.py",
        "--quiet",
        "--format",
        "json",
        "--rule",
        "github-pat-classic",
    ]));
    assert_eq!(
        stdout(&json).trim(),
        "[]",
        "machine formats keep their empty document"
    );
}

#[test]
fn color_always_and_never_override_the_terminal_check() {
    let (dir, _) = tree();
    let always = run(dir.command().args(["scan", ".", "--color", "always"]));
    assert!(stdout(&always).contains("\x1b[1m"), "colour forced on");
    assert!(stderr(&always).contains("\x1b[2mleakhound:"));
    let never = run(dir.command().args(["scan", ".", "--color", "never"]));
    assert!(!stdout(&never).contains('\x1b'));
    assert!(!stderr(&never).contains('\x1b'));
}

#[test]
fn rule_exclude_rule_exclude_and_min_confidence_select_findings() {
    let (dir, _) = tree();
    let all = run(dir.command().args(["scan", ".", "--format", "json"]));
    let everything = rule_ids(&all);
    assert!(everything.contains(&("github-pat-classic".into(), "app/config.env".into())));
    assert!(
        everything
            .iter()
            .any(|(rule, path)| rule.starts_with("generic-") && path == "app/settings.py"),
        "{everything:?}"
    );

    let only = run(dir.command().args([
        "scan",
        ".",
        "--format",
        "json",
        "--rule",
        "github-pat-classic",
    ]));
    assert_eq!(
        rule_ids(&only),
        [(
            "github-pat-classic".to_string(),
            "app/config.env".to_string()
        )]
    );

    let excluded = run(dir.command().args([
        "scan",
        ".",
        "--format",
        "json",
        "--exclude-rule",
        "github-pat-classic",
    ]));
    assert!(rule_ids(&excluded)
        .iter()
        .all(|(rule, _)| rule != "github-pat-classic"));

    let confident =
        run(dir
            .command()
            .args(["scan", ".", "--format", "json", "--min-confidence", "high"]));
    assert!(
        rule_ids(&confident)
            .iter()
            .all(|(rule, _)| !rule.starts_with("generic-")),
        "{:?}",
        rule_ids(&confident)
    );
    assert!(
        stderr(&confident).contains("below --min-confidence"),
        "{}",
        stderr(&confident)
    );

    let paths = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--exclude", "app/*.py"]));
    assert!(rule_ids(&paths)
        .iter()
        .all(|(_, path)| path != "app/settings.py"));
    assert!(rule_ids(&paths)
        .iter()
        .any(|(_, path)| path == "app/config.env"));

    let unknown = run(dir.command().args(["scan", ".", "--rule", "no-such-rule"]));
    assert_eq!(unknown.status.code(), Some(2));
    assert_stderr_contains(&unknown, "no rule has the id `no-such-rule`");
    let bad_glob = run(dir.command().args(["scan", ".", "--exclude", "app/[.py"]));
    assert_eq!(bad_glob.status.code(), Some(2));
    assert_stderr_contains(&bad_glob, "--exclude \"app/[.py\" is not a valid glob");
}

#[test]
fn the_files_hook_finds_a_committed_token_and_reads_the_root_config() {
    // What `pre-commit run --all-files` does with the leakhound-files hook: run its entry from
    // the repository root with every tracked file as arguments.
    let hooks = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let entry = hook_entry("leakhound-files");
    assert!(hooks.contains("pass_filenames: true"));
    let arguments: Vec<&str> = entry.split_whitespace().skip(1).collect();

    let repo = GitRepo::new();
    repo.write(
        "src/deploy.sh",
        format!("export GH_TOKEN={}\n", github_token("ghp_", 1602)),
    );
    repo.write(
        "fixtures/fake.env",
        format!("TOKEN={}\n", github_token("ghp_", 1603)),
    );
    repo.write(
        ".leakhound.toml",
        "[allowlist]\npaths = [\"fixtures/**\"]\n",
    );
    repo.commit_all("add files");
    let files = ["src/deploy.sh", "fixtures/fake.env", ".leakhound.toml"];
    let output = run(leakhound()
        .current_dir(repo.path())
        .args(&arguments)
        .args(files));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("src/deploy.sh"), "{report}");
    assert!(
        !report.contains("fixtures/fake.env"),
        "the root config's allowlist applies: {report}"
    );

    repo.write("src/deploy.sh", "export GH_TOKEN=\"$TOKEN\"\n");
    let clean = run(leakhound()
        .current_dir(repo.path())
        .args(&arguments)
        .args(files));
    assert_eq!(clean.status.code(), Some(0));
    assert_eq!(stdout(&clean), "");
}

#[test]
fn under_the_pre_commit_framework_the_blocking_message_says_skip() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.write("app.env", format!("TOKEN={}\n", github_token("ghp_", 1604)));
    repo.git(&["add", "app.env"]);
    let output = run(leakhound()
        .env("PRE_COMMIT", "1")
        .arg("staged")
        .arg(repo.path()));
    assert_eq!(output.status.code(), Some(1));
    assert_stderr_contains(
        &output,
        "To skip the check for this one commit: SKIP=leakhound git commit",
    );
    assert!(!stderr(&output).contains("--no-verify"));
}

#[test]
fn version_names_the_rule_count() {
    let output = run(leakhound().arg("--version"));
    let text = stdout(&output);
    let rules: usize = text
        .split(" (")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no rule count in {text:?}"));
    let listed = run(leakhound().args(["rules", "list", "--format", "json"]));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(rules, listed.as_array().unwrap().len(), "{text}");
    assert!(text.starts_with(&format!("leakhound {} (", env!("CARGO_PKG_VERSION"))));
    assert!(text.contains("with a live validator)"));
}

#[test]
fn shell_completions_and_the_manual_page_are_printed() {
    let bash = run(leakhound().args(["completions", "bash"]));
    assert_eq!(bash.status.code(), Some(0));
    let script = stdout(&bash);
    assert!(script.contains("_leakhound()"), "{script}");
    for subcommand in ["scan", "history", "staged", "audit", "merge"] {
        assert!(script.contains(subcommand), "{subcommand} missing");
    }
    // The bash script parses.
    let dir = Dir::new();
    dir.write("leakhound.bash", &script);
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(dir.path().join("leakhound.bash"))
        .status()
        .expect("bash runs");
    assert!(checked.success());
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let output = run(leakhound().args(["completions", shell]));
        assert_eq!(output.status.code(), Some(0), "{shell}");
        assert!(stdout(&output).contains("leakhound"), "{shell}");
    }
    let man = run(leakhound().arg("man"));
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.contains(".TH leakhound 1"), "{page}");
    assert!(page.contains("audit"), "{page}");
    let bad = run(leakhound().args(["completions", "tcsh"]));
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn gitleaks_allowlists_and_ignore_entries_are_imported() {
    let repo = GitRepo::new();
    let ignored = github_token("ghp_", 40);
    let kept = github_token("ghp_", 41);
    repo.write("app/a.env", format!("# app\nT={ignored}\nU={kept}\n"));
    let commit = repo.commit_all("tokens");
    repo.write(
        ".gitleaks.toml",
        "[allowlist]\npaths = ['''^vendor/''']\nstopwords = ['example']\n\
         [[allowlists]]\nregexTarget = 'line'\nregexes = ['''nope''']\n",
    );
    repo.write(
        ".gitleaksignore",
        format!("{commit}:app/a.env:github-pat:2\nmissing.env:generic-api-key:9\n"),
    );
    let output = run(leakhound().current_dir(repo.path()).args([
        "import-gitleaks",
        "--history",
        "--write-baseline-to",
        "base.json",
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let fragment = stdout(&output);
    assert!(
        fragment
            .contains("[allowlist]\npath_regexes = [\"^vendor/\"]\nstopwords = [\"example\"]\n"),
        "{fragment}"
    );
    assert!(
        fragment.contains("# Not mapped: allowlist 2: 1 regexes with regexTarget = \"line\""),
        "{fragment}"
    );
    let text = stderr(&output);
    assert!(
        text.contains("1 of 2 .gitleaksignore entries matched"),
        "{text}"
    );
    assert!(text.contains("no finding at missing.env:9"), "{text}");
    // The baseline drops the ignored token and keeps the other.
    let baseline = repo.path().join("base.json");
    let findings = json_findings(&repo.history(&["--baseline", baseline.to_str().unwrap()]));
    let lines: Vec<u64> = findings
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3], "{findings:?}");
    // The converted allowlist works as leakhound configuration.
    repo.write(".leakhound.toml", &fragment);
    repo.write(
        "vendor/lib.env",
        format!("V={}\n", github_token("ghp_", 42)),
    );
    let scanned = json_findings(&run(leakhound().current_dir(repo.path()).args([
        "scan",
        ".",
        "--format",
        "json",
        "--no-progress",
    ])));
    assert!(
        scanned.iter().all(|f| f["path"] != "vendor/lib.env"),
        "{scanned:?}"
    );
    assert_eq!(scanned.len(), 2, "{scanned:?}");
}

#[test]
fn a_subdirectory_scan_uses_the_root_config_and_reports_repository_relative_paths() {
    let repo = GitRepo::new();
    repo.write(
        ".leakhound.toml",
        "[allowlist]\npaths = [\"pkg/detectors/github/testdata/**\"]\n",
    );
    repo.write(
        "pkg/detectors/github/v2/github_test.go",
        format!("const token = \"{}\"\n", github_token("ghp_", 43)),
    );
    repo.write(
        "pkg/detectors/github/testdata/fake.env",
        format!("T={}\n", github_token("ghp_", 44)),
    );
    repo.commit_all("detectors");
    let output = run(leakhound()
        .current_dir(repo.path().join("pkg/detectors"))
        .args(["scan", "github", "--format", "sarif", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    // The testdata token is allowlisted by the root config's glob, relative to the root.
    assert_eq!(results.len(), 1, "{results:?}");
    let location = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "pkg/detectors/github/v2/github_test.go");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    let json = json_findings(&run(leakhound().current_dir(repo.path().join("pkg")).args(
        [
            "scan",
            "detectors/github/v2",
            "--format",
            "json",
            "--no-progress",
        ],
    )));
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["path"], "pkg/detectors/github/v2/github_test.go");
}

/// A hook's `entry` from this repository's `.pre-commit-hooks.yaml`.
fn hook_entry(id: &str) -> String {
    let hooks = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    hooks
        .split("\n- id: ")
        .find(|hook| hook.lines().next() == Some(id))
        .and_then(|hook| {
            hook.lines()
                .find_map(|line| line.trim().strip_prefix("entry: "))
        })
        .unwrap_or_else(|| panic!("hook {id} with an entry"))
        .to_string()
}

#[test]
fn the_real_pre_commit_fails_the_files_hook_on_a_committed_token() {
    let installed = std::process::Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !installed {
        eprintln!("skipped: pre-commit is not installed (pip install pre-commit)");
        return;
    }
    let binary = assert_cmd::cargo::cargo_bin("leakhound")
        .display()
        .to_string();
    let local = |entry: String| entry.replacen("leakhound", &binary, 1);
    let repo = GitRepo::new();
    repo.write(
        "src/deploy.sh",
        format!("export GH_TOKEN={}\n", github_token("ghp_", 1604)),
    );
    // The hooks as .pre-commit-hooks.yaml defines them, run from the built binary
    // (`language: system` instead of building this repository with cargo).
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: local\n    hooks:\n\
             \x20     - id: leakhound-files\n        name: leakhound (files)\n        entry: {}\n\
             \x20       language: system\n        pass_filenames: true\n\
             \x20     - id: leakhound\n        name: leakhound\n        entry: {}\n\
             \x20       language: system\n        pass_filenames: false\n        always_run: true\n",
            local(hook_entry("leakhound-files")),
            local(hook_entry("leakhound"))
        ),
    );
    repo.commit_all("committed token");
    let home = Dir::new();
    let pre_commit = |hook: &str| {
        std::process::Command::new("pre-commit")
            .args(["run", "--all-files", hook])
            .current_dir(repo.path())
            .env("PRE_COMMIT_HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("pre-commit runs")
    };
    let files = pre_commit("leakhound-files");
    let text = String::from_utf8_lossy(&files.stdout);
    assert_eq!(files.status.code(), Some(1), "{text}");
    assert!(
        text.contains("leakhound (files)") && text.contains("Failed"),
        "{text}"
    );
    assert!(text.contains("src/deploy.sh"), "{text}");
    // The staged hook sees an empty index under --all-files: why the files hook exists.
    let staged = pre_commit("leakhound");
    let text = String::from_utf8_lossy(&staged.stdout);
    assert_eq!(staged.status.code(), Some(0), "{text}");
    assert!(text.contains("Passed"), "{text}");
}

#[test]
fn the_github_action_scans_the_event_range_and_its_example_uses_real_inputs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let action = std::fs::read_to_string(root.join("action.yml")).unwrap();
    let example =
        std::fs::read_to_string(root.join("deploy/github-actions/pull-request.yml")).unwrap();
    // Every input the example passes is one the action declares.
    let with = example.split("with:").last().unwrap();
    for line in with.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let key = line.trim().split(':').next().unwrap();
        assert!(
            action.contains(&format!("\n  {key}:\n")),
            "undeclared input {key}"
        );
    }
    assert!(action.contains("github/codeql-action/upload-sarif@"));

    let repo = GitRepo::new();
    repo.write("README.md", "demo\n");
    let base = repo.commit_all("base");
    repo.write(
        "ci/deploy.sh",
        format!("export T={}\n", github_token("ghp_", 45)),
    );
    let head = repo.commit_all("token");
    repo.write("docs.md", "more\n");
    let later = repo.commit_all("docs");
    let binary_dir = assert_cmd::cargo::cargo_bin("leakhound")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        binary_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let step = |event: &str, base: &str, head: &str| {
        let outputs = repo.path().join("github-output");
        let _ = std::fs::remove_file(&outputs);
        let result = std::process::Command::new(root.join("action/run.sh"))
            .current_dir(repo.path())
            .env("PATH", &path)
            .env("GITHUB_OUTPUT", &outputs)
            .env("LEAKHOUND_EVENT", event)
            .env("LEAKHOUND_BASE", base)
            .env("LEAKHOUND_HEAD", head)
            .env("LEAKHOUND_SARIF", "out.sarif")
            .output()
            .expect("run.sh runs");
        assert!(
            result.status.success(),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let sarif: serde_json::Value =
            serde_json::from_slice(&std::fs::read(repo.path().join("out.sarif")).unwrap()).unwrap();
        (
            std::fs::read_to_string(&outputs).unwrap(),
            sarif["runs"][0]["results"].as_array().unwrap().len(),
        )
    };
    // The pull request adds the token: found, exit code 1 for the job's last step.
    assert_eq!(
        step("pull_request", &base, &head),
        ("exit-code=1\n".into(), 1)
    );
    // A push of a later, clean commit: its range has nothing.
    assert_eq!(step("push", &head, &later), ("exit-code=0\n".into(), 0));
    // A push creating a branch (before is all zeros): all of history.
    let zeros = "0".repeat(40);
    assert_eq!(step("push", &zeros, &later), ("exit-code=1\n".into(), 1));
}

#[test]
fn staged_from_a_subdirectory_reports_repository_paths_and_reads_the_root_config() {
    let repo = GitRepo::new();
    repo.write(
        ".leakhound.toml",
        "[allowlist]\npaths = [\"sub/testdata/**\"]\n",
    );
    repo.write("README.md", "demo\n");
    repo.commit_all("config");
    repo.write(
        "sub/deep/t.env",
        format!("T={}\n", github_token("ghp_", 46)),
    );
    repo.write(
        "sub/testdata/fake.env",
        format!("T={}\n", github_token("ghp_", 47)),
    );
    repo.git(&["add", "-A"]);
    let output = run(leakhound().current_dir(repo.path().join("sub")).args([
        "staged",
        "--format",
        "json",
        "--no-progress",
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["path"], "sub/deep/t.env");
}
