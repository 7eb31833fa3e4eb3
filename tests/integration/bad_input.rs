//! Bad input: a clear error (exit 2) for what makes the run meaningless, a warning naming the
//! culprit (and the run going on) for everything else.

use crate::util::*;

#[test]
fn nonexistent_path_exits_2_naming_it() {
    let dir = Dir::new();
    let output = run(dir.command().args(["scan", "no/such/place"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no/such/place: no such file or directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreadable_rule_file_is_one_line_naming_it_and_its_cause_once() {
    let dir = Dir::new();
    let output = run(dir
        .command()
        .args(["scan", ".", "--rules", "missing-rules.toml"]));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    let line = text
        .lines()
        .find(|line| line.starts_with("leakhound: error:"))
        .unwrap_or_default();
    assert!(
        line.starts_with(
            "leakhound: error: missing-rules.toml: cannot read rule file: No such file or directory"
        ),
        "{text}"
    );
    assert_eq!(
        line.matches("No such file or directory").count(),
        1,
        "{text}"
    );
}

#[test]
fn unknown_flag_exits_2() {
    let output = run(leakhound().args(["scan", "--frobnicate"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn broken_symlink_is_a_warning_and_the_scan_goes_on() {
    let dir = Dir::new();
    dir.write("real.env", format!("T={}\n", github_token("ghp_", 20)));
    std::os::unix::fs::symlink(dir.join("missing-target"), dir.join("dangling")).unwrap();
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("dangling: broken symbolic link"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "real.env".into(), 1, 3)]
    );
}

#[test]
fn unreadable_file_is_a_warning_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    dir.write("tree/ok.env", format!("T={}\n", github_token("ghp_", 21)));
    let locked = dir.write(
        "tree/locked.env",
        format!("T={}\n", github_token("ghp_", 22)),
    );
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let Some(output) = unprivileged(&dir, &["scan", "tree", "--format", "json", "--no-progress"])
    else {
        panic!("cannot run the binary without privileges (setpriv missing?)");
    };
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("locked.env: cannot read"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("1 unreadable"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "ok.env".into(), 1, 3)]
    );
}

#[test]
fn unreadable_directory_is_a_warning_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    dir.write("tree/ok.env", format!("T={}\n", github_token("ghp_", 23)));
    dir.write(
        "tree/closed/inner.env",
        format!("T={}\n", github_token("ghp_", 24)),
    );
    std::fs::set_permissions(
        dir.join("tree/closed"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let Some(output) = unprivileged(&dir, &["scan", "tree", "--format", "json", "--no-progress"])
    else {
        panic!("cannot run the binary without privileges (setpriv missing?)");
    };
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("closed"), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning"), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "ok.env".into(), 1, 3)]
    );
}

#[test]
fn invalid_utf8_is_scanned_not_skipped() {
    let dir = Dir::new();
    let mut bytes = b"caf\xe9 \xff\xfe broken\n".to_vec();
    bytes.extend_from_slice(format!("T={}\n", github_token("ghp_", 25)).as_bytes());
    dir.write("latin1.txt", bytes);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "latin1.txt".into(), 2, 3)]
    );
}

#[test]
fn rule_file_that_does_not_parse_exits_2_naming_file_and_line() {
    let dir = Dir::new();
    dir.write("bad.toml", "[[rule]]\nid = \"x\"\nname = = \"broken\"\n");
    let output = run(dir.command().args(["scan", ".", "--rules", "bad.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.toml:3:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn rule_without_secret_group_exits_2_naming_file_and_rule() {
    let dir = Dir::new();
    dir.write(
        "rules/mine.toml",
        acme_rule(
            "acme_[a-z0-9]{20}",
            &["acme_k3j4h5g6f7d8s9a0q1w2", "x acme_p0o9i8u7y6t5r4e3w2q1"],
            "acme_short",
        ),
    );
    let output = run(dir.command().args(["scan", ".", "--rules", "rules"]));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("mine.toml") && text.contains("acme-token") && text.contains("secret"),
        "{text}"
    );
}

#[test]
fn unknown_rule_key_is_an_error_naming_the_key() {
    let dir = Dir::new();
    dir.write(
        "mine.toml",
        "[[rule]]\nid = \"a\"\nname = \"A\"\nprovider = \"A\"\nseverity = \"low\"\nkeywords = [\"abc\"]\nregex = '(?P<secret>abc)'\nremediation = \"r\"\nentropie = 3.0\n",
    );
    let output = run(dir.command().args(["scan", ".", "--rules", "mine.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("entropie"), "{}", stderr(&output));
}

#[test]
fn unknown_config_key_is_an_error_naming_the_key() {
    let dir = Dir::new();
    dir.write(".leakhound.toml", "[allowlist]\npathes = [\"x\"]\n");
    let output = run(dir.command().args(["scan", "."]));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("pathes") && text.contains(".leakhound.toml"),
        "{text}"
    );
}

#[test]
fn user_rule_with_failing_example_is_rejected() {
    let dir = Dir::new();
    dir.write(
        "mine.toml",
        acme_rule(
            "(?P<secret>acme_[a-z0-9]{20})",
            &["acme_k3j4h5g6f7d8s9a0q1w2", "acme_tooshort"],
            "acme_short",
        ),
    );
    let output = run(dir.command().args(["scan", ".", "--rules", "mine.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("acme-token`: example #2 does not match"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn user_rule_finds_its_token() {
    let dir = Dir::new();
    dir.write("mine.toml", good_acme_rule());
    dir.write("app/conf.yml", "acme:\n  key: acme_z8x7c6v5b4n3m2l1k0j9\n");
    let output =
        run(dir
            .command()
            .args(["scan", "app", "--rules", "mine.toml", "--format", "json"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("acme-token".into(), "conf.yml".into(), 2, 8)]
    );
}

#[test]
fn symlink_loop_is_named_as_a_loop() {
    let dir = Dir::new();
    dir.write("real.env", format!("T={}\n", github_token("ghp_", 21)));
    std::os::unix::fs::symlink("loop-b", dir.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", dir.join("loop-b")).unwrap();
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1));
    assert_stderr_contains(&output, "loop-a: symbolic link loop, skipped");
    assert_eq!(json_findings(&output).len(), 1);
}
