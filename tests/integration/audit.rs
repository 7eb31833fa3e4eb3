//! `audit` and `merge`: many repositories into one report, shards merged back into one.

use crate::util::*;

/// Eight repositories; token 140 sits in three of them, the others hold their own.
fn eight_repositories() -> (Vec<GitRepo>, Dir) {
    let shared = github_token("ghp_", 140);
    let repos: Vec<GitRepo> = (0..8u64)
        .map(|index| {
            let repo = GitRepo::new();
            repo.write("README.md", format!("repository {index}\n"));
            repo.commit_all("initial");
            repo.write(
                "config/app.env",
                format!("OWN={}\n", github_token("ghp_", 141 + index)),
            );
            if index % 3 == 0 {
                repo.write("deploy.sh", format!("export T={shared}\n"));
            }
            repo.commit_all("configure");
            repo
        })
        .collect();
    let list = Dir::new();
    let lines: String = repos
        .iter()
        .map(|repo| format!("{}\n", repo.path().display()))
        .collect();
    list.write("repos.txt", format!("# audit list\n{lines}\n"));
    (repos, list)
}

fn audit(list: &Dir, extra: &[&str]) -> std::process::Output {
    run(leakhound()
        .current_dir(list.path())
        .args(["audit", "--repos", "repos.txt", "--no-progress"])
        .args(extra))
}

#[test]
fn one_audit_equals_three_shards_merged() {
    let (repos, list) = eight_repositories();
    let whole = audit(&list, &["--format", "json"]);
    assert_eq!(whole.status.code(), Some(1), "{}", stderr(&whole));
    let findings = json_findings(&whole);
    // 8 own tokens and the shared one.
    assert_eq!(findings.len(), 9, "{findings:?}");
    let shared: Vec<_> = findings
        .iter()
        .filter(|finding| finding["path"] == "deploy.sh")
        .collect();
    assert_eq!(shared.len(), 1);
    let occurrences = shared[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 2, "{occurrences:?}");
    let mut places: Vec<String> = std::iter::once(shared[0]["repository"].clone())
        .chain(occurrences.iter().map(|o| o["repository"].clone()))
        .map(|name| name.as_str().unwrap().to_string())
        .collect();
    places.sort();
    let mut expected: Vec<String> = [0, 3, 6]
        .iter()
        .map(|&index| repos[index].path().display().to_string())
        .collect();
    expected.sort();
    assert_eq!(places, expected);

    let mut shard_files = Vec::new();
    let mut seen = 0;
    for k in 1..=3 {
        let file = format!("shard-{k}.jsonl");
        let shard = format!("{k}/3");
        let output = audit(
            &list,
            &["--shard", &shard, "--format", "jsonl", "-o", &file],
        );
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            stderr(&output)
        );
        let text = stderr(&output);
        let scanned: usize = text
            .split("leakhound: audit: ")
            .nth(1)
            .and_then(|rest| rest.split(" of ").next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        seen += scanned;
        shard_files.push(file);
    }
    assert_eq!(seen, 8, "every repository in exactly one shard");
    let merged = run(leakhound()
        .current_dir(list.path())
        .arg("merge")
        .args(&shard_files)
        .args(["--format", "json"]));
    assert_eq!(merged.status.code(), Some(1), "{}", stderr(&merged));
    assert_eq!(stdout(&merged), stdout(&whole));
}

#[test]
fn a_repository_that_fails_is_named_and_the_others_are_reported() {
    let (repos, list) = eight_repositories();
    let not_a_repository = Dir::new();
    not_a_repository.write("file.txt", "plain\n");
    let token = github_token("ghp_", 150);
    let listing = format!(
        "{}\n/nonexistent/leakhound-audit\n{}\nhttp://user:{token}@127.0.0.1:9/org/repo.git\n",
        repos[1].path().display(),
        not_a_repository.path().display()
    );
    list.write("repos.txt", listing);
    let output = audit(&list, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("leakhound: audit: /nonexistent/leakhound-audit: no such directory"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}: ", not_a_repository.path().display())),
        "{text}"
    );
    // Nothing listens on the discard port: the clone fails, named without the credentials.
    assert!(
        text.contains("leakhound: audit: http://127.0.0.1:9/org/repo.git: git clone failed"),
        "{text}"
    );
    assert!(
        !text.contains(&token),
        "a credential in a URL was printed: {text}"
    );
    assert!(
        text.contains("1 of 4 repositories scanned; 3 failed"),
        "{text}"
    );
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0]["repository"],
        repos[1].path().display().to_string().as_str()
    );
    assert_eq!(findings[0]["path"], "config/app.env");
}

#[test]
fn tree_audits_scan_work_trees_and_bad_input_is_refused() {
    let (repos, list) = eight_repositories();
    let human = audit(&list, &["--tree", "--color", "never"]);
    assert!(
        stdout(&human).contains(&format!(
            "{} :: config/app.env\n",
            repos[2].path().display()
        )),
        "{}",
        stdout(&human)
    );
    let output = audit(&list, &["--tree", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(json_findings(&output).len(), 9);
    assert!(json_findings(&output)
        .iter()
        .all(|finding| finding.get("commit").is_none()));

    let output = audit(&list, &["--shard", "4/3"]);
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(
        &output,
        "invalid --shard \"4/3\": expected K/N with 1 <= K <= N",
    );

    list.write("bad.jsonl", "{\"rule_id\": 5}\n");
    let output = run(leakhound()
        .current_dir(list.path())
        .args(["merge", "bad.jsonl"]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "bad.jsonl:1: not a leakhound JSON finding");
}

/// A Chromium on the machine, if any (tests that need one say so and pass without it).
fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|output| output.status.success())
        })
        .map(str::to_string)
}

#[test]
fn html_audit_report_is_self_contained_escaped_and_runs_under_its_own_policy() {
    let (repos, list) = eight_repositories();
    // A hostile file name: markup in the table must stay text.
    repos[1].write(
        "<img src=x onerror=alert(1)>.env",
        format!("K={}\n", github_token("ghp_", 149)),
    );
    repos[1].commit_all("hostile name");
    let output = audit(&list, &["--format", "html", "-o", "report.html"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let page = std::fs::read_to_string(list.path().join("report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;sha256-"
    ), "{}", &page[..600]);
    for external in ["<script src", "<link", "@import", "url(http", "src=\"http"] {
        assert!(!page.contains(external), "external resource {external:?}");
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.env"));
    assert!(!page.contains("<img src=x"));
    assert!(
        page.contains("<p class=\"muted\">10 findings in 8 repositories</p>"),
        "{}",
        &page[..2000]
    );
    for token in [github_token("ghp_", 140), github_token("ghp_", 149)] {
        assert!(!page.contains(&token), "a secret is in the page");
    }
    let Some(browser) = chromium() else {
        eprintln!("skipped the browser half: no chromium on this machine");
        return;
    };
    let dom = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg("--dump-dom")
        .arg(format!(
            "file://{}",
            list.path().join("report.html").display()
        ))
        .output()
        .expect("chromium runs");
    let rendered = String::from_utf8_lossy(&dom.stdout);
    let console = String::from_utf8_lossy(&dom.stderr);
    // The script ran (its policy hash matched) and filled in the count.
    assert!(rendered.contains("data-ready=\"yes\""), "{console}");
    assert!(rendered.contains("10 of 10 shown"), "{rendered}");
    assert!(!console.contains("Content Security Policy"), "{console}");
}

#[test]
fn merge_of_a_hostile_report_neither_panics_nor_drives_the_terminal() {
    let (_repos, list) = eight_repositories();
    let output = audit(&list, &["--format", "jsonl", "-o", "shard.jsonl"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // Rewrite the first finding as a hostile report would: multi-byte text where a commit id
    // goes, and terminal escapes in it.
    let text = std::fs::read_to_string(list.path().join("shard.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    lines[0]["commit"] = serde_json::json!("aééééééééééé\u{1b}]8;;https://x.test\u{7}é");
    lines[0]["date"] = serde_json::json!("\u{1b}[2J2024");
    lines[0]["rule_id"] = serde_json::json!("rule\u{1b}[31m");
    let hostile: String = lines.iter().map(|line| format!("{line}\n")).collect();
    list.write("hostile.jsonl", hostile);
    for format in ["human", "html", "junit", "gitlab", "sarif", "csv"] {
        let output = run(leakhound().current_dir(list.path()).args([
            "merge",
            "hostile.jsonl",
            "--format",
            format,
        ]));
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: {}",
            stderr(&output)
        );
        if matches!(format, "human" | "html" | "junit" | "csv") {
            assert!(
                !stdout(&output).contains('\u{1b}'),
                "{format} printed an escape"
            );
        }
    }
}
