//! `leakhound scan`: exact findings, grouping, redaction, ignore files, skipping, stdin.

use crate::util::*;

/// A small tree with two credentials, one of them copied into a second file.
struct Tree {
    dir: Dir,
    token_a: String,
    token_b: String,
}

fn tree() -> Tree {
    let dir = Dir::new();
    let token_a = github_token("ghp_", 1);
    let token_b = github_token("ghp_", 2);
    dir.write(
        "config/.env",
        format!("# settings\nGITHUB_TOKEN={token_a}\n"),
    );
    dir.write(
        "src/app.py",
        format!("import client\n\n    api = client.Client(key=\"{token_b}\")\n"),
    );
    dir.write(
        "docs/setup.md",
        format!("# Setup\n\nSet the token:\n\n    export GITHUB_TOKEN={token_a}\n"),
    );
    dir.write("src/clean.rs", "fn main() { println!(\"hello\"); }\n");
    Tree {
        dir,
        token_a,
        token_b,
    }
}

#[test]
fn json_reports_rule_path_line_and_column_of_each_credential() {
    let tree = tree();
    let output = run(tree.dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        vec![
            ("github-pat-classic".into(), "config/.env".into(), 2, 14),
            ("github-pat-classic".into(), "src/app.py".into(), 3, 30),
        ]
    );
    let occurrences = findings[0]["occurrences"].as_array().expect("occurrences");
    assert_eq!(occurrences.len(), 1);
    assert_eq!(occurrences[0]["path"], "docs/setup.md");
    assert_eq!(occurrences[0]["line"], 5);
    assert_eq!(occurrences[0]["column"], 25);
    assert!(findings[1]["occurrences"].as_array().unwrap().is_empty());
}

#[test]
fn json_finding_carries_every_file_field_of_the_schema() {
    let tree = tree();
    let output = run(tree.dir.command().args(["scan", ".", "--format", "json"]));
    let finding = &json_findings(&output)[0];
    for field in [
        "rule_id",
        "rule_name",
        "provider",
        "severity",
        "confidence",
        "path",
        "line",
        "column",
        "secret",
        "snippet",
        "entropy",
        "fingerprint",
        "remediation",
        "occurrences",
        "source",
    ] {
        assert!(!finding[field].is_null(), "missing {field} in {finding}");
    }
    assert_eq!(finding["source"], "file");
    assert_eq!(finding["provider"], "GitHub");
    assert_eq!(
        finding["confidence"], "high",
        "valid check digits give high confidence"
    );
    assert!(finding["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("github-pat-classic:"));
    assert!(finding.get("commit").is_none(), "no git fields for files");
}

#[test]
fn jsonl_has_one_object_per_finding() {
    let tree = tree();
    let output = run(tree.dir.command().args(["scan", ".", "--format", "jsonl"]));
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(
        locations(&lines),
        vec![
            ("github-pat-classic".into(), "config/.env".into(), 2, 14),
            ("github-pat-classic".into(), "src/app.py".into(), 3, 30),
        ]
    );
}

#[test]
fn human_report_groups_by_file_and_gives_remediation_once() {
    let tree = tree();
    let output = run(tree.dir.command().args(["scan", "."]).env("COLUMNS", "60"));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    // A count first, then the most severe findings, grouped by file.
    assert!(
        text.starts_with("2 findings: 2 critical; by provider: GitHub 2\n\nCRITICAL (2)\n"),
        "{text}"
    );
    // Remediation wrapped to the terminal's width (a URL longer than a line keeps its own).
    assert!(
        text.lines()
            .skip_while(|line| !line.starts_with("What to do"))
            .all(|line| line.chars().count() <= 60 || line.split_whitespace().count() == 1),
        "{text}"
    );
    assert!(
        text.contains("\n    Revoke it at Settings > Developer settings > Personal\n"),
        "{text}"
    );
    assert!(
        text.contains("config/.env\n  2:14  github-pat-classic"),
        "{text}"
    );
    assert!(
        text.contains("src/app.py\n  3:30  github-pat-classic"),
        "{text}"
    );
    assert!(text.contains("also at: docs/setup.md:5:25"), "{text}");
    assert_eq!(
        text.matches("github-pat-classic (GitHub):\n").count(),
        1,
        "{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn secrets_are_redacted_in_every_format_by_default() {
    let tree = tree();
    for format in ["human", "json", "jsonl"] {
        let output = run(tree.dir.command().args(["scan", ".", "--format", format]));
        let everything = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            !everything.contains(&tree.token_a),
            "{format} leaks a secret"
        );
        assert!(
            !everything.contains(&tree.token_b),
            "{format} leaks a secret"
        );
        assert!(everything.contains("ghp_****"), "{format}: {everything}");
    }
}

#[test]
fn show_secrets_prints_them_in_full() {
    let tree = tree();
    let output = run(tree
        .dir
        .command()
        .args(["scan", ".", "--format", "json", "--show-secrets"]));
    let findings = json_findings(&output);
    assert_eq!(findings[0]["secret"], tree.token_a.as_str());
    assert!(findings[0]["snippet"]
        .as_str()
        .unwrap()
        .contains(&tree.token_a));
}

#[test]
fn clean_tree_exits_zero() {
    let dir = Dir::new();
    dir.write("main.rs", "fn main() { let password = read_password(); }\n");
    let output = run(dir.command().args(["scan", "."]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "No secrets found.\n");
    assert!(stderr(&output).contains("1 files"), "{}", stderr(&output));
}

#[test]
fn gitignored_files_are_skipped_unless_no_ignore() {
    let dir = Dir::new();
    dir.write(".gitignore", "build/\n");
    dir.write(
        "build/out.env",
        format!("TOKEN={}\n", github_token("ghp_", 3)),
    );
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("1 file left out by ignore rules"),
        "{}",
        stderr(&output)
    );
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--no-ignore"]));
    assert!(!stderr(&output).contains("left out"), "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "build/out.env".into(), 1, 7)]
    );
}

#[test]
fn git_directory_is_never_scanned() {
    let dir = Dir::new();
    dir.write(
        ".git/config",
        format!("token = {}\n", github_token("ghp_", 4)),
    );
    let output = run(dir.command().args(["scan", ".", "--no-ignore"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn binary_files_are_read_as_printable_strings_and_skipped_with_no_binary() {
    let dir = Dir::new();
    // A compiled-looking file: control bytes, a line feed, then the token between NULs.
    let mut bytes =
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00\n\x00\x00".to_vec();
    bytes.extend_from_slice(&[0u8; 40]);
    bytes.extend_from_slice(format!("\x00GITHUB_TOKEN={}\x00", github_token("ghp_", 5)).as_bytes());
    bytes.extend_from_slice(&[1u8, 2, 3, 0, 0, 0, 7, 8]);
    dir.write("app.bin", &bytes);
    // 18 header bytes and the line feed, 2 + 40 + 1 bytes, then `GITHUB_TOKEN=`.
    let token_offset = 19 + 2 + 40 + 1 + "GITHUB_TOKEN=".len();
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        // Line 2 of the file (one line feed before it), column counted from that line feed.
        vec![(
            "github-pat-classic".into(),
            "app.bin".into(),
            2,
            2 + 40 + 1 + 13 + 1
        )]
    );
    assert_eq!(findings[0]["offset"], token_offset);
    assert_eq!(findings[0]["snippet"], "GITHUB_TOKEN=ghp_****");
    assert_stderr_contains(&output, "1 binary file read as printable strings");

    let output = run(dir.command().args(["scan", ".", "--no-binary"]));
    assert_eq!(output.status.code(), Some(0));
    assert_stderr_contains(&output, "skipped: 1 binary");
}

#[test]
fn files_over_the_size_limit_are_skipped_and_counted() {
    let dir = Dir::new();
    let mut text = "x".repeat(200);
    text.push_str(&format!("\nTOKEN={}\n", github_token("ghp_", 6)));
    dir.write("big.txt", text);
    let output = run(dir.command().args(["scan", ".", "--max-file-size", "100"]));
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("1 over size limit"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stdin_is_scanned_as_one_blob() {
    let token = github_token("ghp_", 7);
    let output = run(leakhound()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(format!("first line\n  token: {token}\n")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "<stdin>".into(), 2, 10)]
    );
    assert_eq!(findings[0]["source"], "stdin");
}

#[test]
fn explicit_file_path_is_reported_as_given() {
    let dir = Dir::new();
    dir.write("a/b.env", format!("T={}\n", github_token("ghp_", 8)));
    let output = run(dir.command().args(["scan", "a/b.env", "--format", "json"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "a/b.env".into(), 1, 3)]
    );
}

#[test]
fn wrong_check_digits_are_never_reported_at_more_than_low_confidence() {
    let dir = Dir::new();
    let mut token = github_token("ghp_", 9);
    let last = token.pop().unwrap();
    token.push(if last == 'a' { 'b' } else { 'a' });
    dir.write("x.env", format!("GITHUB_TOKEN={token}\n"));
    dir.write("y.txt", format!("see {token} for details\n"));
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    let findings = json_findings(&output);
    // The GitHub rule drops it; at most the generic assignment rule reports the value, at low
    // confidence, and never in free text.
    assert!(
        findings
            .iter()
            .all(|f| f["rule_id"] != "github-pat-classic"),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|f| f["confidence"] == "low"),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|f| f["path"] == "x.env"),
        "{findings:?}"
    );
}

#[test]
fn minified_single_line_reports_exact_columns() {
    let dir = Dir::new();
    let token = github_token("ghp_", 10);
    let mut line = "var a=1;".repeat(250_000);
    let column = line.len() + 8;
    line.push_str(&format!("var t=\"{token}\";"));
    line.push_str(&"b=2;".repeat(250_000));
    dir.write("bundle.min.js", &line);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        vec![(
            "github-pat-classic".into(),
            "bundle.min.js".into(),
            1,
            column as u64
        )]
    );
    let snippet = findings[0]["snippet"].as_str().unwrap();
    assert!(
        snippet.len() < 400,
        "snippet is cut: {} bytes",
        snippet.len()
    );
}

#[test]
fn inline_allow_marker_suppresses_only_its_line_and_is_counted() {
    let dir = Dir::new();
    dir.write(
        "keys.py",
        format!(
            "a = \"{}\"  # leakhound:allow\nb = \"{}\"\n",
            github_token("ghp_", 11),
            github_token("ghp_", 12)
        ),
    );
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "keys.py".into(), 2, 6)]
    );
    assert!(
        stderr(&output).contains("suppressed: 1 inline allow marker"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn config_path_allowlist_hides_findings_and_counts_them() {
    let dir = Dir::new();
    dir.write(
        ".leakhound.toml",
        "[allowlist]\npaths = [\"fixtures/**\"]\n",
    );
    dir.write(
        "fixtures/a.env",
        format!("T={}\n", github_token("ghp_", 13)),
    );
    let output = run(dir.command().args(["scan", "."]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("1 allowlisted path"),
        "{}",
        stderr(&output)
    );
    let output = run(dir.command().args(["scan", ".", "--no-suppress"]));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn project_tree_scans_clean_with_its_own_config() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = run(leakhound().args(["scan", root, "--format", "json"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "the repository must scan clean:\n{}\n{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn snippet_never_shows_a_neighbouring_secret() {
    let dir = Dir::new();
    let first = github_token("ghp_", 40);
    let second = stripe_live_key(41);
    dir.write("both.env", format!("A={first} B={second}\n"));
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    let text = stdout(&output);
    assert_eq!(json_findings(&output).len(), 2, "{text}");
    assert!(!text.contains(&first) && !text.contains(&second), "{text}");
}

#[test]
fn notebook_findings_name_their_cell() {
    let dir = Dir::new();
    let in_source = github_token("ghp_", 42);
    let in_output = github_token("ghp_", 43);
    let notebook = format!(
        r##"{{
 "cells": [
  {{"cell_type": "markdown", "metadata": {{}}, "source": ["# Setup\n"]}},
  {{"cell_type": "code", "execution_count": 1, "metadata": {{}}, "outputs": [],
   "source": ["import os\n", "os.environ[\"GITHUB_TOKEN\"] = \"{in_source}\"\n"]}},
  {{"cell_type": "code", "execution_count": 2, "metadata": {{}},
   "outputs": [{{"name": "stdout", "output_type": "stream", "text": ["token is {in_output}\n"]}}],
   "source": ["print(client.token)\n"]}}
 ],
 "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5
}}
"##
    );
    dir.write("analysis.ipynb", notebook);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    let findings = json_findings(&output);
    let cells: Vec<(u64, u64)> = findings
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["cell"].as_u64().unwrap()))
        .collect();
    assert_eq!(cells, vec![(5, 1), (7, 2)], "{findings:?}");
}

#[test]
fn stdin_and_paths_in_one_run_report_both_and_keep_counters() {
    use base64::Engine;
    let dir = Dir::new();
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("token={}", github_token("ghp_", 44)));
    dir.write("a.txt", format!("blob: {encoded}\n"));
    let output = run(dir
        .command()
        .args(["scan", "-", "a.txt", "--format", "json"])
        .write_stdin(format!("T={}\n", github_token("ghp_", 45))));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![
            ("github-pat-classic".into(), "<stdin>".into(), 1, 3),
            ("github-pat-classic".into(), "a.txt".into(), 1, 7),
        ]
    );
    assert_stderr_contains(&output, "2 files");
    assert_stderr_contains(&output, "1 encoded spans decoded");
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    let dir = Dir::new();
    let token = github_token("ghp_", 700);
    let text = format!("# settings\r\nGITHUB_TOKEN={token}\r\n");
    let little: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let big_without_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    dir.write("win.env", little);
    dir.write("be.env", big_without_bom);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut found = locations(&json_findings(&output));
    found.sort();
    assert_eq!(
        found,
        [("github-pat-classic".into(), "be.env".into(), 2, 14)],
        "one credential; the other file is its occurrence"
    );
    let findings = json_findings(&output);
    assert_eq!(findings[0]["occurrences"][0]["path"], "win.env");
    assert_eq!(findings[0]["occurrences"][0]["line"], 2);
}

#[test]
fn a_stray_nul_does_not_make_a_text_file_binary() {
    let dir = Dir::new();
    let mut bytes = b"header\x00 written by a buggy tool\n".to_vec();
    bytes.extend_from_slice(format!("TOKEN={}\n", github_token("ghp_", 701)).as_bytes());
    dir.write("app.conf", bytes);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        [("github-pat-classic".into(), "app.conf".into(), 2, 7)]
    );
}

#[test]
fn tracked_files_are_scanned_even_when_gitignore_matches_them() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 702);
    repo.write(".gitignore", ".env\nsecrets/\n");
    repo.write(".env", format!("T={token}\n"));
    repo.write("secrets/prod.txt", format!("\n\nT={token}\n"));
    repo.git(&["add", ".gitignore"]);
    repo.git(&["add", "-f", ".env", "secrets/prod.txt"]);
    repo.commit_all("committed although ignored");
    // Untracked and ignored: still left out, and counted.
    repo.write(
        "secrets/local.txt",
        format!("T={}\n", github_token("ghp_", 703)),
    );
    let output = run(repo
        .dir
        .command()
        .args(["scan", ".", "--format", "json", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        [("github-pat-classic".into(), ".env".into(), 1, 3)]
    );
    assert_eq!(findings[0]["occurrences"][0]["path"], "secrets/prod.txt");
    assert_eq!(findings[0]["occurrences"][0]["line"], 3);
    assert_stderr_contains(&output, "1 file left out by ignore rules");
}

#[test]
fn human_report_lists_the_most_severe_findings_first() {
    let dir = Dir::new();
    // `a.env` sorts first, but its finding is medium; `z.env` holds a critical one.
    let password = Rng::new(34).string(BASE62, 18);
    dir.write("a.env", format!("db_password = \"{password}\"\n"));
    dir.write("z.env", format!("T={}\n", github_token("ghp_", 33)));
    let output = run(dir.command().args(["scan", ".", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.starts_with("2 findings: 1 critical, 1 medium; by provider: Generic 1, GitHub 1\n"),
        "{text}"
    );
    let critical = text
        .find("CRITICAL (1)\nz.env\n")
        .expect("a critical section");
    let medium = text.find("MEDIUM (1)\na.env\n").expect("a medium section");
    assert!(critical < medium, "{text}");
}

#[test]
fn structured_config_files_report_the_value_their_structure_names() {
    let dir = Dir::new();
    let mut rng = Rng::new(48);
    let mysql = rng.string(BASE62, 16);
    let sql = rng.string(BASE62, 20);
    let k8s = rng.string(BASE62, 24);
    dir.write(
        "home/.my.cnf",
        format!("[client]\nuser = app\nhost = db.internal\npassword = {mysql}\n"),
    );
    dir.write(
        "migrations/001_users.sql",
        format!("-- reporting user\nCREATE USER 'reporting'@'%' IDENTIFIED BY '{sql}';\n"),
    );
    dir.write(
        "deploy/api.yaml",
        format!(
            "spec:\n  containers:\n    - name: api\n      env:\n        - name: LOG_LEVEL\n          value: info\n        - name: PAYMENTS_API_TOKEN\n          value: \"{k8s}\"\n"
        ),
    );
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut found: Vec<(String, String, u64)> = locations(&json_findings(&output))
        .into_iter()
        .map(|(rule, path, line, _)| (rule, path, line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "kubernetes-env-secret-value".into(),
                "deploy/api.yaml".into(),
                8
            ),
            (
                "mysql-option-file-password".into(),
                "home/.my.cnf".into(),
                4
            ),
            (
                "sql-identified-by-password".into(),
                "migrations/001_users.sql".into(),
                2
            ),
        ]
    );
}

#[test]
fn mail_s3cmd_and_ansible_credential_files_are_found_at_their_lines() {
    let dir = Dir::new();
    let mut rng = Rng::new(49);
    let s3 = rng.string(BASE62, 40);
    let msmtp = rng.string(BASE62, 16);
    let fetchmail = rng.string(BASE62, 15);
    let ansible = rng.string(BASE62, 18);
    dir.write(
        "home/.s3cfg",
        format!("[default]\nhost_base = s3.amazonaws.com\nsecret_key = {s3}\n"),
    );
    dir.write(
        "home/.msmtprc",
        format!("defaults\nauth on\n\naccount work\nhost smtp.example.org\nuser joe\npassword {msmtp}\n"),
    );
    dir.write(
        "home/.fetchmailrc",
        format!("set daemon 300\npoll imap.example.org protocol IMAP user \"joe\" password \"{fetchmail}\"\n"),
    );
    dir.write(
        "inventory/hosts",
        format!("[web]\nweb01 ansible_host=10.0.0.5 ansible_become_password={ansible}\n"),
    );
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut found: Vec<(String, String, u64)> = locations(&json_findings(&output))
        .into_iter()
        .map(|(rule, path, line, _)| (rule, path, line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "ansible-inventory-password".into(),
                "inventory/hosts".into(),
                2
            ),
            ("fetchmail-password".into(), "home/.fetchmailrc".into(), 2),
            ("msmtp-password".into(), "home/.msmtprc".into(), 7),
            ("s3cmd-config-secret-key".into(), "home/.s3cfg".into(), 3),
        ]
    );
}

#[test]
fn values_public_by_design_are_not_generic_secrets_whichever_rules_run() {
    let dir = Dir::new();
    let public = "stripe_api_key = \"pk_live_51HqLyjWDarjtT1zdp7dczzzXyZ8qWQ\"\n\
                  posthog_api_key = \"phc_4xPmQk2LbS9vN7wRtY6uZcH3jD8fGa1eKs5oWi0qLm\"\n\
                  mapbox_token = \"pk.eyJ1IjoiYWNtZSIsImEiOiJjbDBrIn0.ktLnIM4KZpa_PDTSELtv8o\"\n\
                  datadog_token = \"pub0f3c9a7e21b84d6c5f0e9a8b7c6d5e4f\"\n";
    dir.write("public.env", public);
    // The same values with another first letter are not public: the generic rule reports them.
    let private = public
        .replace("\"pk_", "\"qk_")
        .replace("\"phc_", "\"phq_")
        .replace("\"pk.", "\"qk.")
        .replace("\"pub", "\"qub");
    dir.write("private.env", private);
    for only_generic in [false, true] {
        let mut command = dir.command();
        command.args(["scan", ".", "--format", "json"]);
        if only_generic {
            // The providers' rules (which carry the public forms) are not enabled.
            command.args(["--rule", "generic-credential-quoted"]);
        }
        let output = run(&mut command);
        let rule = "generic-credential-quoted".to_string();
        assert_eq!(
            locations(&json_findings(&output)),
            [(1, 19), (2, 20), (3, 17), (4, 18)].map(|(line, column)| (
                rule.clone(),
                "private.env".to_string(),
                line,
                column
            )),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn providers_documented_sample_keys_are_dropped_and_counted() {
    let dir = Dir::new();
    dir.write(
        "docs.md",
        "stripe.api_key = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"\n\
         AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n\
         aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_findings(&output), Vec::<serde_json::Value>::new());
    assert_stderr_contains(&output, "suppressed: 3 provider's documented sample");
    // They are still found, and shown with --no-suppress.
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--no-suppress"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![
            ("stripe-test-key".into(), "docs.md".into(), 1, 19),
            ("aws-access-key-id".into(), "docs.md".into(), 2, 19),
            ("aws-secret-access-key".into(), "docs.md".into(), 3, 25),
        ]
    );
}

#[test]
fn credential_stores_report_the_password_their_structure_names() {
    // fixtures/credential-files: Robomongo, Firefox logins.json, tugboat, esmtp, Atom's upload
    // settings, Rails database.yml and
    // mongoid.yml, Hadoop and Spring XML, JetBrains WebServers.xml, Terraform state, and files
    // known by their name (Rails master keys, an Ansible vault password); each with
    // values that must stay quiet beside the planted ones (ERB and ${...} references, empty and
    // null passwords, a password-file property).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/credential-files");
    let config = Dir::new();
    config.write("empty.toml", "");
    let output = run(leakhound()
        .arg("scan")
        .arg(&root)
        .args(["--format", "json", "--no-progress", "--config"])
        .arg(config.join("empty.toml")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let found: Vec<(String, String, u64, u64)> = locations(&json_findings(&output))
        .into_iter()
        .map(|(rule, path, line, column)| {
            let path = path
                .strip_prefix("fixtures/credential-files/")
                .unwrap_or(&path)
                .to_string();
            (rule, path, line, column)
        })
        .collect();
    let expected: Vec<(String, String, u64, u64)> = [
        (
            "jetbrains-webservers-password",
            ".idea/WebServers.xml",
            6,
            67,
        ),
        // Known by its name; `ansible/.vault-password` is a script (#!), not reported.
        ("ansible-vault-password-file", "ansible/.vault_pass", 1, 1),
        // Atom's remote-ftp and remote-sync upload settings, known by their file names.
        ("atom-remote-ftp-password", "atom-site/.ftpconfig", 6, 14),
        (
            "atom-remote-sync-password",
            "atom-site/.remote-sync.json",
            6,
            16,
        ),
        ("rails-database-yml-password", "config/database.yml", 24, 13),
        ("rails-database-yml-password", "config/mongoid.yml", 18, 20),
        // SQL dumps: hashes in user-table INSERT and COPY rows, role passwords, password resets.
        (
            "sql-dump-user-password-hash",
            "db/backups/all-databases_2023-12-01.sql",
            24,
            208,
        ),
        (
            "sql-dump-user-password-hash",
            "db/backups/blog_wordpress_2024-01-07.sql",
            39,
            47,
        ),
        (
            "sql-dump-user-password-hash",
            "db/backups/blog_wordpress_2024-01-07.sql",
            40,
            45,
        ),
        (
            "sql-dump-user-password-hash",
            "db/backups/blog_wordpress_2024-01-07.sql",
            41,
            50,
        ),
        (
            "sql-dump-user-password-hash",
            "db/backups/shop_prod_2024-03-18.sql",
            72,
            95,
        ),
        ("sql-role-password", "db/init/01-create-roles.sql", 4, 47),
        ("sql-role-password", "db/init/01-create-roles.sql", 5, 43),
        ("sql-role-password", "db/init/01-create-roles.sql", 9, 40),
        (
            "pg-dump-copy-user-password-hash",
            "db/pg/helpdesk_2024-05-02.sql",
            71,
            3,
        ),
        ("sql-role-password", "db/pg/roles_2024-05-02.sql", 15, 112),
        ("sql-role-password", "db/pg/roles_2024-05-02.sql", 17, 115),
        ("sql-role-password", "db/pg/roles_2024-05-02.sql", 21, 102),
        (
            "sql-update-user-password",
            "db/seeds/reset_admin_password.sql",
            3,
            30,
        ),
        (
            "sql-update-user-password",
            "db/seeds/reset_admin_password.sql",
            6,
            42,
        ),
        (
            "mysql-set-password",
            "db/seeds/reset_admin_password.sql",
            9,
            43,
        ),
        // Plaintext passwords in INSERT rows: the column list says which value is the password
        // (one finding per statement, for its first row).
        (
            "sql-insert-user-plaintext-password",
            "db/seeds/seed_users.sql",
            22,
            60,
        ),
        (
            "sql-insert-user-plaintext-password",
            "db/seeds/seed_users.sql",
            28,
            73,
        ),
        (
            "sql-insert-user-plaintext-password",
            "db/seeds/seed_users.sql",
            30,
            60,
        ),
        (
            "sql-insert-user-plaintext-password",
            "db/seeds/seed_users.sql",
            33,
            91,
        ),
        // DBeaver before 6.1.3: the XML file's password attributes (XOR-scrambled or plain).
        (
            "dbeaver-legacy-data-sources-password",
            "dbeaver-legacy/General/.dbeaver-data-sources.xml",
            5,
            213,
        ),
        (
            "dbeaver-legacy-data-sources-password",
            "dbeaver-legacy/General/.dbeaver-data-sources.xml",
            7,
            111,
        ),
        (
            "dbeaver-legacy-data-sources-password",
            "dbeaver-legacy/workspace-2013/General/data-sources.xml",
            4,
            177,
        ),
        // DBeaver: both encrypted stores are read as raw bytes (the Reporting one holds a NUL,
        // which made it binary), and data-sources.json's plaintext passwords.
        (
            "dbeaver-credentials-config-file",
            "dbeaver-workspace/General/.dbeaver/credentials-config.json",
            1,
            1,
        ),
        (
            "dbeaver-data-sources-password",
            "dbeaver-workspace/General/.dbeaver/data-sources.json",
            20,
            18,
        ),
        (
            "dbeaver-data-sources-password",
            "dbeaver-workspace/General/.dbeaver/data-sources.json",
            32,
            20,
        ),
        (
            "dbeaver-credentials-config-file",
            "dbeaver-workspace/Reporting/.dbeaver/credentials-config.json",
            1,
            1,
        ),
        (
            "hadoop-xml-credential-property",
            "hadoop/core-site.xml",
            14,
            12,
        ),
        // Heroku app.json: env values under secret names, in the object form and in the string
        // shorthand (the first secret of an env object; a token in an add-on's options, outside
        // env, stays the generic's).
        (
            "heroku-app-json-env-shorthand-secret",
            "heroku/ledgerline/app.json",
            21,
            27,
        ),
        (
            "generic-credential-quoted",
            "heroku/ledgerline/app.json",
            30,
            69,
        ),
        (
            "heroku-app-json-env-secret",
            "heroku/pantry-pal/app.json",
            16,
            17,
        ),
        (
            "heroku-app-json-env-secret",
            "heroku/pantry-pal/app.json",
            24,
            17,
        ),
        (
            "heroku-app-json-env-secret",
            "heroku/pantry-pal/app.json",
            29,
            17,
        ),
        (
            "heroku-app-json-env-shorthand-secret",
            "heroku/pantry-pal/app.json",
            31,
            31,
        ),
        // gh's hosts.yml: the OAuth token is GitHub's own format.
        (
            "github-oauth-access-token",
            "home/.config/gh/hosts.yml",
            3,
            18,
        ),
        ("dockercfg-legacy-auth", "home/.dockercfg", 1, 43),
        // esmtp: the file's password and an identity's (bare); an empty one stays quiet.
        ("esmtp-password", "home/.esmtprc", 4, 13),
        ("esmtp-password", "home/.esmtprc", 10, 12),
        ("tugboat-config-api-token", "home/.tugboat", 3, 17),
        (
            "firefox-logins-encrypted-password",
            "home/logins.json",
            1,
            311,
        ),
        (
            "robomongo-connection-password",
            "home/robomongo.json",
            15,
            27,
        ),
        (
            "robomongo-connection-password",
            "home/robomongo.json",
            69,
            26,
        ),
        (
            "terraform-state-sensitive-output",
            "infra/terraform.tfstate",
            12,
            17,
        ),
        (
            "terraform-state-sensitive-attribute",
            "infra/terraform.tfstate",
            36,
            26,
        ),
        // A PHP config's $db_pass; the getenv() read and the "$db_pass" copy stay quiet.
        (
            "php-config-database-password",
            "php-shop/includes/config.php",
            10,
            13,
        ),
        // The same 32 hex under another name (notes/master.key.txt) is not a master key file.
        (
            "rails-master-key-file",
            "rails-app/config/credentials/production.key",
            1,
            1,
        ),
        ("rails-master-key-file", "rails-app/config/master.key", 1, 1),
        (
            "jsforce-login-password",
            "salesforce-sync/scripts/sync-accounts.js",
            16,
            58,
        ),
        (
            "salesforce-soap-login-password",
            "salesforce-sync/soap/login-request.xml",
            9,
            20,
        ),
        (
            "jsforce-oauth2-client-secret",
            "salesforce-sync/src/salesforce.js",
            7,
            18,
        ),
        (
            "jsforce-login-password",
            "salesforce-sync/src/salesforce.js",
            14,
            63,
        ),
        (
            "spring-xml-bean-password",
            "spring/applicationContext.xml",
            10,
            42,
        ),
        // MediaWiki's LocalSettings.php: the database password and $wgSecretKey (64 hex).
        ("generic-credential-quoted", "wiki/LocalSettings.php", 6, 18),
        ("generic-credential-hex", "wiki/LocalSettings.php", 7, 17),
    ]
    .iter()
    .map(|(rule, path, line, column)| (rule.to_string(), path.to_string(), *line, *column))
    .collect();
    assert_eq!(found, expected);
}

/// A rule with `paths` takes no part in files its paths do not admit: there it neither reports
/// nor, by winning the overlap, hides another rule's finding on the same bytes.
#[test]
fn a_path_scoped_rule_does_not_hide_other_findings_outside_its_paths() {
    let mut rng = Rng::new(1800);
    let secret = format!("{}7q", rng.string(BASE62, 22));
    let dir = Dir::new();
    // Examples made here, like the secret: the project's own scan must stay clean.
    let examples = [rng.string(BASE62, 24), rng.string(BASE62, 24)];
    let rule = [
        "[[rule]]",
        "id = \"acme-manifest-token\"",
        "name = \"Acme manifest token\"",
        "provider = \"Acme\"",
        "severity = \"critical\"",
        "confidence = \"high\"",
        "keywords = [\"ACME_TOKEN\"]",
        "paths = [\"**/acme.json\"]",
        r#"regex = '''"ACME_TOKEN"\s*:\s*"(?P<secret>[A-Za-z0-9]{24})"'''"#,
        "remediation = \"Revoke it at https://acme.invalid/tokens.\"",
        &format!(
            r#"examples = ['{{"ACME_TOKEN": "{}"}}', '"ACME_TOKEN":"{}"']"#,
            examples[0], examples[1]
        ),
        r#"negative_examples = ['"ACME_TOKEN": "short"']"#,
    ]
    .join("\n");
    dir.write("rules/scoped.toml", rule);
    let manifest = format!("{{\"ACME_TOKEN\": \"{secret}\"}}\n");
    dir.write("deploy/acme.json", &manifest);
    dir.write("deploy/other.json", &manifest);
    let output = run(dir.command().args([
        "scan",
        "deploy",
        "--config",
        "/dev/null",
        "--rules",
        "rules/scoped.toml",
        "--format",
        "json",
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![
            ("acme-manifest-token".into(), "acme.json".into(), 1, 17),
            (
                "generic-credential-quoted".into(),
                "other.json".into(),
                1,
                17
            ),
        ]
    );
}

/// Text stored as UTF-16LE inside a binary (.NET string literals, Windows resources) is read
/// the way `strings -el` reads it, and reported at its byte offset in the file.
#[test]
fn utf16_text_inside_a_binary_is_read_too() {
    let dir = Dir::new();
    let token = github_token("ghp_", 19);
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    bytes.extend_from_slice(&[0u8; 31]);
    let text_offset = bytes.len();
    for unit in format!("GITHUB_TOKEN={token}").encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes.extend_from_slice(&[0, 0, 1, 2, 3]);
    dir.write("Tool.dll", &bytes);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    let token_offset = text_offset + 2 * "GITHUB_TOKEN=".len();
    assert_eq!(
        locations(&findings),
        vec![(
            "github-pat-classic".into(),
            "Tool.dll".into(),
            1,
            token_offset as u64 + 1
        )]
    );
    assert_eq!(findings[0]["offset"], token_offset);
}
