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
