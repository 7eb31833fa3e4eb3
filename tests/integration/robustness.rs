//! Seeded property tests for everything that parses hostile bytes: the matcher, the decoders,
//! the archive reader, the notebook scanner and the redactor. Each case is built from a seed,
//! so a failure names the seed that reproduces it. `cargo test` runs a bounded number of cases;
//! `benches/fuzz.sh` runs many more (LEAKHOUND_FUZZ_CASES).

use std::io::Write;

use leakhound::matcher::Matcher;
use leakhound::redact::Redactor;
use leakhound::source::archive;

use crate::util::*;

fn cases() -> u64 {
    std::env::var("LEAKHOUND_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(400)
}

/// Fragments real inputs are made of: keywords, prefixes, separators, encodings, archive and
/// notebook syntax. Random splices of them reach far more code than uniform random bytes.
fn fragments(seed: u64) -> Vec<Vec<u8>> {
    let token = github_token("ghp_", seed);
    let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &token);
    let hex: String = token.bytes().map(|byte| format!("{byte:02x}")).collect();
    vec![
        token.clone().into_bytes(),
        base64.into_bytes(),
        hex.into_bytes(),
        b"password = \"".to_vec(),
        b"AKIA".to_vec(),
        b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec(),
        b"-----END RSA PRIVATE KEY-----".to_vec(),
        b"postgres://user:".to_vec(),
        b"@host:5432/db".to_vec(),
        b"%2F%3D%".to_vec(),
        b"\\u00".to_vec(),
        b"\\x4".to_vec(),
        b"{\"cells\": [{\"cell_type\": \"code\", \"source\": [\"".to_vec(),
        b"\"]}, ".to_vec(),
        b"PK\x03\x04".to_vec(),
        b"\x1f\x8b\x08".to_vec(),
        b"BZh9".to_vec(),
        b"ustar\x00".to_vec(),
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b"\x00".to_vec(),
        b"\xff\xfe".to_vec(),
        "é€😀".as_bytes().to_vec(),
        b"leakhound:allow".to_vec(),
        vec![b'A'; 300],
        vec![b'='; 40],
    ]
}

fn input(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(2654435761).wrapping_add(1));
    let pieces = fragments(seed);
    let mut bytes = Vec::new();
    let parts = 1 + rng.next() % 40;
    for _ in 0..parts {
        match rng.next() % 4 {
            0 => bytes.extend_from_slice(&pieces[(rng.next() % pieces.len() as u64) as usize]),
            1 => {
                let len = rng.next() % 64;
                bytes.extend((0..len).map(|_| rng.next() as u8));
            }
            2 => {
                let len = (rng.next() % 80) as usize;
                bytes.extend_from_slice(rng.string(BASE62, len).as_bytes());
            }
            _ => {
                // Truncate or flip a byte of what is there, as corrupt files do.
                if !bytes.is_empty() {
                    let at = (rng.next() % bytes.len() as u64) as usize;
                    if rng.next().is_multiple_of(2) {
                        bytes.truncate(at);
                    } else {
                        bytes[at] ^= rng.next() as u8 | 1;
                    }
                }
            }
        }
    }
    bytes
}

fn builtin_matcher() -> Matcher {
    let rules = leakhound::rules::load_builtin().expect("built-in rules load");
    Matcher::new(rules.into_iter().map(|rule| rule.spec).collect()).expect("matcher builds")
}

#[test]
fn the_matcher_and_the_decoders_hold_on_hostile_bytes() {
    let matcher = builtin_matcher();
    let mut scratch = matcher.scratch();
    let mut spans = Vec::new();
    let mut decoded = Vec::new();
    for seed in 0..cases() {
        let bytes = input(seed);
        for found in matcher.scan(&bytes, &mut scratch) {
            assert!(
                found.start <= found.end && found.end <= bytes.len(),
                "seed {seed}: span {}..{} outside {} bytes",
                found.start,
                found.end,
                bytes.len()
            );
            let _ = matcher.rule(found.rule_index);
        }
        leakhound::decode::find_spans(&bytes, &mut spans);
        let mut previous = 0;
        for span in &spans {
            assert!(
                span.start <= span.end && span.end <= bytes.len(),
                "seed {seed}"
            );
            assert!(span.start >= previous, "seed {seed}: spans out of order");
            previous = span.start;
            if leakhound::decode::decode(&bytes, *span, &mut decoded) {
                assert!(decoded.len() <= span.end - span.start, "seed {seed}");
                let _ = matcher.scan(&decoded, &mut scratch);
            }
        }
    }
}

fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer
            .start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn the_archive_reader_holds_on_corrupt_archives() {
    let limits = archive::Limits {
        max_depth: 3,
        max_total_bytes: 4 * 1024 * 1024,
        max_entries: 200,
        max_entry_bytes: 1024 * 1024,
        max_archive_bytes: 8 * 1024 * 1024,
    };
    for seed in 0..cases() / 4 {
        let entries: Vec<(String, Vec<u8>)> = (0..1 + seed % 4)
            .map(|index| (format!("e{index}.txt"), input(seed * 7 + index)))
            .collect();
        let mut bytes = zip_of(&entries);
        if seed % 3 == 1 {
            // An archive inside the archive.
            bytes = zip_of(&[("inner.zip".into(), bytes)]);
        }
        let mut rng = Rng::new(seed + 99);
        // Corrupt some of them: flip bytes, truncate.
        if seed % 2 == 0 && !bytes.is_empty() {
            for _ in 0..1 + rng.next() % 8 {
                let at = (rng.next() % bytes.len() as u64) as usize;
                bytes[at] ^= rng.next() as u8 | 1;
            }
        }
        if seed % 5 == 0 {
            let keep = (rng.next() % bytes.len() as u64) as usize;
            bytes.truncate(keep);
        }
        let mut visited = 0u64;
        let mut strings = leakhound::source::strings::StringsView::default();
        let expanded = archive::expand(
            &bytes,
            "fuzz.zip",
            &limits,
            Some(&mut strings),
            &mut |path, entry| {
                assert!(path.starts_with("fuzz.zip!"), "seed {seed}: {path}");
                visited += match entry {
                    archive::EntryContent::Text(text) => text.len() as u64,
                    archive::EntryContent::Strings(view, size) => {
                        assert!(view.text().len() as u64 <= 2 * size, "seed {seed}");
                        size
                    }
                };
            },
            &mut |_message| {},
        );
        assert!(visited <= limits.max_total_bytes, "seed {seed}");
        assert!(expanded.archives <= 1 + limits.max_entries, "seed {seed}");
    }
}

#[test]
fn the_notebook_scanner_holds_on_broken_json() {
    for seed in 0..cases() {
        let bytes = input(seed);
        let starts = leakhound::notebook::cell_starts(&bytes);
        assert!(
            starts.windows(2).all(|pair| pair[0] <= pair[1]),
            "seed {seed}: cell starts out of order"
        );
        assert!(
            starts.iter().all(|&start| start <= bytes.len()),
            "seed {seed}"
        );
        for offset in [0, bytes.len() / 2, bytes.len()] {
            let _ = leakhound::notebook::cell_at(&starts, offset);
        }
    }
}

#[test]
fn the_redactor_never_shows_a_secret_it_knows() {
    for seed in 0..cases() {
        let mut rng = Rng::new(seed + 7);
        let len = 8 + (rng.next() % 40) as usize;
        let secret = rng.string(BASE62, len);
        let redactor = Redactor::new([secret.as_bytes()]);
        // The secret, spliced into hostile text (multi-byte characters included) 1-3 times.
        let mut text = String::from_utf8_lossy(&input(seed)).into_owned();
        for _ in 0..1 + rng.next() % 3 {
            let mut at = (rng.next() % (text.len() as u64 + 1)) as usize;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.insert_str(at, &secret);
        }
        let shown = redactor.apply(&text);
        assert!(
            !shown.contains(&secret),
            "seed {seed}: {secret:?} shows in {shown:?}"
        );
    }
}

/// Files of 2 MiB each reserve their size; a budget of 1 MiB holds one at a time.
fn large_file_with_token(seed: u64) -> (String, String) {
    let token = github_token("ghp_", seed);
    let filler = "# padding line of a large generated file\n".repeat(2 * 1024 * 1024 / 42);
    (format!("{filler}GITHUB_TOKEN={token}\n"), token)
}

#[test]
fn a_memory_budget_smaller_than_one_file_still_scans_everything() {
    let dir = Dir::new();
    let lines = "# padding line of a large generated file\n"
        .repeat(2 * 1024 * 1024 / 42)
        .lines()
        .count() as u64;
    for index in 0..6 {
        let (text, _) = large_file_with_token(700 + index);
        dir.write(&format!("big-{index}.env"), text);
    }
    let mut expected: Vec<(String, String, u64, u64)> = (0..6)
        .map(|index| {
            (
                "github-pat-classic".to_string(),
                format!("big-{index}.env"),
                lines + 1,
                14,
            )
        })
        .collect();
    expected.sort();
    for budget in ["1M", "64MiB"] {
        let output = run(dir.command().args([
            "scan",
            ".",
            "--format",
            "json",
            "--threads",
            "4",
            "--memory-budget",
            budget,
        ]));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert_eq!(
            locations(&json_findings(&output)),
            expected,
            "budget {budget}"
        );
    }

    // History: versions of a large file, each adding a token, read under the smallest budget.
    let repo = GitRepo::new();
    let (mut text, _) = large_file_with_token(710);
    repo.write("big.env", &text);
    let first = repo.commit_all("one");
    text.push_str(&format!("SECOND={}\n", github_token("ghp_", 711)));
    repo.write("big.env", &text);
    let second = repo.commit_all("two");
    let output = repo.history(&["--memory-budget", "1M", "--threads", "2"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let commits: Vec<(u64, String)> = json_findings(&output)
        .iter()
        .map(|finding| {
            (
                finding["line"].as_u64().unwrap_or_default(),
                finding["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(commits, vec![(lines + 1, first), (lines + 2, second)]);
}

#[test]
fn a_memory_budget_that_is_not_a_size_is_refused_naming_it() {
    for (value, message) in [
        ("10", "\"10\" is below the 1 MiB minimum"),
        ("5X", "\"5X\": unknown unit \"X\" (use K, M or G)"),
        (
            "lots",
            "\"lots\" is not a size (examples: 536870912, 512M, 2G)",
        ),
    ] {
        let output = run(leakhound().args(["scan", ".", "--memory-budget", value]));
        assert_eq!(output.status.code(), Some(2));
        assert_stderr_contains(&output, message);
    }
}
