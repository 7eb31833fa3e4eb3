//! `Finding`, the stable JSON schema (README.md, "Findings"), plus what every report needs to build one
//! without leaking: redaction, snippets, fingerprints and line/column arithmetic.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::rules::model::{Confidence, Severity};

// Provenance belongs to the sources that produce it; findings carry it.
use crate::source::git::CommitInfo;
use crate::source::Provenance;

/// The raw bytes of a secret, carried from the matcher to the redaction stage (which masks every
/// copy of it wherever content is shown). `Debug` prints only the length, so a stray `{:?}` in
/// a log or an error cannot leak it, and it is never serialised.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawSecret(Arc<[u8]>);

impl RawSecret {
    pub fn new(bytes: &[u8]) -> RawSecret {
        RawSecret(bytes.into())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for RawSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "RawSecret(<{} bytes>)", self.0.len())
    }
}

/// What a finding reports of its rule. Serialised flat into the finding (`rule_id`, `rule_name`,
/// `provider`, `severity`, `remediation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub rule_id: String,
    pub rule_name: String,
    pub provider: String,
    pub severity: Severity,
    pub remediation: String,
}

impl RuleInfo {
    pub fn of(rule: &crate::rules::RuleSpec) -> RuleInfo {
        RuleInfo {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            provider: rule.provider.clone(),
            severity: rule.severity,
            remediation: rule.remediation.trim().to_string(),
        }
    }
}

/// Whether a history finding's secret is still in HEAD's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretStatus {
    Present,
    Removed,
}

/// Where in history a finding was introduced: one commit and what the report shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitProvenance {
    /// Full hex id.
    pub commit: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub email: String,
    /// RFC 3339, the commit's own offset.
    #[serde(default)]
    pub date: String,
    /// The subject line, redacted like snippets.
    #[serde(default, rename = "commit_message")]
    pub message: String,
}

impl GitProvenance {
    pub fn of(commit: &CommitInfo) -> GitProvenance {
        GitProvenance {
            commit: commit.id.clone(),
            author: commit.author.clone(),
            email: commit.email.clone(),
            date: commit.date.clone(),
            message: commit.message_first_line.clone(),
        }
    }
}

/// Another place the same credential appears.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Occurrence {
    /// `audit`: the repository (its path, or its URL without credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub path: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub column_utf16: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// One credential: one (rule, secret) per run, at its first location, with every other place
/// in `occurrences`. Deserialised by `merge` from JSON reports (fields that are never written
/// come back empty: `secret_hash`, `raw_secret`, `origin`, `column_utf16`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// `audit`: the repository (its path, or its URL without credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The rule's identity and advice, shared by every finding of the rule (a history scan makes
    /// one per blob version carrying the secret; cloning the remediation into each cost memory).
    #[serde(flatten)]
    pub rule: Arc<RuleInfo>,
    pub confidence: Confidence,
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// The column in UTF-16 code units, what SARIF declares (`columnKind`), for reports that
    /// need it; `column` counts bytes.
    #[serde(skip)]
    pub column_utf16: usize,
    /// Jupyter notebooks: the 0-based index of the cell in the notebook's `cells` array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<usize>,
    /// Binary files (read as their printable runs): the secret's byte offset in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub secret: String,
    pub snippet: String,
    pub entropy: f64,
    pub fingerprint: String,
    /// History: the commit that introduced the credential (`commit`, `author`, `email`,
    /// `date`, `commit_message` in the schema, all present or all absent).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SecretStatus>,
    /// Whether the provider accepts the credential (`--validate` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    pub occurrences: Vec<Occurrence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<crate::decode::Encoding>,
    /// Serialised as `source` (the kind); inside the run it also holds the producer's index.
    #[serde(rename = "source")]
    pub provenance: Provenance,
    /// Keyed hash of the raw secret: groups occurrences of one credential without keeping
    /// the secret itself around.
    #[serde(skip)]
    pub secret_hash: [u8; 32],
    /// The secret itself, for the redaction stage only.
    #[serde(skip)]
    pub raw_secret: RawSecret,
    /// What its validator's `context` found in the file (a customer's host label, an account
    /// e-mail), for `--validate` only: not a secret, never reported.
    #[serde(skip)]
    pub context: std::collections::BTreeMap<String, String>,
}

impl Finding {
    /// The introducing commit's id, for history findings.
    pub fn commit(&self) -> Option<&str> {
        self.git.as_ref().map(|git| git.commit.as_str())
    }

    /// A finding of `secret` by `rule_id` at `path:line`, its snippet the line itself (unmasked,
    /// as the collector would leave another finding's secret), for unit tests of the stages
    /// after matching.
    #[cfg(test)]
    pub(crate) fn for_test(rule_id: &str, path: &str, line: usize, secret: &str) -> Finding {
        let hash = secret_hash(rule_id, secret.as_bytes());
        Finding {
            repository: None,
            rule: Arc::new(RuleInfo {
                rule_id: rule_id.into(),
                rule_name: rule_id.into(),
                provider: "Test".into(),
                severity: Severity::High,
                remediation: String::new(),
            }),
            confidence: Confidence::High,
            path: path.into(),
            line,
            column: 1,
            column_utf16: 1,
            cell: None,
            offset: None,
            secret: redact(secret.as_bytes()),
            snippet: format!("token = {secret}"),
            entropy: 4.0,
            fingerprint: fingerprint(rule_id, &hash),
            git: None,
            status: None,
            validation: None,
            occurrences: Vec::new(),
            decoded: Vec::new(),
            provenance: Provenance::File,
            secret_hash: hash,
            raw_secret: RawSecret::new(secret.as_bytes()),
            context: Default::default(),
        }
    }

    pub fn occurrence(&self) -> Occurrence {
        Occurrence {
            path: self.path.clone(),
            line: self.line,
            column: self.column,
            column_utf16: self.column_utf16,
            commit: self.commit().map(str::to_string),
            repository: self.repository.clone(),
        }
    }
}

/// The built-in key for fingerprints. Fixed, so fingerprints are stable across runs and machines
/// (baselines depend on that); keyed, so a fingerprint is not a plain digest of the secret. But
/// it is public: anyone holding a published fingerprint can test guesses of a weak password
/// offline. A team that publishes SARIF sets its own key in `FINGERPRINT_KEY_VARIABLE`.
const BUILTIN_FINGERPRINT_KEY: &[u8; 32] = b"leakhound fingerprint key v1 ...";

/// The environment variable holding a team's own fingerprint key (a CI secret; never the
/// repository's config file, which would publish it beside the fingerprints).
pub const FINGERPRINT_KEY_VARIABLE: &str = "LEAKHOUND_FINGERPRINT_KEY";

/// A team key shorter than this is refused: it would be as guessable as the passwords it hides.
pub const MIN_FINGERPRINT_KEY_LEN: usize = 16;

static FINGERPRINT_KEY: std::sync::OnceLock<FingerprintKey> = std::sync::OnceLock::new();

/// The key fingerprints and baselines are computed with this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintKey {
    key: [u8; 32],
    /// `None` for the built-in key; otherwise a short public id of the team key, written into
    /// baselines so one made with another key is refused instead of reporting every entry stale.
    pub id: Option<String>,
}

/// Why the team fingerprint key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintKeyError {
    #[error(
        "{variable} is set but holds fewer than {min} bytes: use a long random value (for \
         example `openssl rand -hex 32`), kept as a CI secret",
        variable = FINGERPRINT_KEY_VARIABLE,
        min = MIN_FINGERPRINT_KEY_LEN
    )]
    TooShort,
    #[error("{variable} is not valid UTF-8", variable = FINGERPRINT_KEY_VARIABLE)]
    NotUnicode,
}

impl FingerprintKey {
    fn builtin() -> FingerprintKey {
        FingerprintKey {
            key: *BUILTIN_FINGERPRINT_KEY,
            id: None,
        }
    }

    /// Derives the key from a team's secret text.
    pub fn from_team_secret(secret: &str) -> Result<FingerprintKey, FingerprintKeyError> {
        if secret.len() < MIN_FINGERPRINT_KEY_LEN {
            return Err(FingerprintKeyError::TooShort);
        }
        let key = blake3::derive_key("leakhound 2026 team fingerprint key", secret.as_bytes());
        let id_hash = blake3::keyed_hash(&key, b"key id");
        let id = id_hash.as_bytes()[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Ok(FingerprintKey { key, id: Some(id) })
    }
}

/// Reads `FINGERPRINT_KEY_VARIABLE` once and fixes the key for the rest of the process. Call it
/// before scanning; without it the built-in key is used.
pub fn init_fingerprint_key() -> Result<&'static FingerprintKey, FingerprintKeyError> {
    let key = match std::env::var(FINGERPRINT_KEY_VARIABLE) {
        Ok(text) if !text.is_empty() => FingerprintKey::from_team_secret(&text)?,
        Ok(_) | Err(std::env::VarError::NotPresent) => FingerprintKey::builtin(),
        Err(std::env::VarError::NotUnicode(_)) => return Err(FingerprintKeyError::NotUnicode),
    };
    Ok(FINGERPRINT_KEY.get_or_init(|| key))
}

/// The key in use (the built-in one unless `init_fingerprint_key` set another).
pub fn fingerprint_key() -> &'static FingerprintKey {
    FINGERPRINT_KEY.get_or_init(FingerprintKey::builtin)
}

/// Keyed hash of (rule id, secret).
pub fn secret_hash(rule_id: &str, secret: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(&fingerprint_key().key);
    hasher.update(rule_id.as_bytes());
    hasher.update(&[0]);
    hasher.update(secret);
    *hasher.finalize().as_bytes()
}

/// `rule-id:` plus 16 bytes of the keyed hash in hex: no path, no line, so it survives moves.
pub fn fingerprint(rule_id: &str, hash: &[u8; 32]) -> String {
    let mut text = String::with_capacity(rule_id.len() + 33);
    text.push_str(rule_id);
    text.push(':');
    for byte in &hash[..16] {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// The secret as it may be shown: its first characters (at most 4, and at most a quarter of
/// it, so short passwords give little away) followed by `****`.
pub fn redact(secret: &[u8]) -> String {
    // Binary secrets (a whole encrypted credential file) show nothing: their bytes would print
    // as replacement characters and terminal control.
    let Ok(text) = std::str::from_utf8(secret) else {
        return "****".to_string();
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return "****".to_string();
    }
    let chars = text.chars().count();
    let shown = (chars / 4).min(4);
    let mut redacted: String = text
        .chars()
        .take(shown)
        .filter(|c| !c.is_control())
        .collect();
    redacted.push_str("****");
    redacted
}

/// How much of a long line the snippet keeps on each side of the secret.
const SNIPPET_CONTEXT: usize = 80;

/// The line holding the secret's first byte, cut to a window around it (minified files have
/// megabyte lines). Every secret span in `secrets` (sorted, non-overlapping: all matches in the
/// blob, reported or not) that falls in the window is redacted unless `show_secrets`, so a
/// snippet never leaks a neighbouring secret on the same line.
pub fn snippet(
    haystack: &[u8],
    start: usize,
    end: usize,
    secrets: &[(usize, usize)],
    show_secrets: bool,
) -> String {
    // Look for line breaks only within the context window, so many findings on one
    // megabyte-long line stay linear.
    let floor = start.saturating_sub(SNIPPET_CONTEXT);
    let (before_start, cut_before) = match memchr::memrchr(b'\n', &haystack[floor..start]) {
        Some(i) => (floor + i + 1, false),
        None => (floor, floor > 0 && haystack[floor - 1] != b'\n'),
    };
    let secret_line_end = memchr::memchr(b'\n', &haystack[start..end]).map_or(end, |i| start + i);
    let ceiling = (secret_line_end + SNIPPET_CONTEXT).min(haystack.len());
    let (after_end, cut_after) = if secret_line_end < end {
        (secret_line_end, false)
    } else {
        match memchr::memchr(b'\n', &haystack[secret_line_end..ceiling]) {
            Some(i) => (secret_line_end + i, false),
            None => (
                ceiling,
                ceiling < haystack.len() && haystack[ceiling] != b'\n',
            ),
        }
    };
    let first = secrets.partition_point(|&(_, span_end)| span_end <= before_start);
    let last = secrets.partition_point(|&(span_start, _)| span_start < after_end);
    let mut text = String::new();
    if cut_before {
        text.push('…');
    }
    let mut position = before_start;
    let mut focus_done = false;
    let spans = secrets[first..last.max(first)]
        .iter()
        .copied()
        .chain(std::iter::once((start, end)));
    for (span_start, span_end) in spans {
        if (span_start, span_end) == (start, end) {
            if focus_done {
                continue;
            }
            focus_done = true;
        }
        if span_end <= position || span_start >= after_end {
            continue;
        }
        let visible_start = span_start.max(position);
        text.push_str(&String::from_utf8_lossy(&haystack[position..visible_start]));
        let visible_end = span_end.min(after_end);
        if show_secrets {
            text.push_str(&String::from_utf8_lossy(
                &haystack[visible_start..visible_end],
            ));
        } else {
            text.push_str(&redact(&haystack[span_start..span_end]));
        }
        position = visible_end;
    }
    if position < after_end {
        text.push_str(&String::from_utf8_lossy(&haystack[position..after_end]));
    }
    if cut_after {
        text.push('…');
    }
    text.trim().trim_end_matches('\r').to_string()
}

/// 1-based columns in UTF-16 code units, for offsets asked in ascending order within a line:
/// each call counts only the bytes since the previous one, so many findings on one minified
/// line stay linear. Invalid UTF-8 counts one unit a byte (it is shown as U+FFFD).
#[derive(Debug, Default)]
pub struct Utf16Columns {
    line_start: usize,
    offset: usize,
    units: usize,
}

impl Utf16Columns {
    pub fn column(&mut self, haystack: &[u8], line_start: usize, offset: usize) -> usize {
        if line_start != self.line_start || offset < self.offset {
            *self = Utf16Columns {
                line_start,
                offset: line_start,
                units: 0,
            };
        }
        for &byte in &haystack[self.offset..offset] {
            // A lead or ASCII byte starts a character; a 4-byte one is a surrogate pair.
            if byte & 0xC0 != 0x80 {
                self.units += 1;
            }
            if byte >= 0xF0 {
                self.units += 1;
            }
        }
        self.offset = offset;
        self.units + 1
    }
}

/// Turns byte offsets into 1-based (line, column) positions. Offsets must be asked for in
/// ascending order; each call only counts the line breaks since the previous one, so a blob with
/// many findings is still walked once.
pub struct LineCounter<'a> {
    haystack: &'a [u8],
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineCounter<'a> {
    pub fn new(haystack: &'a [u8]) -> Self {
        LineCounter {
            haystack,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// (line, column) of `offset`; the column counts bytes from the line's start.
    pub fn position(&mut self, offset: usize) -> (usize, usize) {
        if offset < self.offset {
            *self = LineCounter::new(self.haystack);
        }
        let segment = &self.haystack[self.offset..offset];
        for newline in memchr::memchr_iter(b'\n', segment) {
            self.line += 1;
            self.line_start = self.offset + newline + 1;
        }
        self.offset = offset;
        (self.line, offset - self.line_start + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_at_most_four_characters() {
        assert_eq!(
            redact(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "ghp_****"
        );
        assert_eq!(redact(b"hunter22"), "hu****");
        assert_eq!(redact(b"abc"), "****");
    }

    #[test]
    fn utf16_columns_count_code_units() {
        let line = "é😀x=SECRET".as_bytes();
        let secret = line.len() - 6;
        let mut columns = Utf16Columns::default();
        // é is one unit, 😀 two, x and = one each: the secret starts at unit 6, column 6.
        assert_eq!(columns.column(line, 0, secret), 6);
        assert_eq!(columns.column(line, 0, 0), 1);
    }

    #[test]
    fn line_counter_reports_one_based_positions() {
        let text = b"one\ntwo\n  three";
        let mut counter = LineCounter::new(text);
        assert_eq!(counter.position(0), (1, 1));
        assert_eq!(counter.position(5), (2, 2));
        assert_eq!(counter.position(10), (3, 3));
        assert_eq!(counter.position(4), (2, 1));
    }

    #[test]
    fn snippet_redacts_and_cuts_long_lines() {
        let mut line = "a".repeat(500);
        line.push_str("SECRET");
        line.push_str(&"b".repeat(500));
        let start = 500;
        let text = snippet(
            line.as_bytes(),
            start,
            start + 6,
            &[(start, start + 6)],
            false,
        );
        assert!(text.starts_with('…') && text.ends_with('…'));
        assert!(text.contains("S****") && !text.contains("SECRET"), "{text}");
        assert!(text.chars().count() < 200);
    }

    #[test]
    fn snippet_redacts_every_secret_on_the_line() {
        let line = b"a=FIRSTSECRETVALUE b=SECONDSECRETVALUE";
        let first = (2, 18);
        let second = (21, 38);
        let text = snippet(line, second.0, second.1, &[first, second], false);
        assert_eq!(text, "a=FIRS**** b=SECO****");
        let shown = snippet(line, second.0, second.1, &[first, second], true);
        assert_eq!(shown, std::str::from_utf8(line).unwrap());
    }
}

/// What a provider said about a credential (`--validate`); the stage is the `validation` module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationStatus {
    /// The provider accepted the credential.
    Live,
    /// The provider rejected it: revoked, expired or never valid.
    Invalid,
    /// No answer either way: network, rate limit, missing part, unexpected answer.
    Unknown,
}

impl ValidationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Live => "live",
            ValidationStatus::Invalid => "invalid",
            ValidationStatus::Unknown => "unknown",
        }
    }
}

/// A finding's validation result, as every report format shows it. Never holds a response
/// body, only what the rule lifts into `identity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub status: ValidationStatus,
    pub detail: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
}
