//! A scanner that prints a secret is worse than none: every test here generates secrets, runs
//! every report format (and the baseline writer), and searches stdout, stderr and written files
//! for each secret and its encoded spellings.

use base64::Engine;

use crate::util::*;

const FORMATS: [&str; 5] = ["human", "json", "jsonl", "sarif", "csv"];

/// The spellings a reader could decode back into `secret`.
fn spellings(secret: &str) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let hex: String = secret.bytes().map(|byte| format!("{byte:02x}")).collect();
    vec![
        secret.to_string(),
        hex.to_ascii_uppercase(),
        hex,
        engine.encode(secret).trim_end_matches('=').to_string(),
    ]
}

/// Fails naming the format and the stream where any spelling of any secret shows.
fn assert_nothing_leaks(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        for spelling in spellings(secret) {
            assert!(
                !text.contains(&spelling),
                "{what} shows {spelling:?} (a spelling of a secret):\n{text}"
            );
        }
    }
}

/// Runs `args` in every format, with `--write-baseline` once more, and checks every stream.
fn assert_no_format_leaks(dir: &Dir, args: &[&str], secrets: &[String]) {
    for format in FORMATS {
        let output = run(dir.command().args(args).args(["--format", format]));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            stderr(&output)
        );
        assert_nothing_leaks(&format!("{format} stdout"), &stdout(&output), secrets);
        assert_nothing_leaks(&format!("{format} stderr"), &stderr(&output), secrets);
    }
    let baseline = dir.join("baseline.json");
    let output = run(dir
        .command()
        .args(args)
        .arg("--write-baseline")
        .arg(&baseline));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_nothing_leaks("stdout with --write-baseline", &stdout(&output), secrets);
    let written = std::fs::read_to_string(&baseline).expect("baseline written");
    assert_nothing_leaks("the baseline file", &written, secrets);
}

#[test]
fn commit_messages_are_redacted_and_scanned() {
    let repo = GitRepo::new();
    let in_file = github_token("ghp_", 500);
    let only_in_message = github_token("ghp_", 501);
    repo.write("deploy.env", format!("GITHUB_TOKEN={in_file}\n"));
    let adding = repo.commit_all(&format!("add token {in_file} for deploys"));
    let message_commit = repo.commit_all(&format!(
        "rotate CI\n\nThe new one is {only_in_message}, old one revoked."
    ));

    let findings = json_findings(&repo.history(&[]));
    let mut seen: Vec<(String, String, u64, String, String)> = findings
        .iter()
        .map(|finding| {
            (
                finding["rule_id"].as_str().unwrap().to_string(),
                finding["path"].as_str().unwrap().to_string(),
                finding["line"].as_u64().unwrap(),
                finding["commit"].as_str().unwrap().to_string(),
                finding["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (
            "github-pat-classic".to_string(),
            "(commit message)".to_string(),
            3,
            message_commit.clone(),
            "commit-message".to_string(),
        ),
        (
            "github-pat-classic".to_string(),
            "deploy.env".to_string(),
            1,
            adding.clone(),
            "git".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    // The file finding's own commit subject carries the token, masked.
    let file_finding = findings
        .iter()
        .find(|finding| finding["path"] == "deploy.env")
        .unwrap();
    assert_eq!(
        file_finding["commit_message"],
        "add token ghp_**** for deploys"
    );
    // The same token in the message of the commit that adds it is one credential, with the
    // message listed as another place it appears.
    let places: Vec<&str> = file_finding["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|place| place["path"].as_str().unwrap())
        .collect();
    assert_eq!(places, ["(commit message)"]);

    let history = ["history", ".", "--no-progress"];
    let dir = &repo.dir;
    assert_no_format_leaks(dir, &history, &[in_file, only_in_message]);
}

#[test]
fn commit_message_findings_honour_the_commit_allowlist() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 502);
    let commit = repo.commit_all(&format!("note {token}"));
    repo.write(
        "allow.toml",
        format!("[allowlist]\ncommits = [\"{commit}\"]\n"),
    );
    let output = repo.history(&["--config", repo.dir.join("allow.toml").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(json_findings(&output).is_empty());
}

#[test]
fn every_copy_of_a_secret_on_a_line_is_masked() {
    let dir = Dir::new();
    let password = Rng::new(509).string(BASE62, 16);
    let quoted = Rng::new(510).string(BASE62, 16);
    let aws_id = aws_access_key_id(503);
    let aws_secret = Rng::new(504).string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    );
    let encoded_password = base64::engine::general_purpose::STANDARD.encode(&password);
    dir.write(
        "run.sh",
        format!(
            "PGPASSWORD={password} psql postgres://app:{password}@db.internal/app # {encoded_password}\n"
        ),
    );
    dir.write(
        "settings.py",
        format!("password = \"{quoted}\"  # again: {quoted}\n"),
    );
    dir.write(
        "aws.env",
        format!(
            "AWS_ACCESS_KEY_ID={aws_id} AWS_SECRET_ACCESS_KEY={aws_secret} # copy {aws_secret}\n"
        ),
    );
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    let findings = json_findings(&output);
    let mut files: Vec<&str> = findings
        .iter()
        .map(|finding| finding["path"].as_str().unwrap())
        .collect();
    files.dedup();
    assert_eq!(files, ["aws.env", "run.sh", "settings.py"], "{findings:?}");
    assert_no_format_leaks(
        &dir,
        &["scan", "."],
        &[password, quoted, aws_secret, aws_id],
    );
}

#[test]
fn show_secrets_prints_them() {
    let dir = Dir::new();
    let token = github_token("ghp_", 505);
    dir.write("a.env", format!("T={token} # {token}\n"));
    let output = run(dir.command().args(["scan", ".", "--show-secrets"]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).matches(token.as_str()).count(), 3);
}

#[test]
fn csv_escapes_terminal_control_sequences() {
    let dir = Dir::new();
    let token = github_token("ghp_", 506);
    dir.write(
        "a.env",
        format!("T={token} \u{1b}]8;;https://evil.invalid\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J\n"),
    );
    let output = run(dir.command().args(["scan", ".", "--format", "csv"]));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("\\u{1b}]8;;https://evil.invalid"), "{text}");
}

#[test]
fn config_errors_never_echo_values() {
    let dir = Dir::new();
    let token = github_token("ghp_", 507);
    dir.write(".leakhound.toml", format!("max_file_size = \"{token}\"\n"));
    let output = run(dir.command().args(["scan", "."]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "max_file_size");
    assert_nothing_leaks("stderr", &stderr(&output), std::slice::from_ref(&token));

    dir.write(
        ".leakhound.toml",
        format!("[allowlist]\nregexes = ['({token}']\n"),
    );
    let output = run(dir.command().args(["scan", "."]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "allowlist.regexes[0]");
    assert_nothing_leaks("stderr", &stderr(&output), &[token]);
}

fn fingerprints(output: &std::process::Output) -> Vec<String> {
    json_findings(output)
        .iter()
        .map(|finding| finding["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_team_fingerprint_key_changes_fingerprints_and_guards_baselines() {
    let dir = Dir::new();
    dir.write("a.env", format!("T={}\n", github_token("ghp_", 508)));
    let scan = |key: Option<&str>| {
        let mut command = dir.command();
        command.args(["scan", ".", "--format", "json"]);
        if let Some(key) = key {
            command.env("LEAKHOUND_FINGERPRINT_KEY", key);
        }
        run(&mut command)
    };
    let team_key = "f3a9c1d7e5b2a8c4d6e0f1a3b5c7d9e2";
    let builtin = fingerprints(&scan(None));
    let team = fingerprints(&scan(Some(team_key)));
    assert_eq!(builtin.len(), 1);
    assert_ne!(builtin, team);
    assert_eq!(team, fingerprints(&scan(Some(team_key))), "stable per key");
    assert!(team[0].starts_with("github-pat-classic:"));

    let short = scan(Some("weak"));
    assert_eq!(short.status.code(), Some(2));
    assert_stderr_contains(&short, "LEAKHOUND_FINGERPRINT_KEY");
    assert_nothing_leaks("stderr", &stderr(&short), &["weak".to_string()]);

    // A baseline made with the built-in key is refused under a team key, not silently stale.
    let baseline = dir.join("base.json");
    let written = run(dir
        .command()
        .args(["scan", ".", "--write-baseline"])
        .arg(&baseline));
    assert_eq!(written.status.code(), Some(0));
    let mut command = dir.command();
    command
        .args(["scan", ".", "--baseline"])
        .arg(&baseline)
        .env("LEAKHOUND_FINGERPRINT_KEY", team_key);
    let refused = run(&mut command);
    assert_eq!(refused.status.code(), Some(2));
    assert_stderr_contains(&refused, "written with the built-in fingerprint key");
    let accepted = run(dir
        .command()
        .args(["scan", ".", "--baseline"])
        .arg(&baseline));
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
}
