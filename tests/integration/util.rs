//! Test helpers: a temp-dir builder (`Dir`), a command pointing at the built binary, and fake
//! secrets generated at test time (prefix + deterministic random body + valid check digits), so
//! the repository never holds a credential-looking string verbatim.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct Dir {
    pub temp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            temp: tempfile::Builder::new()
                .prefix("leakhound-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    pub fn join(&self, relative: &str) -> PathBuf {
        self.temp.path().join(relative)
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// `leakhound` with the working directory set to this dir and no progress bar.
    pub fn command(&self) -> Command {
        let mut command = leakhound();
        command.current_dir(self.path());
        command
    }
}

pub fn leakhound() -> Command {
    let mut command = Command::cargo_bin("leakhound").expect("binary is built");
    command.env("NO_COLOR", "1");
    command
}

/// Runs and returns the output, whatever the exit status.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("leakhound runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json_findings(output: &Output) -> Vec<serde_json::Value> {
    let parsed: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
                stdout(output),
                stderr(output)
            )
        });
    parsed.as_array().expect("a JSON array").clone()
}

/// (rule_id, path, line, column) of each finding, in report order.
pub fn locations(findings: &[serde_json::Value]) -> Vec<(String, String, u64, u64)> {
    findings
        .iter()
        .map(|finding| {
            (
                finding["rule_id"].as_str().unwrap_or_default().to_string(),
                finding["path"].as_str().unwrap_or_default().to_string(),
                finding["line"].as_u64().unwrap_or_default(),
                finding["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Deterministic xorshift generator: the same seed gives the same fake secret on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// `len` characters from `alphabet`, re-drawn until free of placeholder-looking runs.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        loop {
            let candidate: Vec<u8> = (0..len)
                .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
                .collect();
            let text = String::from_utf8(candidate).expect("ascii alphabet");
            if !leakhound::matcher::looks_like_placeholder(text.as_bytes()) {
                return text;
            }
        }
    }
}

pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base62_check(body: &str) -> String {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; 6];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("ascii")
}

/// A GitHub-format token (`ghp_` and friends) with valid check digits.
pub fn github_token(prefix: &str, seed: u64) -> String {
    let body = Rng::new(seed).string(BASE62, 30);
    format!("{prefix}{body}{}", base62_check(&body))
}

/// An npm-format token with valid check digits.
pub fn npm_token(seed: u64) -> String {
    let body = Rng::new(seed).string(BASE62, 30);
    format!("npm_{body}{}", base62_check(&body))
}

/// An AWS access key id: AKIA + 16 characters of base32's alphabet.
pub fn aws_access_key_id(seed: u64) -> String {
    format!("AKIA{}", Rng::new(seed).string(UPPER_DIGITS, 16))
}

/// A Stripe-format live secret key.
pub fn stripe_live_key(seed: u64) -> String {
    format!("sk_live_{}", Rng::new(seed).string(BASE62, 24))
}

/// Root cannot be denied a read, so permission tests run the binary as `nobody` when the test
/// itself runs as root (as CI does). Returns None where that is impossible.
pub fn unprivileged(dir: &Dir, args: &[&str]) -> Option<Output> {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .is_some_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    let binary = assert_cmd::cargo::cargo_bin("leakhound");
    if !is_root {
        return Some(
            std::process::Command::new(binary)
                .args(args)
                .current_dir(dir.path())
                .env("NO_COLOR", "1")
                .output()
                .expect("runs"),
        );
    }
    // `nobody` must be able to reach the binary and the temp dir.
    make_world_traversable(dir.path());
    let copy = dir.path().join("leakhound-bin");
    std::fs::copy(&binary, &copy).ok()?;
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    let _ = std::fs::remove_file(&copy);
    Some(output)
}

fn make_world_traversable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut current = Some(path);
    while let Some(dir) = current {
        if let Ok(metadata) = std::fs::metadata(dir) {
            let mut permissions = metadata.permissions();
            permissions.set_mode(permissions.mode() | 0o005);
            let _ = std::fs::set_permissions(dir, permissions);
        }
        current = dir.parent();
        if current == Some(Path::new("/")) {
            break;
        }
    }
}

/// A throwaway git repository driven by the `git` binary, with fixed identities and strictly
/// increasing commit dates so attribution is deterministic.
pub struct GitRepo {
    pub dir: Dir,
    clock: std::cell::Cell<i64>,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let repo = GitRepo {
            dir: Dir::new(),
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository and returns its trimmed stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let time = self.clock.get();
        self.clock.set(time + 60);
        let date = format!("@{time} +0000");
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(self.dir.path())
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.test")
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.test")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        self.dir.write(path, contents);
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// `leakhound history <repo> --format json` plus extra arguments.
    pub fn history(&self, extra: &[&str]) -> Output {
        let mut command = leakhound();
        command
            .arg("history")
            .arg(self.path())
            .args(["--format", "json", "--no-progress"])
            .args(extra);
        run(&mut command)
    }
}

/// A user rule file for the made-up "Acme" provider; tests vary the regex and examples to
/// exercise validation.
pub fn acme_rule(regex: &str, examples: &[&str], negative: &str) -> String {
    let examples: Vec<String> = examples.iter().map(|e| format!("{e:?}")).collect();
    format!(
        "[[rule]]\nid = \"acme-token\"\nname = \"Acme token\"\nprovider = \"Acme\"\n\
         severity = \"high\"\nkeywords = [\"acme_\"]\nregex = '''{regex}'''\n\
         remediation = \"Revoke it at https://acme.invalid/tokens.\"\n\
         examples = [{}]\nnegative_examples = [{negative:?}]\n",
        examples.join(", ")
    )
}

/// The well-formed Acme rule.
pub fn good_acme_rule() -> String {
    acme_rule(
        "(?P<secret>acme_[a-z0-9]{20})",
        &[
            "acme_k3j4h5g6f7d8s9a0q1w2",
            "key: acme_p0o9i8u7y6t5r4e3w2q1",
        ],
        "acme_short",
    )
}

/// Asserts that stderr mentions `needle`, printing stderr when it does not.
pub fn assert_stderr_contains(output: &Output, needle: &str) {
    let text = stderr(output);
    assert!(text.contains(needle), "stderr lacks {needle:?}:\n{text}");
}

/// Asserts that no finding comes from `rule_id`.
pub fn assert_no_finding_of(findings: &[serde_json::Value], rule_id: &str) {
    assert!(
        findings.iter().all(|finding| finding["rule_id"] != rule_id),
        "unexpected {rule_id} finding: {findings:?}"
    );
}
