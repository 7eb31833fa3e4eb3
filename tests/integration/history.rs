//! `leakhound history`: exact attribution (rule, path, line, commit) on repositories built with
//! git in a temp dir.

use crate::util::*;

/// (rule_id, path, line, commit) of each finding.
fn attributed(findings: &[serde_json::Value]) -> Vec<(String, String, u64, String)> {
    findings
        .iter()
        .map(|finding| {
            (
                finding["rule_id"].as_str().unwrap_or_default().to_string(),
                finding["path"].as_str().unwrap_or_default().to_string(),
                finding["line"].as_u64().unwrap_or_default(),
                finding["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn rule() -> String {
    "github-pat-classic".to_string()
}

#[test]
fn secret_added_then_removed_is_attributed_to_the_adding_commit() {
    let repo = GitRepo::new();
    repo.write("app.cfg", "name = demo\n");
    repo.commit_all("initial");
    let token = github_token("ghp_", 100);
    repo.write("app.cfg", format!("name = demo\ntoken = {token}\n"));
    let added = repo.commit_all("configure token");
    repo.write("app.cfg", "name = demo\n");
    repo.commit_all("remove token");
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "app.cfg".into(), 2, added)]
    );
    let finding = &findings[0];
    assert_eq!(finding["status"], "removed");
    assert_eq!(finding["author"], "Ada Tester");
    assert_eq!(finding["email"], "ada@example.test");
    assert_eq!(finding["commit_message"], "configure token");
    assert_eq!(finding["date"], "2023-11-14T22:18:20Z");
    assert_eq!(finding["source"], "git");
    assert_eq!(finding["column"], 9);
    assert!(
        stderr(&output).contains("1 only in history"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn secret_still_in_head_is_present() {
    let repo = GitRepo::new();
    repo.write("a.env", format!("T={}\n", github_token("ghp_", 101)));
    let commit = repo.commit_all("add");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "a.env".into(), 1, commit)]
    );
    assert_eq!(findings[0]["status"], "present");
}

#[test]
fn secret_only_on_an_unmerged_branch_is_found() {
    let repo = GitRepo::new();
    repo.write("readme.md", "hello\n");
    repo.commit_all("initial");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "feature.py",
        format!("KEY = \"{}\"\n", github_token("ghp_", 102)),
    );
    let on_branch = repo.commit_all("feature work");
    repo.git(&["checkout", "-q", "main"]);
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "feature.py".into(), 1, on_branch)]
    );
    assert_eq!(findings[0]["status"], "removed");
}

#[test]
fn secret_introduced_in_a_merge_resolution_is_attributed_to_the_merge() {
    let repo = GitRepo::new();
    repo.write("conf.ini", "[main]\nvalue = 1\n");
    repo.commit_all("initial");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("side.txt", "side\n");
    repo.commit_all("side change");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main\n");
    repo.commit_all("main change");
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    // The merge result holds content that neither parent had.
    let token = github_token("ghp_", 103);
    repo.write("conf.ini", format!("[main]\nvalue = 1\ntoken = {token}\n"));
    repo.git(&["add", "conf.ini"]);
    repo.git(&["commit", "-q", "-m", "merge side"]);
    let merge_commit = repo.head();
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "conf.ini".into(), 3, merge_commit)]
    );
    assert!(findings[0]["occurrences"].as_array().unwrap().is_empty());
}

#[test]
fn renamed_file_keeps_the_introducing_commit_and_lists_the_new_path() {
    let repo = GitRepo::new();
    repo.write("old/name.env", format!("T={}\n", github_token("ghp_", 104)));
    let introduced = repo.commit_all("add");
    std::fs::create_dir_all(repo.path().join("new")).unwrap();
    repo.git(&["mv", "old/name.env", "new/place.env"]);
    let renamed = repo.commit_all("rename");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "old/name.env".into(), 1, introduced)]
    );
    let occurrences = findings[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 1);
    assert_eq!(occurrences[0]["path"], "new/place.env");
    assert_eq!(occurrences[0]["commit"], renamed.as_str());
    assert_eq!(findings[0]["status"], "present");
}

#[test]
fn secret_in_a_file_deleted_later_is_found() {
    let repo = GitRepo::new();
    repo.write("keep.txt", "keep\n");
    repo.write(
        "deploy/creds.sh",
        format!("export GH={}\n", github_token("ghp_", 105)),
    );
    let added = repo.commit_all("add deploy script");
    repo.git(&["rm", "-q", "-r", "deploy"]);
    repo.commit_all("drop deploy");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "deploy/creds.sh".into(), 1, added)]
    );
    assert_eq!(findings[0]["status"], "removed");
}

#[test]
fn secret_reachable_only_from_a_tag_is_found() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo.git(&["checkout", "-q", "-b", "release"]);
    repo.write("release.env", format!("T={}\n", github_token("ghp_", 106)));
    let tagged = repo.commit_all("release build");
    repo.git(&["tag", "-a", "v1.0", "-m", "v1.0"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "release"]);
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "release.env".into(), 1, tagged)]
    );
}

#[test]
fn secret_only_in_the_stash_is_found() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    repo.write("a.txt", format!("a\nT={}\n", github_token("ghp_", 107)));
    repo.git(&["stash", "-q"]);
    let stash = repo.git(&["rev-parse", "refs/stash"]);
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["path"], "a.txt");
    assert_eq!(findings[0]["line"], 2);
    // `git stash` records the work tree in the stash commit itself.
    assert_eq!(findings[0]["commit"], stash.as_str());
}

#[test]
fn same_secret_in_fifty_commits_is_one_finding() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 108);
    let mut first = String::new();
    for round in 0..50 {
        repo.write(
            "settings.py",
            format!("TOKEN = \"{token}\"\nROUND = {round}\n"),
        );
        let commit = repo.commit_all(&format!("round {round}"));
        if round == 0 {
            first = commit;
        }
    }
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "settings.py".into(), 1, first)]
    );
    // The 49 later versions kept the token; none introduced it.
    assert_eq!(findings[0]["occurrences"], serde_json::json!([]));
    assert_eq!(findings[0]["status"], "present");
}

#[test]
fn secret_removed_and_readded_on_another_branch_is_two_introductions() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 111);
    repo.write("deploy.sh", format!("echo start\nexport T={token}\n"));
    let first = repo.commit_all("add deploy");
    repo.write("deploy.sh", "echo start\n");
    repo.commit_all("drop token");
    repo.git(&["checkout", "-q", "-b", "hotfix"]);
    repo.write(
        "deploy.sh",
        format!("echo start\necho again\nexport T={token}\n"),
    );
    let again = repo.commit_all("hotfix: token back");
    repo.write(
        "deploy.sh",
        format!("echo start\necho again\nexport T={token}\n# x\n"),
    );
    repo.commit_all("hotfix: keep it");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "deploy.sh".into(), 2, first)]
    );
    let occurrences = findings[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 1, "{occurrences:?}");
    assert_eq!(occurrences[0]["path"], "deploy.sh");
    assert_eq!(occurrences[0]["line"], 3);
    assert_eq!(occurrences[0]["commit"], again.as_str());
}

#[test]
fn secret_added_to_a_long_existing_file_has_its_line_in_the_adding_version() {
    let repo = GitRepo::new();
    let body: String = (0..300).map(|n| format!("line_{n} = {n}\n")).collect();
    repo.write("big.cfg", &body);
    repo.commit_all("initial");
    let token = github_token("ghp_", 112);
    let with_token = body.replacen(
        "line_200 = 200\n",
        &format!("line_200 = 200\ntoken = {token}\n"),
        1,
    );
    repo.write("big.cfg", &with_token);
    let added = repo.commit_all("token");
    // Later edits above the token move it down; the finding keeps the adding version's line.
    repo.write("big.cfg", format!("# header\n# more\n{with_token}"));
    repo.commit_all("header");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "big.cfg".into(), 202, added)]
    );
    assert_eq!(findings[0]["column"], 9);
    assert_eq!(findings[0]["occurrences"], serde_json::json!([]));
}

#[test]
fn merging_a_branch_that_added_a_secret_does_not_introduce_it_again() {
    let repo = GitRepo::new();
    repo.write("conf.ini", "[main]\n");
    repo.commit_all("initial");
    repo.git(&["checkout", "-q", "-b", "side"]);
    let token = github_token("ghp_", 113);
    repo.write("conf.ini", format!("[main]\ntoken = {token}\n"));
    let on_side = repo.commit_all("side token");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other.txt", "x\n");
    repo.commit_all("main change");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "conf.ini".into(), 2, on_side)]
    );
    assert_eq!(findings[0]["occurrences"], serde_json::json!([]));
}

#[test]
fn range_limits_the_scan_to_new_commits() {
    let repo = GitRepo::new();
    repo.write("old.env", format!("T={}\n", github_token("ghp_", 109)));
    let base = repo.commit_all("old secret");
    repo.write("new.env", format!("T={}\n", github_token("ghp_", 110)));
    let newer = repo.commit_all("new secret");
    let range = format!("{base}..HEAD");
    let findings = json_findings(&repo.history(&["--range", &range]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "new.env".into(), 1, newer)]
    );
}

#[test]
fn bad_range_exits_2() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let output = repo.history(&["--range", "nope..HEAD"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--range"), "{}", stderr(&output));
}

#[test]
fn since_skips_older_commits() {
    let repo = GitRepo::new();
    repo.write("old.env", format!("T={}\n", github_token("ghp_", 111)));
    repo.commit_all("old secret"); // 1700000000
    repo.write("new.env", format!("T={}\n", github_token("ghp_", 112)));
    let newer = repo.commit_all("new secret"); // later
    let findings = json_findings(&repo.history(&["--since", "1700000200"]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "new.env".into(), 1, newer)]
    );
}

#[test]
fn not_a_repository_exits_2() {
    let dir = Dir::new();
    dir.write("a.txt", "a\n");
    let output = run(leakhound().arg("history").arg(dir.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a git repository"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn empty_repository_exits_0_with_a_note() {
    let repo = GitRepo::new();
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no commits"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shallow_clone_is_scanned_with_a_warning() {
    let origin = GitRepo::new();
    origin.write("a.env", format!("T={}\n", github_token("ghp_", 113)));
    origin.commit_all("one");
    origin.write("b.txt", "b\n");
    origin.commit_all("two");
    origin.write("c.txt", "c\n");
    origin.commit_all("three");
    let clone = Dir::new();
    let url = format!("file://{}", origin.path().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(clone.join("shallow"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = run(leakhound()
        .arg("history")
        .arg(clone.join("shallow"))
        .args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("shallow clone"),
        "{}",
        stderr(&output)
    );
    assert_stderr_contains(
        &output,
        "INCOMPLETE: not scanned: history older than a shallow boundary",
    );
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "a.env");
}

#[test]
fn corrupt_object_is_a_warning_naming_it_and_the_scan_goes_on() {
    let repo = GitRepo::new();
    repo.write("good.env", format!("T={}\n", github_token("ghp_", 114)));
    repo.write("bad.txt", "this blob will be damaged\n");
    let commit = repo.commit_all("two files");
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    let object = repo
        .path()
        .join(".git/objects")
        .join(&bad[..2])
        .join(&bad[2..]);
    overwrite_read_only(&object, b"not zlib at all");
    assert_warns_naming_and_keeps_good_env(&repo, &bad, commit);
}

/// Git writes objects and packs read-only.
fn overwrite_read_only(path: &std::path::Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The damaged blob `bad` is a warning naming it, and good.env's token (committed in `commit`)
/// is still reported.
fn assert_warns_naming_and_keeps_good_env(repo: &GitRepo, bad: &str, commit: String) {
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains(bad), "{}", stderr(&output));
    assert_eq!(
        attributed(&json_findings(&output)),
        vec![(rule(), "good.env".into(), 1, commit)]
    );
}

#[test]
fn submodule_entries_are_counted_not_entered() {
    let inner = GitRepo::new();
    inner.write("x.txt", "x\n");
    inner.commit_all("inner");
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &format!("file://{}", inner.path().display()),
        "vendor/inner",
    ]);
    repo.commit_all("add submodule");
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 submodule entries not entered"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_parent_commit_scans_the_child_whole_with_a_warning() {
    let repo = GitRepo::new();
    repo.write("old.env", format!("T={}\n", github_token("ghp_", 115)));
    let parent = repo.commit_all("parent");
    repo.write("new.txt", "unrelated\n");
    let child = repo.commit_all("child");
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&parent[..2])
            .join(&parent[2..]),
    )
    .unwrap();
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_stderr_contains(&output, &format!("parent {parent} is missing"));
    // The child's tree holds the token; with no parent to diff against it is introduced there.
    assert_eq!(
        attributed(&json_findings(&output)),
        vec![(rule(), "old.env".into(), 1, child)]
    );
}

#[test]
fn a_partial_clone_with_missing_blobs_exits_2_unless_allowed() {
    let origin = GitRepo::new();
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    origin.write("a.env", format!("T={}\n", github_token("ghp_", 116)));
    origin.commit_all("one");
    origin.write("b.txt", "two\n");
    origin.commit_all("two");
    let clones = Dir::new();
    let url = format!("file://{}", origin.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone",
            "-q",
            "--filter=blob:none",
            "--no-checkout",
            &url,
            "partial",
        ])
        .current_dir(clones.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success());
    let partial = clones.join("partial");
    let history = |extra: &[&str]| {
        run(leakhound()
            .arg("history")
            .arg(&partial)
            .args(["--format", "json", "--no-progress"])
            .args(extra))
    };
    let refused = history(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_stderr_contains(&refused, "partial clone: 2 blobs are not present");
    assert_stderr_contains(&refused, "git fetch --refetch");
    let allowed = history(&["--allow-missing"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    assert_stderr_contains(&allowed, "INCOMPLETE: not scanned: 2 unreadable or missing");
    assert!(!stderr(&allowed).contains("is missing from the object database"));
}

#[test]
fn sha256_repositories_are_named_as_unsupported() {
    let dir = Dir::new();
    let status = std::process::Command::new("git")
        .args(["init", "-q", "--object-format=sha256", "repo"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    for command in ["history", "staged"] {
        let output = run(leakhound().arg(command).arg(dir.join("repo")));
        assert_eq!(output.status.code(), Some(2), "{command}");
        assert_stderr_contains(&output, "a SHA-256 repository");
    }
}

/// A PEM body of `lines` lines of 64 base64 characters.
fn pem_body(seed: u64, lines: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..lines).map(|_| rng.string(BASE62, 64)).collect()
}

fn pem(body: &[String]) -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        body.join("\n")
    )
}

/// Findings as users see them, for comparing the default scan with `--full-blob-scan`.
fn visible(findings: &[serde_json::Value]) -> Vec<String> {
    let mut keys: Vec<String> = findings
        .iter()
        .map(|finding| {
            format!(
                "{} {} {}:{} {} {} {}",
                finding["rule_id"],
                finding["path"],
                finding["line"],
                finding["column"],
                finding["commit"],
                finding["status"],
                finding["occurrences"]
            )
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn pem_key_whose_middle_lines_change_is_a_new_key_in_the_changing_commit() {
    let repo = GitRepo::new();
    let mut body = pem_body(120, 10);
    repo.write("deploy/id_rsa.txt", format!("# deploy key\n{}", pem(&body)));
    let first = repo.commit_all("key");
    body[4] = Rng::new(121).string(BASE62, 64);
    body[5] = Rng::new(122).string(BASE62, 64);
    repo.write("deploy/id_rsa.txt", format!("# deploy key\n{}", pem(&body)));
    let second = repo.commit_all("rotate the middle");
    repo.write(
        "deploy/id_rsa.txt",
        format!("# deploy key, kept\n{}", pem(&body)),
    );
    repo.commit_all("comment only");
    let output = repo.history(&[]);
    let findings = json_findings(&output);
    let mut keys: Vec<_> = attributed(&findings)
        .into_iter()
        .filter(|(rule, ..)| rule == "private-key-rsa")
        .collect();
    keys.sort();
    let mut expected = vec![
        (
            "private-key-rsa".into(),
            "deploy/id_rsa.txt".into(),
            2,
            first,
        ),
        (
            "private-key-rsa".into(),
            "deploy/id_rsa.txt".into(),
            2,
            second,
        ),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    let full = json_findings(&repo.history(&["--full-blob-scan"]));
    assert_eq!(visible(&findings), visible(&full));
}

#[test]
fn context_rule_with_an_old_keyword_line_and_a_new_secret_line_is_found() {
    let repo = GitRepo::new();
    let padding: String = (0..40).map(|n| format!("# note {n}\n")).collect();
    repo.write(
        "aws.yml",
        format!("{padding}aws_secret_access_key:\n  TO-BE-FILLED\n{padding}"),
    );
    repo.commit_all("template");
    let secret = Rng::new(123).string(BASE62, 40);
    repo.write(
        "aws.yml",
        format!("{padding}aws_secret_access_key:\n  {secret}\n{padding}"),
    );
    let filled = repo.commit_all("fill in");
    let findings = json_findings(&repo.history(&[]));
    let found: Vec<_> = attributed(&findings)
        .into_iter()
        .filter(|(rule, ..)| rule == "aws-secret-access-key")
        .collect();
    assert_eq!(
        found,
        vec![("aws-secret-access-key".into(), "aws.yml".into(), 42, filled)]
    );
}

#[test]
fn reusing_earlier_versions_reports_what_scanning_every_version_whole_reports() {
    // Sixty versions of three files with lines inserted, deleted and moved, tokens added,
    // kept, removed and re-added, a PEM block and a context pair that come and go.
    let repo = GitRepo::new();
    let mut rng = Rng::new(124);
    let mut files: Vec<Vec<String>> = vec![Vec::new(), Vec::new(), Vec::new()];
    let names = ["src/config.py", "deploy/values.yaml", "notes.md"];
    for version in 0..60u64 {
        for (file, lines) in files.iter_mut().enumerate() {
            if rng.next().is_multiple_of(3) && version > 0 {
                continue;
            }
            let position = |rng: &mut Rng, len: usize| (rng.next() % (len as u64 + 1)) as usize;
            match rng.next() % 8 {
                0 if !lines.is_empty() => {
                    let at = position(&mut rng, lines.len() - 1);
                    lines.remove(at);
                }
                1 => {
                    let at = position(&mut rng, lines.len());
                    let token = github_token("ghp_", 200 + rng.next() % 6);
                    lines.insert(at, format!("token_{version} = \"{token}\""));
                }
                2 => {
                    let at = position(&mut rng, lines.len());
                    let body = pem_body(300 + rng.next() % 3, 6);
                    lines.insert(at, pem(&body).trim_end().to_string());
                }
                3 => {
                    let at = position(&mut rng, lines.len());
                    let secret = Rng::new(400 + rng.next() % 4).string(BASE62, 40);
                    lines.insert(at, format!("aws_secret_access_key:\n  {secret}"));
                }
                4 if lines.len() > 2 => {
                    let from = position(&mut rng, lines.len() - 1);
                    let moved = lines.remove(from);
                    let to = position(&mut rng, lines.len());
                    lines.insert(to, moved);
                }
                _ => {
                    let at = position(&mut rng, lines.len());
                    let text = rng.string(BASE62, 12);
                    lines.insert(at, format!("setting_{version} = {text}"));
                }
            }
            repo.write(names[file], format!("{}\n", lines.join("\n")));
        }
        repo.commit_all(&format!("version {version}"));
    }
    let reused = json_findings(&repo.history(&[]));
    let full = json_findings(&repo.history(&["--full-blob-scan"]));
    assert!(reused.len() >= 5, "{reused:?}");
    assert_eq!(visible(&reused), visible(&full));

    // Packed with long delta chains, read through the chain reader instead of as loose
    // objects: the same findings, whole or reused.
    repo.git(&["repack", "-adfq", "--depth=50", "--window=250"]);
    let deepest = deepest_blob_chain(&repo);
    assert!(deepest >= 10, "chains are only {deepest} deep");
    assert_eq!(visible(&json_findings(&repo.history(&[]))), visible(&full));
    assert_eq!(
        visible(&json_findings(&repo.history(&["--full-blob-scan"]))),
        visible(&full)
    );
}

/// The longest delta chain of a blob in the repository's packs.
fn deepest_blob_chain(repo: &GitRepo) -> u64 {
    let packs = repo.path().join(".git/objects/pack");
    let mut deepest = 0;
    for entry in std::fs::read_dir(packs).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "idx") {
            let listing = repo.git(&["verify-pack", "-v", path.to_str().unwrap()]);
            for line in listing.lines() {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if fields.len() == 7 && fields[1] == "blob" {
                    deepest = deepest.max(fields[5].parse().unwrap_or(0));
                }
            }
        }
    }
    deepest
}

#[test]
fn a_secret_deep_in_a_packed_delta_chain_keeps_its_commit_line_and_column() {
    // Eighty versions of one file, repacked so that the oldest sit at the far end of a long
    // chain (git stores the newest whole): reading them oldest first walks the chain against
    // its direction.
    let repo = GitRepo::new();
    let mut lines: Vec<String> = (0..200).map(|n| format!("setting_{n} = {n}")).collect();
    let token = github_token("ghp_", 131);
    let mut added = String::new();
    for version in 0..80 {
        // Each version rewrites one more line, so each is closest to the next and git chains
        // them.
        let at = (version * 37 + 5) % 200;
        if at != 150 {
            lines[at] = format!("setting_{at} = {}", version * 1000 + at);
        }
        let mut text = format!("{}\n", lines.join("\n"));
        if (10..30).contains(&version) {
            text = text.replacen(
                "setting_150 = 150\n",
                &format!("setting_150 = 150\ntoken = \"{token}\"\n"),
                1,
            );
        }
        repo.write("service.cfg", &text);
        let commit = repo.commit_all(&format!("version {version}"));
        if version == 10 {
            added = commit;
        }
    }
    repo.git(&["repack", "-adfq", "--depth=50", "--window=250"]);
    let deepest = deepest_blob_chain(&repo);
    assert!(deepest >= 10, "chains are only {deepest} deep");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        attributed(&findings),
        vec![(rule(), "service.cfg".into(), 152, added)]
    );
    assert_eq!(findings[0]["column"], 10);
    assert_eq!(findings[0]["status"], "removed");
    assert_eq!(findings[0]["occurrences"], serde_json::json!([]));
}

#[test]
fn a_corrupt_object_in_a_pack_is_a_warning_naming_it_and_the_scan_goes_on() {
    let repo = GitRepo::new();
    repo.write("good.env", format!("T={}\n", github_token("ghp_", 132)));
    // Incompressible, so that its bytes in the pack are its own and easy to damage.
    let noise = Rng::new(133).string(BASE62, 4000);
    repo.write("bad.txt", format!("{noise}\n"));
    let commit = repo.commit_all("two files");
    let bad = repo.git(&["rev-parse", "HEAD:bad.txt"]);
    repo.git(&["repack", "-adq"]);
    let packs = repo.path().join(".git/objects/pack");
    let index = std::fs::read_dir(&packs)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|extension| extension == "idx"))
        .unwrap();
    // verify-pack: "<id> <type> <size> <size in pack> <offset>".
    let listing = repo.git(&["verify-pack", "-v", index.to_str().unwrap()]);
    let entry: Vec<&str> = listing
        .lines()
        .find(|line| line.starts_with(&bad))
        .unwrap()
        .split_whitespace()
        .collect();
    let (in_pack, offset): (usize, usize) = (entry[3].parse().unwrap(), entry[4].parse().unwrap());
    let pack = index.with_extension("pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for byte in &mut bytes[offset + in_pack / 4..offset + in_pack / 2] {
        *byte = 0xff;
    }
    overwrite_read_only(&pack, &bytes);
    assert_warns_naming_and_keeps_good_env(&repo, &bad, commit);
}

#[test]
fn reuse_handles_empty_versions_missing_final_breaks_and_shared_ends() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 125);
    let other = github_token("ghp_", 126);
    let versions = [
        format!("T={token}\n"),
        String::new(),
        format!("T={token}"),
        format!("T={token}\nT={token}"),
        "\n\n".to_string(),
        format!("\nT={token}\n\nU={other}"),
        format!("T={token}\n\nU={other}\n"),
        format!("U={other}\nT={token}\n\nU={other}\n"),
        format!("T={token}\n"),
        format!("x\nT={token}\n"),
    ];
    for (index, text) in versions.iter().enumerate() {
        repo.write("edge.env", text);
        repo.commit_all(&format!("edge {index}"));
    }
    let reused = json_findings(&repo.history(&[]));
    let full = json_findings(&repo.history(&["--full-blob-scan"]));
    assert_eq!(visible(&reused), visible(&full));
    assert_eq!(reused.len(), 2, "{reused:?}");
}

#[test]
fn reuse_matches_a_whole_scan_on_small_files_with_random_edits() {
    let tokens = [github_token("ghp_", 127), github_token("ghp_", 128)];
    for seed in 0..3u64 {
        let repo = GitRepo::new();
        let mut rng = Rng::new(500 + seed);
        for version in 0..40u64 {
            let lines = (rng.next() % 5) as usize;
            let mut text = String::new();
            for _ in 0..lines {
                match rng.next() % 4 {
                    0 => text.push_str(&format!("T={}", tokens[0])),
                    1 => text.push_str(&format!("U={}", tokens[1])),
                    2 => {}
                    _ => text.push_str("plain"),
                }
                text.push('\n');
            }
            if rng.next().is_multiple_of(3) {
                text.pop();
            }
            repo.write("small.env", &text);
            repo.git(&["add", "-A"]);
            repo.git(&[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("v{version}"),
            ]);
        }
        let reused = json_findings(&repo.history(&[]));
        let full = json_findings(&repo.history(&["--full-blob-scan"]));
        assert_eq!(visible(&reused), visible(&full), "seed {seed}");
    }
}

#[test]
fn secret_in_an_eleven_megabyte_file_in_history_is_found_by_default() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 129);
    let filler = "0123456789abcdef ".repeat(64);
    let mut text = String::with_capacity(12 << 20);
    while text.len() < 11 << 20 {
        text.push_str(&filler);
        text.push('\n');
    }
    let line = text.matches('\n').count() + 1;
    text.push_str(&format!("token = {token}\n"));
    repo.write("data/big.txt", &text);
    let added = repo.commit_all("big file");
    let output = repo.history(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("0 over size limit"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        attributed(&json_findings(&output)),
        vec![(rule(), "data/big.txt".into(), line as u64, added)]
    );
}

#[test]
fn secrets_across_the_matchers_segment_cuts_are_found_in_a_long_line() {
    // One 1 MiB line (no line break to cut at): the keyword pass works 256 KiB at a time, so
    // one token starts two bytes before a cut and another ends just after one.
    const SEGMENT: usize = 256 * 1024;
    let tokens = [github_token("ghp_", 130), github_token("ghp_", 131)];
    let mut text = vec![b'.'; 4 * SEGMENT];
    let starts = [SEGMENT - 2, 2 * SEGMENT - tokens[1].len() + 1];
    for (token, &start) in tokens.iter().zip(&starts) {
        text[start - 1] = b' ';
        text[start..start + token.len()].copy_from_slice(token.as_bytes());
        text[start + token.len()] = b' ';
    }
    let repo = GitRepo::new();
    repo.write("minified.js", &text);
    let added = repo.commit_all("minified");
    let expected = |findings: &[serde_json::Value]| {
        let mut columns: Vec<u64> = findings
            .iter()
            .filter(|finding| finding["rule_id"] == "github-pat-classic")
            .map(|finding| finding["column"].as_u64().unwrap())
            .collect();
        columns.sort();
        columns
    };
    let want: Vec<u64> = starts.iter().map(|&start| start as u64 + 1).collect();
    let history = json_findings(&repo.history(&[]));
    assert_eq!(expected(&history), want);
    assert!(history
        .iter()
        .all(|finding| finding["commit"] == added.as_str()));
    let scanned = json_findings(&run(leakhound().current_dir(repo.path()).args([
        "scan",
        "minified.js",
        "--format",
        "json",
        "--no-progress",
    ])));
    assert_eq!(expected(&scanned), want);
}

#[test]
fn suppressions_on_reused_lines_are_counted_as_a_whole_scan_counts_them() {
    let repo = GitRepo::new();
    let token = github_token("ghp_", 132);
    let mut text = format!("T={token} # leakhound:allow\n");
    for version in 0..5 {
        text.push_str(&format!("line {version}\n"));
        repo.write("allowed.env", &text);
        repo.commit_all(&format!("v{version}"));
    }
    let suppressed = |output: &std::process::Output| {
        let text = stderr(output);
        text.split("suppressed:")
            .nth(1)
            .map(|rest| rest.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default()
    };
    let reused = repo.history(&[]);
    let full = repo.history(&["--full-blob-scan"]);
    assert_eq!(
        suppressed(&reused),
        "5 inline allow marker",
        "{}",
        stderr(&reused)
    );
    assert_eq!(suppressed(&full), suppressed(&reused));
}

#[test]
fn a_credential_file_known_by_its_name_is_found_in_history_and_when_staged() {
    let repo = GitRepo::new();
    repo.write("README.md", "app\n");
    let first = repo.commit_all("init");
    let key = Rng::new(1700).string(b"0123456789abcdef", 32);
    repo.write("config/master.key", format!("{key}\n"));
    repo.git(&["add", "config/master.key"]);
    // Before the commit: the pre-commit scan blocks it.
    let staged = run(leakhound()
        .current_dir(repo.path())
        .args(["staged", "--format", "json"]));
    assert_eq!(staged.status.code(), Some(1), "{}", stderr(&staged));
    assert_eq!(
        locations(&json_findings(&staged)),
        vec![(
            "rails-master-key-file".into(),
            "config/master.key".into(),
            1,
            1
        )]
    );
    let added = repo.commit_all("add the master key");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(
        locations(&findings),
        vec![(
            "rails-master-key-file".into(),
            "config/master.key".into(),
            1,
            1
        )]
    );
    assert_eq!(findings[0]["commit"], added.as_str());
    assert_ne!(first, added);
}
