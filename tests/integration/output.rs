//! `--output`: regular files replaced atomically, special files written as they are.

use crate::util::*;

fn dir_with_secret() -> Dir {
    let dir = Dir::new();
    dir.write("src/a.env", format!("T={}\n", github_token("ghp_", 30)));
    dir
}

#[test]
fn output_to_dev_null_leaves_the_device_alone() {
    use std::os::unix::fs::FileTypeExt;
    let dir = dir_with_secret();
    let output = run(dir.command().args(["scan", "src", "--output", "/dev/null"]));
    assert_eq!(output.status.code(), Some(1));
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null must stay a device");
}

#[test]
fn output_to_regular_file_replaces_it_with_the_full_report() {
    let dir = dir_with_secret();
    dir.write("report.json", "old contents that must disappear");
    let output =
        run(dir
            .command()
            .args(["scan", "src", "--format", "json", "--output", "report.json"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "the report goes to the file only");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(written[0]["rule_id"], "github-pat-classic");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(".leakhound-report-")
        })
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");
}

#[test]
fn output_to_fifo_writes_into_the_pipe() {
    use std::os::unix::fs::FileTypeExt;
    let dir = dir_with_secret();
    let fifo = dir.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(reader_path).unwrap());
    let output = run(dir
        .command()
        .args(["scan", "src", "--format", "jsonl", "--output", "pipe"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let received = reader.join().unwrap();
    assert!(String::from_utf8_lossy(&received).contains("github-pat-classic"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn output_into_missing_directory_exits_2() {
    let dir = dir_with_secret();
    let output = run(dir
        .command()
        .args(["scan", "src", "--output", "no/such/dir/report.json"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no/such/dir"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn output_through_a_symlink_writes_the_target_and_keeps_the_link() {
    let dir = dir_with_secret();
    dir.write("reports/real.json", "old");
    std::os::unix::fs::symlink("reports/real.json", dir.join("latest.json")).unwrap();
    let output =
        run(dir
            .command()
            .args(["scan", "src", "--format", "json", "--output", "latest.json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let link = std::fs::symlink_metadata(dir.join("latest.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let written = std::fs::read_to_string(dir.join("reports/real.json")).unwrap();
    assert!(written.contains("github-pat-classic"), "{written}");
}

#[test]
fn report_mode_follows_the_umask_and_an_existing_report_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir_with_secret();
    let binary = assert_cmd::cargo::cargo_bin("leakhound");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" scan src --output new.txt --no-progress")
        .arg(&binary)
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("new.txt"), 0o644);

    dir.write("private.txt", "old");
    std::fs::set_permissions(
        dir.join("private.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let output = run(dir
        .command()
        .args(["scan", "src", "--output", "private.txt"]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(mode("private.txt"), 0o600);
    assert!(std::fs::read_to_string(dir.join("private.txt"))
        .unwrap()
        .contains("github-pat-classic"));
    // Nothing is left beside the reports.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["new.txt", "private.txt", "src"]);
}

#[test]
fn output_and_write_baseline_naming_one_file_is_an_error() {
    let dir = dir_with_secret();
    let output = run(dir.command().args([
        "scan",
        "src",
        "--output",
        "same.json",
        "--write-baseline",
        "./same.json",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "--output and --write-baseline both name");
    assert!(!dir.join("same.json").exists());
}

#[test]
fn a_closed_pipe_never_exits_0() {
    let dir = Dir::new();
    // Enough findings that the report outgrows the pipe's buffer.
    let lines: Vec<String> = (0..3000)
        .map(|seed| format!("T{seed}={}", github_token("ghp_", 10_000 + seed)))
        .collect();
    dir.write("many.env", lines.join("\n"));
    let binary = assert_cmd::cargo::cargo_bin("leakhound");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" scan . --no-progress 2>/dev/null | head -1 >/dev/null; echo ${PIPESTATUS[0]}")
        .arg(&binary)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "141");
}

#[test]
fn sarif_columns_count_utf16_code_units_as_declared() {
    let dir = Dir::new();
    // Two accented letters and an emoji before the token: 7 bytes, 4 UTF-16 units.
    dir.write("a.env", format!("é😀é T={}\n", github_token("ghp_", 31)));
    let json = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(json_findings(&json)[0]["column"], 12, "bytes in json");
    let sarif = run(dir.command().args(["scan", ".", "--format", "sarif"]));
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["columnKind"], "utf16CodeUnits");
    let region = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], 8);
}

#[test]
fn junit_report_has_a_failed_case_per_finding_and_escapes_hostile_text() {
    let dir = Dir::new();
    let token = github_token("ghp_", 31);
    dir.write("cfg/a<b\u{1b}]8;;x.env", format!("T={token}\n"));
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "junit", "--no-progress"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = stdout(&output);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        "{xml}"
    );
    assert!(
        xml.contains("<testsuite name=\"leakhound\" tests=\"1\" failures=\"1\" errors=\"0\">"),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<testcase classname=\"leakhound.github-pat-classic\" \
             name=\"cfg/a&lt;b\\x1b]8;;x.env:1:3\" file=\"cfg/a&lt;b\\x1b]8;;x.env\" line=\"1\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<failure type=\"critical\""), "{xml}");
    assert!(!xml.contains(&token), "the secret is printed: {xml}");
    assert!(!xml.contains('\u{1b}'), "a raw escape reached the report");

    let clean = Dir::new();
    clean.write("readme.txt", "nothing here\n");
    let output = run(clean
        .command()
        .args(["scan", ".", "--format", "junit", "--no-progress"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let xml = stdout(&output);
    assert!(
        xml.contains("tests=\"1\" failures=\"0\" errors=\"0\"")
            && xml.contains("<testcase classname=\"leakhound\" name=\"no secrets found\"/>"),
        "{xml}"
    );
    // A file over the size limit: the report says the scan is incomplete.
    let output = run(clean.command().args([
        "scan",
        ".",
        "--format",
        "junit",
        "--no-progress",
        "--max-file-size",
        "5",
    ]));
    let xml = stdout(&output);
    assert!(
        xml.contains("tests=\"2\" failures=\"0\" errors=\"1\"")
            && xml.contains("<error type=\"incomplete\" message=\"scan incomplete: "),
        "{xml}"
    );
}
