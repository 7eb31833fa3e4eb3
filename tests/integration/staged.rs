//! Pre-commit: `leakhound staged` and `leakhound hook install|uninstall`.

use crate::util::*;

fn staged(repo: &GitRepo, extra: &[&str]) -> std::process::Output {
    run(leakhound()
        .arg("staged")
        .arg(repo.path())
        .args(["--format", "json", "--no-progress"])
        .args(extra))
}

#[test]
fn staged_secret_blocks_with_its_file_and_line() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.write(
        "config/app.env",
        format!("NAME=x\nTOKEN={}\n", github_token("ghp_", 300)),
    );
    repo.git(&["add", "config/app.env"]);
    let output = staged(&repo, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "config/app.env".into(), 2, 7)]
    );
    assert_eq!(findings[0]["source"], "staged");
    let message = stderr(&output);
    assert!(message.contains("commit blocked"), "{message}");
    assert!(message.contains("leakhound:allow"), "{message}");
    assert!(message.contains("--no-verify"), "{message}");
}

#[test]
fn unstaged_changes_are_not_scanned() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.write("notes.txt", format!("T={}\n", github_token("ghp_", 301)));
    let output = staged(&repo, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn lines_already_in_head_are_not_reported() {
    let repo = GitRepo::new();
    repo.write(
        "settings.py",
        format!("OLD = \"{}\"\n", github_token("ghp_", 302)),
    );
    repo.commit_all("an old leak, already committed");
    let new_token = github_token("ghp_", 303);
    repo.write(
        "settings.py",
        format!(
            "OLD = \"{}\"\nNEW = \"{new_token}\"\n",
            github_token("ghp_", 302)
        ),
    );
    repo.git(&["add", "settings.py"]);
    let output = staged(&repo, &[]);
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "settings.py".into(), 2, 8)]
    );
}

#[test]
fn first_commit_scans_everything_staged() {
    let repo = GitRepo::new();
    repo.write("a.env", format!("T={}\n", github_token("ghp_", 304)));
    repo.git(&["add", "a.env"]);
    let output = staged(&repo, &[]);
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "a.env".into(), 1, 3)]
    );
}

#[test]
fn staged_outside_a_repository_exits_2() {
    let dir = Dir::new();
    let output = run(leakhound().arg("staged").arg(dir.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a git repository"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn installed_hook_blocks_a_commit_that_adds_a_secret() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    let output = run(leakhound().args(["hook", "install"]).arg(repo.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let hook = repo.path().join(".git/hooks/pre-commit");
    let script = std::fs::read_to_string(&hook).unwrap();
    assert!(script.contains("staged"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "hook is executable");
    }
    repo.write("leak.env", format!("T={}\n", github_token("ghp_", 305)));
    repo.git(&["add", "leak.env"]);
    let commit = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "leak"])
        .current_dir(repo.path())
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.test")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@example.test")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!commit.status.success(), "the hook must block the commit");
    assert!(
        String::from_utf8_lossy(&commit.stderr).contains("leak.env"),
        "{}",
        String::from_utf8_lossy(&commit.stderr)
    );
}

#[test]
fn hook_install_refuses_a_foreign_hook_unless_forced_and_uninstall_keeps_it() {
    let repo = GitRepo::new();
    let hook = repo.path().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let output = run(leakhound().args(["hook", "install"]).arg(repo.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--force"), "{}", stderr(&output));
    let output = run(leakhound().args(["hook", "uninstall"]).arg(repo.path()));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let output = run(leakhound()
        .args(["hook", "install", "--force"])
        .arg(repo.path()));
    assert_eq!(output.status.code(), Some(0));
    let output = run(leakhound().args(["hook", "uninstall"]).arg(repo.path()));
    assert_eq!(output.status.code(), Some(0));
    assert!(!hook.exists());
}

#[test]
fn a_staged_file_over_the_size_limit_makes_the_scan_incomplete() {
    let repo = GitRepo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("initial");
    repo.write("big.txt", "x".repeat(5000));
    repo.git(&["add", "big.txt"]);
    let output = staged(&repo, &["--max-file-size", "1000", "--fail-on-incomplete"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_stderr_contains(&output, "INCOMPLETE: not scanned: 1 over the size limit");
}
