//! Rules as written in `rules/*.toml`: plain serde data, kept apart from the compiled form in
//! `matcher`. `deny_unknown_fields` everywhere: a misspelt key must be an error, never a rule that
//! silently lost its entropy floor.

use serde::{Deserialize, Serialize};

/// One rule file: a list of `[[rule]]` tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

/// How bad it is if this credential leaks: what an attacker gets with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium, high or critical)"
            )),
        }
    }
}

/// How sure we are that a match is a real credential of this kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Offline check digits a token format carries; see `matcher::checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumKind {
    /// GitHub/npm style: the last six characters are the base62 CRC32 of the body.
    #[serde(rename = "crc32-base62")]
    Crc32Base62,
    /// A JWT whose header segment decodes to a JSON object with an `alg` key.
    #[serde(rename = "jwt-header")]
    JwtHeader,
}

/// A rule exactly as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub severity: Severity,
    #[serde(default)]
    pub confidence: Confidence,
    pub keywords: Vec<String>,
    pub regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumKind>,
    /// How many bytes before a keyword hit the secret may start (beyond the hit's own line).
    #[serde(default)]
    pub reach_before: usize,
    /// How many bytes after a keyword hit the secret may end (beyond the hit's own line).
    #[serde(default)]
    pub reach_after: usize,
    /// Off only for formats whose bodies are long random blocks (key files) where a placeholder
    /// word occurring by chance would cost a real finding.
    #[serde(default = "default_true")]
    pub placeholder_filter: bool,
    /// Byte classes (`[0-9]`, `[G-Zg-z]`) of which the secret must hold at least one byte
    /// each. Says "a letter and a digit somewhere" without a regex that spells out every
    /// position, which for bounded repetitions blows up into a huge DFA (the generic rules ran
    /// at ~37 MB/s that way, and dominated tree scans).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_must_contain: Vec<String>,
    pub remediation: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_true() -> bool {
    true
}
