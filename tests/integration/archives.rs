//! Archives in `scan` and `history`: entries named `outer!inner`, nesting limits, bombs and
//! corrupt archives as warnings.

use std::io::Write;

use crate::util::*;

fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn tar_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn bzip2_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn secret_line(seed: u64) -> Vec<u8> {
    format!("# deploy\nGITHUB_TOKEN={}\n", github_token("ghp_", seed)).into_bytes()
}

#[test]
fn zip_jar_tar_tgz_and_gz_entries_are_scanned_with_inner_paths() {
    let dir = Dir::new();
    dir.write("a.zip", zip_bytes(&[("conf/app.env", &secret_line(600))]));
    dir.write(
        "b.jar",
        zip_bytes(&[("META-INF/x.properties", &secret_line(601))]),
    );
    dir.write("c.tar", tar_bytes(&[("etc/c.env", &secret_line(602))]));
    dir.write(
        "d.tar.gz",
        gzip_bytes(&tar_bytes(&[("d.env", &secret_line(603))])),
    );
    dir.write("e.env.gz", gzip_bytes(&secret_line(604)));
    dir.write("f.env.bz2", bzip2_bytes(&secret_line(605)));
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let rule = "github-pat-classic".to_string();
    assert_eq!(
        locations(&json_findings(&output)),
        vec![
            (rule.clone(), "a.zip!conf/app.env".into(), 2, 14),
            (rule.clone(), "b.jar!META-INF/x.properties".into(), 2, 14),
            (rule.clone(), "c.tar!etc/c.env".into(), 2, 14),
            (rule.clone(), "d.tar.gz!d.env".into(), 2, 14),
            (rule.clone(), "e.env.gz!e.env".into(), 2, 14),
            (rule, "f.env.bz2!f.env".into(), 2, 14),
        ]
    );
    assert!(
        stderr(&output).contains("archives opened"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn nested_archives_are_opened_up_to_the_depth_limit() {
    let dir = Dir::new();
    let inner = zip_bytes(&[("inner.env", &secret_line(610))]);
    dir.write("outer.zip", zip_bytes(&[("lib/inner.zip", &inner)]));
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![(
            "github-pat-classic".into(),
            "outer.zip!lib/inner.zip!inner.env".into(),
            2,
            14
        )]
    );
    // Ten levels: the scan stops at the limit with a warning and goes on.
    let mut nested = zip_bytes(&[("deep.env", &secret_line(611))]);
    for level in 0..10 {
        nested = zip_bytes(&[(&format!("level{level}.zip"), &nested)]);
    }
    dir.write("deep.zip", nested);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nested deeper than 2 levels"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json_findings(&output).len(), 1);
}

#[test]
fn a_decompression_bomb_is_skipped_with_a_warning() {
    let dir = Dir::new();
    let zeros = vec![b'0'; 20 * 1024 * 1024];
    dir.write("bomb.txt.gz", gzip_bytes(&zeros));
    dir.write("real.env", secret_line(620));
    let output = run(dir.command().args([
        "scan",
        ".",
        "--format",
        "json",
        "--max-file-size",
        "1000000",
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("bomb.txt.gz"),
        "{}",
        stderr(&output)
    );
    assert_eq!(json_findings(&output).len(), 1);
}

#[test]
fn corrupt_and_truncated_archives_are_warnings() {
    let dir = Dir::new();
    let mut truncated = zip_bytes(&[("x.env", &secret_line(630))]);
    truncated.truncate(truncated.len() / 2);
    dir.write("broken.zip", truncated);
    let mut bad_gzip = gzip_bytes(&secret_line(631));
    bad_gzip.truncate(12);
    dir.write("broken.gz", bad_gzip);
    dir.write("real.env", secret_line(632));
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("broken.zip"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        locations(&json_findings(&output)),
        vec![("github-pat-classic".into(), "real.env".into(), 2, 14)]
    );
}

#[test]
fn no_archives_skips_them_as_binary() {
    let dir = Dir::new();
    dir.write("a.zip", zip_bytes(&[("app.env", &secret_line(640))]));
    let output = run(dir.command().args(["scan", ".", "--no-archives"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("--no-archives"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn archives_in_history_are_attributed_with_inner_paths() {
    let repo = GitRepo::new();
    repo.write(
        "dist/bundle.zip",
        zip_bytes(&[("config/prod.env", &secret_line(650))]),
    );
    let commit = repo.commit_all("ship bundle");
    let findings = json_findings(&repo.history(&[]));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["path"], "dist/bundle.zip!config/prod.env");
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(findings[0]["commit"], commit.as_str());
}

#[test]
fn encrypted_zip_entries_are_skipped_with_a_warning() {
    let dir = Dir::new();
    let mut bytes = zip_bytes(&[("secret.env", &secret_line(660))]);
    // Set the "encrypted" flag (bit 0 of the general-purpose flags) in the local and central
    // headers, as an encrypting zip tool would.
    for (signature, flags_offset) in [(&b"PK\x03\x04"[..], 6), (&b"PK\x01\x02"[..], 8)] {
        let at = bytes
            .windows(4)
            .position(|window| window == signature)
            .expect("header present");
        bytes[at + flags_offset] |= 1;
    }
    dir.write("locked.zip", bytes);
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("locked.zip!secret.env: encrypted zip entry skipped"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn archive_depth_is_configurable() {
    let dir = Dir::new();
    let inner = zip_bytes(&[("inner.env", &secret_line(670))]);
    dir.write("outer.zip", zip_bytes(&[("inner.zip", &inner)]));
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json", "--archive-depth", "1"]));
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("nested deeper than 1 levels"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_limit_reached_makes_the_scan_incomplete_in_the_summary_the_reports_and_the_exit_code() {
    let dir = Dir::new();
    // Padding past the entry limit, then the token in a later entry: the padding is not
    // scanned, so a clean result would be a lie.
    let padding = vec![b' '; 2 * 1024 * 1024];
    dir.write(
        "bundle.zip",
        zip_bytes(&[("padding.txt", &padding), ("notes.txt", b"nothing here\n")]),
    );
    let args = ["scan", ".", "--max-file-size", "1000000"];
    let plain = run(dir.command().args(args));
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert_stderr_contains(
        &plain,
        "INCOMPLETE: not scanned: 1 archive entries not opened",
    );
    assert!(
        stdout(&plain).contains("Scan incomplete: not scanned: 1 archive entries not opened"),
        "{}",
        stdout(&plain)
    );

    let gate = run(dir.command().args(args).arg("--fail-on-incomplete"));
    assert_eq!(gate.status.code(), Some(2));
    assert_stderr_contains(&gate, "the scan is incomplete");

    let sarif = run(dir.command().args(args).args(["--format", "sarif"]));
    let log: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["properties"]["incomplete"], true);
    let notification = &log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(notification["descriptor"]["id"], "incomplete-scan");

    // A complete scan says nothing of the kind and passes the gate.
    std::fs::remove_file(dir.join("bundle.zip")).unwrap();
    let clean = run(dir.command().args(args).arg("--fail-on-incomplete"));
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(!stderr(&clean).contains("INCOMPLETE"));
}

#[test]
fn an_archive_is_limited_by_its_entries_not_its_own_size() {
    let dir = Dir::new();
    // A tarball larger than --max-file-size whose entries are each small.
    let filler: Vec<Vec<u8>> = (0..40)
        .map(|index| format!("line {index}\n").repeat(4000).into_bytes())
        .collect();
    let mut entries: Vec<(String, &[u8])> = filler
        .iter()
        .enumerate()
        .map(|(index, data)| (format!("docs/{index}.txt"), data.as_slice()))
        .collect();
    let secret = secret_line(640);
    entries.push(("config/app.env".to_string(), &secret));
    let borrowed: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(name, data)| (name.as_str(), *data))
        .collect();
    let tar = tar_bytes(&borrowed);
    assert!(tar.len() > 1_000_000);
    dir.write("site.tar", tar);
    let output = run(dir.command().args([
        "scan",
        ".",
        "--format",
        "json",
        "--max-file-size",
        "1000000",
    ]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let found = locations(&json_findings(&output));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, "site.tar!config/app.env");
}

#[test]
fn a_staged_archive_and_one_piped_to_stdin_are_opened_like_any_other() {
    let repo = GitRepo::new();
    repo.write("README.md", "bundle\n");
    repo.commit_all("init");
    repo.write(
        "dist/bundle.zip",
        zip_bytes(&[("config/prod.env", &secret_line(660))]),
    );
    repo.git(&["add", "dist/bundle.zip"]);
    let output = run(leakhound()
        .current_dir(repo.path())
        .args(["staged", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![(
            "github-pat-classic".into(),
            "dist/bundle.zip!config/prod.env".into(),
            2,
            14
        )]
    );

    let output = run(leakhound()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(gzip_bytes(&secret_line(661))));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        locations(&json_findings(&output)),
        vec![(
            "github-pat-classic".into(),
            "<stdin>!<stdin>.decompressed".into(),
            2,
            14
        )]
    );
}

/// A binary entry (a compiled class in a jar) is read as its printable runs, like a binary
/// file: the token compiled into it is found at its offset in the entry; `--no-binary` drops it.
#[test]
fn binary_entries_are_read_as_printable_strings() {
    let dir = Dir::new();
    let token = github_token("ghp_", 620);
    // A class file's magic and constant pool: the token is a UTF-8 constant between
    // length-prefixed binary fields.
    let mut class = b"\xca\xfe\xba\xbe\x00\x00\x00\x3d\x00\x1d\x0a\x00\x02\x00\x03\x07".to_vec();
    class.extend_from_slice(&[0u8, 1, 0, 0x28]);
    let token_offset = class.len();
    class.extend_from_slice(token.as_bytes());
    class.extend_from_slice(&[0u8, 0, 0x0c, 0, 5, 0, 6, 1, 0, 3]);
    dir.write(
        "app.jar",
        zip_bytes(&[
            ("com/acme/Main.class", &class),
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ]),
    );
    let output = run(dir.command().args(["scan", ".", "--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json_findings(&output);
    // Line and column are the entry's own, counting its line feed bytes (one, in the header).
    let before = &class[..token_offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    assert_eq!(
        locations(&findings),
        vec![(
            "github-pat-classic".into(),
            "app.jar!com/acme/Main.class".into(),
            line,
            (token_offset - line_start + 1) as u64
        )]
    );
    assert_eq!((line, line_start), (2, 11));
    assert_eq!(findings[0]["offset"], token_offset);
    assert_stderr_contains(&output, "1 binary file read as printable strings");

    let output = run(dir.command().args(["scan", ".", "--no-binary"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}
