//! Remote repositories: `history URL` and `audit` mirror them with git into a clone cache.
//! Served by `file://` and by a `git daemon` the test starts on 127.0.0.1; nothing leaves the
//! machine.

use std::process::{Child, Command};

use crate::util::*;

fn repo_with_token(seed: u64) -> (GitRepo, String) {
    let repo = GitRepo::new();
    repo.write(
        "app/settings.py",
        format!("TOKEN = \"{}\"\n", github_token("ghp_", seed)),
    );
    let commit = repo.commit_all("settings");
    (repo, commit)
}

fn file_url(repo: &GitRepo) -> String {
    format!("file://{}", repo.path().display())
}

/// A `git daemon` exporting `base` on a free loopback port, killed on drop.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(base: &std::path::Path) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        // The daemon program itself (not the `git` wrapper, which would leave it running when
        // killed), with no handle on the test's output.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git runs");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout)
            .trim()
            .to_string();
        let child = Command::new(std::path::Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon starts");
        // Owned at once, so it is killed and reaped even if it never listens.
        let daemon = Daemon { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return daemon;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("git daemon did not listen on {port}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn history_of_a_file_url_is_mirrored_scanned_and_removed() {
    let (repo, commit) = repo_with_token(160);
    let cache = Dir::new();
    let url = file_url(&repo);
    let output = run(leakhound()
        .args([
            "history",
            &url,
            "--format",
            "json",
            "--no-progress",
            "--clone-cache",
        ])
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["repository"], url.as_str());
    assert_eq!(findings[0]["path"], "app/settings.py");
    assert_eq!(findings[0]["commit"], commit.as_str());
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        0,
        "the mirror is removed without --keep-clone"
    );
}

#[test]
fn a_kept_clone_is_fetched_on_the_next_run_not_cloned_again() {
    let (repo, _) = repo_with_token(161);
    let cache = Dir::new();
    let url = file_url(&repo);
    let history = || {
        run(leakhound()
            .args([
                "history",
                &url,
                "--format",
                "json",
                "--no-progress",
                "--keep-clone",
            ])
            .arg("--clone-cache")
            .arg(cache.path()))
    };
    assert_eq!(json_findings(&history()).len(), 1);
    let mirrors: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(mirrors.len(), 1);
    let mirror = mirrors.into_iter().next().unwrap().unwrap().path();
    let marker = mirror.join("leakhound-test-marker");
    std::fs::write(&marker, "kept").unwrap();
    repo.write("later.env", format!("T={}\n", github_token("ghp_", 162)));
    let later = repo.commit_all("later");
    let findings = json_findings(&history());
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings
        .iter()
        .any(|finding| finding["commit"] == later.as_str()));
    assert!(
        marker.exists(),
        "the mirror was cloned again instead of fetched"
    );
}

#[test]
fn history_over_git_daemon_and_audit_of_urls() {
    let base = Dir::new();
    let mut commits = Vec::new();
    let mut repos = Vec::new();
    for (index, seed) in [163u64, 164].into_iter().enumerate() {
        let (repo, commit) = repo_with_token(seed);
        let bare = base.path().join(format!("project{index}.git"));
        let cloned = Command::new("git")
            .args(["clone", "-q", "--bare"])
            .arg(repo.path())
            .arg(&bare)
            .status()
            .unwrap();
        assert!(cloned.success());
        commits.push(commit);
        repos.push(repo);
    }
    let daemon = Daemon::start(base.path());
    let cache = Dir::new();
    let url = format!("git://127.0.0.1:{}/project0.git", daemon.port);
    let output = run(leakhound()
        .args(["history", &url, "--format", "json", "--no-progress"])
        .arg("--clone-cache")
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["repository"], url.as_str());
    assert_eq!(findings[0]["commit"], commits[0].as_str());

    let missing = format!("git://127.0.0.1:{}/missing.git", daemon.port);
    let list = Dir::new();
    list.write(
        "repos.txt",
        format!(
            "git://127.0.0.1:{port}/project0.git\n{missing}\ngit://127.0.0.1:{port}/project1.git\n",
            port = daemon.port
        ),
    );
    let output = run(leakhound()
        .current_dir(list.path())
        .args([
            "audit",
            "--repos",
            "repos.txt",
            "--format",
            "json",
            "--no-progress",
        ])
        .arg("--clone-cache")
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(&format!("leakhound: audit: {missing}: git clone failed")),
        "{text}"
    );
    assert!(
        text.contains("2 of 3 repositories scanned; 1 failed"),
        "{text}"
    );
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
}

#[test]
fn a_remote_that_does_not_exist_is_an_error_naming_it() {
    let cache = Dir::new();
    let output = run(leakhound()
        .args([
            "history",
            "file:///nonexistent/leakhound-remote.git",
            "--no-progress",
        ])
        .arg("--clone-cache")
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "file:///nonexistent/leakhound-remote.git");
    assert_stderr_contains(&output, "git clone failed");
}

#[test]
fn audit_lists_a_github_organisation_and_a_gitlab_group_through_their_apis() {
    use crate::mock_http::{MockServer, Reply};
    let repos: Vec<(GitRepo, String)> = (165..169).map(repo_with_token).collect();
    let urls: Vec<String> = repos.iter().map(|(repo, _)| file_url(repo)).collect();
    let api_token = github_token("ghp_", 170);
    // GitHub's documented shape: an array of repositories a page, pages linked by `Link`; the
    // next link names the server itself, known once it runs.
    let github = {
        let urls = urls.clone();
        let base_cell = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let base_for_handler = std::sync::Arc::clone(&base_cell);
        let server = MockServer::start(move |request| {
            let item =
                |url: &String| format!("{{\"full_name\": \"acme/x\", \"clone_url\": \"{url}\"}}");
            let base = base_for_handler.lock().unwrap().clone();
            match request.target.as_str() {
                "/orgs/acme/repos?per_page=100&type=all" => {
                    Reply::new(200, &format!("[{}, {}]", item(&urls[0]), item(&urls[1]))).header(
                        "Link",
                        &format!(
                            "<{base}/organizations/7/repos?page=2>; rel=\"next\", \
                         <{base}/organizations/7/repos?page=2>; rel=\"last\""
                        ),
                    )
                }
                "/organizations/7/repos?page=2" => {
                    Reply::new(200, &format!("[{}]", item(&urls[2])))
                }
                _ => Reply::new(404, "{\"message\": \"Not Found\"}"),
            }
        });
        *base_cell.lock().unwrap() = server.base();
        server
    };
    let gitlab = {
        let url = urls[3].clone();
        MockServer::start(move |request| {
            if request
                .target
                .starts_with("/groups/acme%2Fplatform/projects?include_subgroups=true")
            {
                Reply::new(
                    200,
                    &format!(
                        "[{{\"path_with_namespace\": \"acme/platform/y\", \"http_url_to_repo\": \"{url}\"}}]"
                    ),
                )
            } else {
                Reply::new(404, "{\"message\": \"404 Group Not Found\"}")
            }
        })
    };
    let cache = Dir::new();
    let output = run(leakhound()
        .env("LEAKHOUND_GITHUB_TOKEN", &api_token)
        .args([
            "audit",
            "--github-org",
            "acme",
            "--gitlab-group",
            "acme/platform",
        ])
        .args([
            "--github-org",
            "missing",
            "--format",
            "json",
            "--no-progress",
        ])
        .args([
            "--github-api",
            &github.base(),
            "--gitlab-api",
            &gitlab.base(),
        ])
        .arg("--clone-cache")
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("leakhound: audit: github org acme: 3 repositories"),
        "{text}"
    );
    assert!(
        text.contains("leakhound: audit: gitlab group acme/platform: 1 repositories"),
        "{text}"
    );
    assert!(
        text.contains("leakhound: audit: github org missing: ") && text.contains("HTTP 404"),
        "{text}"
    );
    assert!(
        !text.contains(&api_token),
        "the API token was printed: {text}"
    );
    let findings = json_findings(&output);
    let mut found: Vec<String> = findings
        .iter()
        .map(|finding| finding["repository"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    let mut expected = urls.clone();
    expected.sort();
    assert_eq!(found, expected);
    let sent = github.requests();
    assert!(sent
        .iter()
        .all(|request| request.header("authorization") == Some(&format!("Bearer {api_token}"))));
    assert_eq!(sent.len(), 3, "two pages of acme, one of missing");
}

#[test]
fn an_unreachable_api_is_an_error_naming_the_organisation() {
    let (repo, _) = repo_with_token(171);
    let list = Dir::new();
    list.write("repos.txt", format!("{}\n", repo.path().display()));
    let output = run(leakhound()
        .current_dir(list.path())
        .args(["audit", "--repos", "repos.txt", "--github-org", "acme"])
        .args([
            "--github-api",
            "http://127.0.0.1:9",
            "--format",
            "json",
            "--no-progress",
        ]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_stderr_contains(
        &output,
        "leakhound: audit: github org acme: http://127.0.0.1:9/orgs/acme/repos",
    );
    assert_eq!(json_findings(&output).len(), 1);
    let output = run(leakhound().args([
        "audit",
        "--github-org",
        "acme",
        "--github-api",
        "http://api.example.test",
        "--no-progress",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "must be https");
}

#[test]
fn a_clone_that_fails_half_way_leaves_nothing_behind_and_the_rest_is_reported() {
    let (good, _) = repo_with_token(172);
    // A repository missing one of its blobs: the server fails while sending the pack, after
    // the clone has started.
    let (broken, _) = repo_with_token(173);
    broken.write("more.txt", "more\n");
    broken.commit_all("more");
    let blob = broken.git(&["rev-parse", "HEAD:more.txt"]);
    let object = broken
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&object).expect("the blob is a loose object");
    let list = Dir::new();
    let broken_url = file_url(&broken);
    list.write("repos.txt", format!("{broken_url}\n{}\n", file_url(&good)));
    let cache = Dir::new();
    let output = run(leakhound()
        .current_dir(list.path())
        .args([
            "audit",
            "--repos",
            "repos.txt",
            "--format",
            "json",
            "--no-progress",
        ])
        .arg("--clone-cache")
        .arg(cache.path()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_stderr_contains(
        &output,
        &format!("leakhound: audit: {broken_url}: git clone failed"),
    );
    assert_stderr_contains(&output, "1 of 2 repositories scanned; 1 failed");
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["repository"], file_url(&good).as_str());
    assert_eq!(
        std::fs::read_dir(cache.path()).unwrap().count(),
        0,
        "a partial clone was left in the cache"
    );
}
