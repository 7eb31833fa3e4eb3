//! Baselines: a file of accepted findings, so a CI gate fails only on new credentials. An
//! entry is a salted keyed hash of (rule, secret): no raw secret, no plain digest that could be
//! looked up, and no path or line, so an entry survives the secret moving or the file gaining
//! lines, while a different secret on a baselined line is still new. The path and line stored
//! beside each hash are for the reader only. Scans never rewrite a baseline.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{file}: cannot read baseline: {source}")]
    Read {
        file: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a leakhound baseline: {message}")]
    Parse {
        file: std::path::PathBuf,
        message: String,
    },
    #[error(
        "{file}: the baseline was written with {written}, this run uses {current}: its entries \
         cannot match. Set {variable} as it was when the baseline was written, or write a new \
         baseline with --write-baseline",
        variable = crate::finding::FINGERPRINT_KEY_VARIABLE
    )]
    KeyMismatch {
        file: std::path::PathBuf,
        written: String,
        current: String,
    },
}

/// How a baseline names the fingerprint key in an error.
fn describe_key(id: Option<&str>) -> String {
    match id {
        None => "the built-in fingerprint key".to_string(),
        Some(id) => format!("the team fingerprint key {id}"),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    /// Hex; hashes are keyed with it, so entries cannot be compared across baselines.
    pub salt: String,
    /// The public id of the team fingerprint key the hashes depend on; absent for the built-in
    /// key (so baselines written before team keys existed stay valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_key: Option<String>,
    pub entries: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub hash: String,
    /// Where the finding was when the baseline was written (informational).
    pub path: String,
    pub line: usize,
}

pub struct Baseline {
    salt: [u8; 32],
    entries: Vec<BaselineEntry>,
}

/// Findings kept and what the baseline accounted for.
pub struct BaselineOutcome {
    pub kept: Vec<Finding>,
    pub suppressed: u64,
    pub stale: Vec<BaselineEntry>,
}

impl Baseline {
    pub fn load(file: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(file).map_err(|source| BaselineError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        let parsed: BaselineFile =
            serde_json::from_str(&text).map_err(|error| BaselineError::Parse {
                file: file.to_path_buf(),
                message: error.to_string(),
            })?;
        Baseline::from_parsed(parsed, file)
    }

    /// Checks a parsed baseline (version, fingerprint key, salt); `file` names it in errors.
    pub fn from_parsed(parsed: BaselineFile, file: &Path) -> Result<Baseline, BaselineError> {
        if parsed.version != FORMAT_VERSION {
            return Err(BaselineError::Parse {
                file: file.to_path_buf(),
                message: format!("unsupported version {}", parsed.version),
            });
        }
        let current = crate::finding::fingerprint_key().id.as_deref();
        if parsed.fingerprint_key.as_deref() != current {
            return Err(BaselineError::KeyMismatch {
                file: file.to_path_buf(),
                written: describe_key(parsed.fingerprint_key.as_deref()),
                current: describe_key(current),
            });
        }
        let salt = decode_hex_32(&parsed.salt).ok_or_else(|| BaselineError::Parse {
            file: file.to_path_buf(),
            message: "salt must be 64 hex digits".into(),
        })?;
        Ok(Baseline {
            salt,
            entries: parsed.entries,
        })
    }

    /// Drops findings the baseline accepts; lists entries that matched nothing.
    pub fn apply(&self, findings: Vec<Finding>) -> BaselineOutcome {
        let mut used = vec![false; self.entries.len()];
        let mut kept = Vec::new();
        let mut suppressed = 0;
        for finding in findings {
            let hash = entry_hash(&self.salt, &finding);
            let mut matched = false;
            for (index, entry) in self.entries.iter().enumerate() {
                if entry.rule_id == finding.rule.rule_id && entry.hash == hash {
                    used[index] = true;
                    matched = true;
                }
            }
            if matched {
                suppressed += 1;
            } else {
                kept.push(finding);
            }
        }
        let stale = self
            .entries
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(entry, _)| entry.clone())
            .collect();
        BaselineOutcome {
            kept,
            suppressed,
            stale,
        }
    }
}

/// The baseline for `findings`, with a fresh salt.
pub fn build(findings: &[Finding]) -> BaselineFile {
    let salt = fresh_salt();
    BaselineFile {
        version: FORMAT_VERSION,
        salt: hex(&salt),
        fingerprint_key: crate::finding::fingerprint_key().id.clone(),
        entries: findings
            .iter()
            .map(|finding| BaselineEntry {
                rule_id: finding.rule.rule_id.clone(),
                hash: entry_hash(&salt, finding),
                path: finding.path.clone(),
                line: finding.line,
            })
            .collect(),
    }
}

fn entry_hash(salt: &[u8; 32], finding: &Finding) -> String {
    let mut hasher = blake3::Hasher::new_keyed(salt);
    hasher.update(finding.rule.rule_id.as_bytes());
    hasher.update(&[0]);
    hasher.update(&finding.secret_hash);
    hex(&hasher.finalize().as_bytes()[..20])
}

/// A salt unique to this baseline: it only has to differ between baselines, not be secret.
fn fresh_salt() -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    hasher.update(&now.to_le_bytes());
    hasher.update(&std::process::id().to_le_bytes());
    let marker = 0u8;
    hasher.update(&(std::ptr::from_ref(&marker) as usize).to_le_bytes());
    *hasher.finalize().as_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (index, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline_of(findings: &[Finding]) -> Baseline {
        Baseline::from_parsed(build(findings), Path::new("baseline.json"))
            .expect("a baseline this build wrote loads")
    }

    #[test]
    fn an_entry_matches_its_credential_wherever_it_moved_and_nothing_else() {
        let accepted = Finding::for_test("acme-token", "a.py", 3, "Zq81mXv0Lp");
        let baseline = baseline_of(std::slice::from_ref(&accepted));
        let moved = Finding::for_test("acme-token", "b/c.py", 40, "Zq81mXv0Lp");
        let other_secret = Finding::for_test("acme-token", "a.py", 3, "Zq81mXv0Lq");
        let other_rule = Finding::for_test("other-token", "a.py", 3, "Zq81mXv0Lp");
        let applied = baseline.apply(vec![moved, other_secret, other_rule]);
        assert_eq!(applied.suppressed, 1);
        let kept: Vec<(&str, &str)> = applied
            .kept
            .iter()
            .map(|finding| (finding.rule.rule_id.as_str(), finding.path.as_str()))
            .collect();
        assert_eq!(kept, [("acme-token", "a.py"), ("other-token", "a.py")]);
        assert!(applied.stale.is_empty());
    }

    #[test]
    fn entries_matching_nothing_are_stale_and_hold_no_secret() {
        let gone = Finding::for_test("acme-token", "old.py", 7, "Zq81mXv0Lp");
        let file = build(std::slice::from_ref(&gone));
        let written = serde_json::to_string(&file).expect("baseline serialises");
        assert!(!written.contains("Zq81mXv0Lp"), "{written}");
        let applied = baseline_of(&[gone]).apply(Vec::new());
        assert_eq!(applied.stale.len(), 1);
        assert_eq!(
            (applied.stale[0].path.as_str(), applied.stale[0].line),
            ("old.py", 7)
        );
    }

    #[test]
    fn another_version_or_a_bad_salt_is_refused_naming_the_file() {
        let mut file = build(&[]);
        file.salt = "zz".into();
        let error = Baseline::from_parsed(file, Path::new("ci/baseline.json"))
            .err()
            .expect("a bad salt is refused");
        assert_eq!(
            error.to_string(),
            "ci/baseline.json: not a leakhound baseline: salt must be 64 hex digits"
        );
        let mut file = build(&[]);
        file.version = 9;
        let error = Baseline::from_parsed(file, Path::new("b.json"))
            .err()
            .expect("another version is refused");
        assert_eq!(
            error.to_string(),
            "b.json: not a leakhound baseline: unsupported version 9"
        );
    }
}
