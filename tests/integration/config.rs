//! `.leakhound.toml` / `--config`: each key, and each kind of bad config.

use crate::util::*;

fn dir_with_two_tokens() -> (Dir, String, String) {
    let dir = Dir::new();
    let kept = github_token("ghp_", 400);
    let other = github_token("ghp_", 401);
    dir.write("src/a.env", format!("T={kept}\n"));
    dir.write("src/b.env", format!("T={other}\n"));
    (dir, kept, other)
}

fn scan_with_config(dir: &Dir, config: &str) -> std::process::Output {
    dir.write(".leakhound.toml", config);
    run(dir.command().args(["scan", ".", "--format", "json"]))
}

#[test]
fn allowlist_regexes_match_the_secret() {
    let (dir, kept, other) = dir_with_two_tokens();
    let pattern = &other[..12];
    let output = scan_with_config(&dir, &format!("[allowlist]\nregexes = ['^{pattern}']\n"));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "src/a.env".into(), 1, 3)]
    );
    assert_stderr_contains(&output, "1 allowlisted regex");
    let _ = kept;
}

#[test]
fn allowlist_stopwords_are_case_insensitive() {
    let (dir, _, other) = dir_with_two_tokens();
    let word = other[6..14].to_ascii_uppercase();
    let output = scan_with_config(&dir, &format!("[allowlist]\nstopwords = ['{word}']\n"));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "src/a.env".into(), 1, 3)]
    );
    assert_stderr_contains(&output, "1 stopword");
}

#[test]
fn disabled_rules_never_report() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "disabled_rules = ['github-pat-classic']\n");
    let findings = json_findings(&output);
    assert_no_finding_of(&findings, "github-pat-classic");
    assert_stderr_contains(&output, "1 rule disabled by configuration");
}

#[test]
fn a_disabled_rule_does_not_take_bytes_from_an_enabled_one() {
    // The GitHub rule would win the overlap against the generic assignment rule on this line;
    // disabled, it must not hide what the generic rule finds.
    let dir = Dir::new();
    dir.write(
        "a.env",
        format!(
            "GITHUB_TOKEN={}
",
            github_token("ghp_", 402)
        ),
    );
    let output = scan_with_config(
        &dir,
        "disabled_rules = ['github-pat-classic']
",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("generic-credential-unquoted".into(), "a.env".into(), 1, 14)]
    );
}

#[test]
fn disabling_an_unknown_rule_is_an_error() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "disabled_rules = ['no-such-rule']\n");
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "no-such-rule");
}

#[test]
fn entropy_override_raises_a_rules_floor() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "[entropy]\ngithub-pat-classic = 7.9\n");
    let findings = json_findings(&output);
    assert_no_finding_of(&findings, "github-pat-classic");
    let output = scan_with_config(&dir, "[entropy]\nno-such-rule = 3.0\n");
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "entropy.no-such-rule");
}

#[test]
fn entropy_out_of_range_names_the_key() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "[entropy]\ngithub-pat-classic = 9.5\n");
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "entropy.github-pat-classic");
}

#[test]
fn max_file_size_from_config_skips_big_files() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "max_file_size = 10\n");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_stderr_contains(&output, "over size limit");
    let output = scan_with_config(&dir, "max_file_size = 0\n");
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "max_file_size");
}

#[test]
fn extra_rule_files_from_config_are_loaded_relative_to_it() {
    let dir = Dir::new();
    dir.write("ci/rules.toml", good_acme_rule());
    dir.write("app.yml", "key: acme_z8x7c6v5b4n3m2l1k0j9\n");
    let output = scan_with_config(
        &dir,
        "rules = ['ci/rules.toml']\n[allowlist]\npaths = ['ci/**']\n",
    );
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("acme-token".into(), "app.yml".into(), 1, 6)]
    );
}

#[test]
fn explicit_config_flag_wins_and_missing_config_is_an_error() {
    let (dir, _, _) = dir_with_two_tokens();
    dir.write("other.toml", "[allowlist]\npaths = ['src/**']\n");
    let output =
        run(dir
            .command()
            .args(["scan", ".", "--config", "other.toml", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = run(dir
        .command()
        .args(["scan", ".", "--config", "missing.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "missing.toml");
}

#[test]
fn bad_values_name_their_key() {
    let (dir, _, _) = dir_with_two_tokens();
    for (config, key) in [
        (
            "[allowlist]\nregexes = ['(unclosed']\n",
            "allowlist.regexes",
        ),
        ("[allowlist]\ncommits = ['xyz']\n", "allowlist.commits"),
        ("[allowlist]\npaths = 'not-a-list'\n", "paths"),
        ("max_file_size = 'big'\n", "max_file_size"),
        ("[allowlist]\nstopwords = ['  ']\n", "allowlist.stopwords"),
    ] {
        let output = scan_with_config(&dir, config);
        assert_eq!(output.status.code(), Some(2), "{config}");
        assert_stderr_contains(&output, key);
    }
}

#[test]
fn config_that_is_not_toml_exits_2_with_line() {
    let (dir, _, _) = dir_with_two_tokens();
    let output = scan_with_config(&dir, "[allowlist\npaths = []\n");
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, ".leakhound.toml:1:");
}

#[test]
fn allowlisted_commits_hide_history_findings() {
    let repo = GitRepo::new();
    repo.write("a.env", format!("T={}\n", github_token("ghp_", 402)));
    let commit = repo.commit_all("add");
    let config = repo.dir.write(
        "cfg.toml",
        format!("[allowlist]\ncommits = ['{}']\n", &commit[..10]),
    );
    let output = repo.history(&["--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_stderr_contains(&output, "allowlisted commit");
}

#[test]
fn rule_files_named_by_a_base_configuration_are_read_at_the_base() {
    let repo = GitRepo::new();
    repo.write(".leakhound.toml", "rules = [\"ci/rules\"]\n");
    repo.write("ci/rules/acme.toml", good_acme_rule());
    repo.write("README.md", "demo\n");
    let base = repo.commit_all("base with the acme rule");
    repo.write("app.env", "ACME=acme_q1w2e3r4t5y6u7i8o9p0\n");
    repo.commit_all("an acme token");
    // The change under review (here: the work tree) deletes the rule file: the scan of the
    // range still uses the base's rules, read from the base.
    std::fs::remove_dir_all(repo.path().join("ci")).unwrap();
    let range = format!("{base}..HEAD");
    let output = repo.history(&["--range", &range]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["rule_id"], "acme-token");
    assert_eq!(findings[0]["path"], "app.env");
    // A rule path the base does not have is an error naming it and the revision.
    repo.write(".leakhound.toml", "rules = [\"ci/missing.toml\"]\n");
    let moved = repo.commit_all("points at a missing rule file");
    let output = repo.history(&["--config-from", &moved]);
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(
        &output,
        "rules = [\"ci/missing.toml\"]: no such file or directory at",
    );
}
