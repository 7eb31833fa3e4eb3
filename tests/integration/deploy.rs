//! The fan-out definitions in deploy/ run as written: their `leakhound` command lines are taken
//! from the files, given local stand-ins for the cluster's paths or the workflow's variables,
//! and must produce the report one audit run produces.

use std::path::Path;

use crate::mock_http::{MockServer, Reply};
use crate::util::*;

fn deploy_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The line of `text` running `leakhound <subcommand>`, without YAML list or `run:` prefixes.
fn command_line(text: &str, subcommand: &str) -> String {
    let marker = format!("leakhound {subcommand} ");
    let line = text
        .lines()
        .find(|line| line.contains(&marker) && !line.trim_start().starts_with('#'))
        .unwrap_or_else(|| panic!("no `{marker}` line"));
    let start = line.find(&marker).unwrap();
    line[start..].to_string()
}

fn binary() -> String {
    assert_cmd::cargo::cargo_bin("leakhound")
        .display()
        .to_string()
}

fn sh(line: &str, dir: &Path, env: &[(&str, String)]) {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `results` of a SARIF file.
fn sarif_results(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
    sarif["runs"][0]["results"].clone()
}

fn repositories(count: u64) -> Vec<GitRepo> {
    let shared = github_token("ghp_", 180);
    (0..count)
        .map(|index| {
            let repo = GitRepo::new();
            let mut text = format!("OWN={}\n", github_token("ghp_", 181 + index));
            if index % 2 == 0 {
                text.push_str(&format!("SHARED={shared}\n"));
            }
            repo.write("app.env", text);
            repo.commit_all("configure");
            repo
        })
        .collect()
}

#[test]
fn the_kubernetes_indexed_job_and_its_merge_give_one_audits_report() {
    let yaml = deploy_file("kubernetes/audit.yaml");
    assert!(yaml.contains("completionMode: Indexed"));
    assert!(yaml.contains("completions: 3") && yaml.contains("parallelism: 3"));
    let repos = repositories(8);
    let work = Dir::new();
    let list: String = repos
        .iter()
        .map(|repo| format!("{}\n", repo.path().display()))
        .collect();
    work.write("config/repos.txt", &list);
    std::fs::create_dir_all(work.path().join("reports")).unwrap();
    let local = |line: String| {
        line.replace("/config/", &format!("{}/config/", work.path().display()))
            .replace("/reports/", &format!("{}/reports/", work.path().display()))
            .replace("/tmp/clones", &format!("{}/clones", work.path().display()))
            .replace("leakhound ", &format!("{} ", binary()))
    };
    let audit = local(command_line(&yaml, "audit"));
    assert!(
        audit.contains("--shard $((JOB_COMPLETION_INDEX + 1))/3"),
        "{audit}"
    );
    for index in 0..3 {
        sh(
            &audit,
            work.path(),
            &[("JOB_COMPLETION_INDEX", index.to_string())],
        );
    }
    sh(&local(command_line(&yaml, "merge")), work.path(), &[]);
    let single = work.path().join("single.sarif");
    let output = run(leakhound()
        .args(["audit", "--repos"])
        .arg(work.path().join("config/repos.txt"))
        .args(["--format", "sarif", "--no-progress", "--output"])
        .arg(&single));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let merged = sarif_results(&work.path().join("reports/audit.sarif"));
    assert_eq!(merged.as_array().unwrap().len(), 9);
    assert_eq!(merged, sarif_results(&single));
}

#[test]
fn the_github_actions_matrix_and_its_merge_give_one_audits_report() {
    let workflow = deploy_file("github-actions/audit.yml");
    assert!(workflow.contains("shard: [1, 2, 3]"));
    let repos = repositories(5);
    let urls: Vec<String> = repos
        .iter()
        .map(|repo| format!("file://{}", repo.path().display()))
        .collect();
    let listing = format!(
        "[{}]",
        urls.iter()
            .map(|url| format!("{{\"clone_url\": \"{url}\"}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let api = MockServer::start(move |request| {
        if request.target.starts_with("/orgs/acme/repos?") {
            Reply::new(200, &listing)
        } else {
            Reply::new(404, "{}")
        }
    });
    let work = Dir::new();
    let clones = work.path().join("clones");
    let local = |line: String| {
        format!(
            "{} --github-api {} --clone-cache {}",
            line.replace("${{ github.repository_owner }}", "acme")
                .replace("leakhound ", &format!("{} ", binary())),
            api.base(),
            clones.display()
        )
    };
    let audit = command_line(&workflow, "audit");
    assert!(audit.contains("--shard ${{ matrix.shard }}/3"), "{audit}");
    for shard in 1..=3 {
        // `|| test $? -le 1` ends the line: the mock base goes before it.
        let line = audit.replace("${{ matrix.shard }}", &shard.to_string());
        let (command, status_check) = line.split_once(" || ").unwrap();
        sh(
            &format!("{} || {status_check}", local(command.to_string())),
            work.path(),
            &[],
        );
    }
    let merge = command_line(&workflow, "merge").replace("leakhound ", &format!("{} ", binary()));
    sh(&merge, work.path(), &[]);
    let output = run(leakhound()
        .args(["audit", "--github-org", "acme", "--github-api", &api.base()])
        .args(["--format", "sarif", "--no-progress", "--clone-cache"])
        .arg(&clones)
        .arg("--output")
        .arg(work.path().join("single.sarif")));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let merged = sarif_results(&work.path().join("audit.sarif"));
    assert_eq!(merged.as_array().unwrap().len(), 6);
    assert_eq!(merged, sarif_results(&work.path().join("single.sarif")));
}
