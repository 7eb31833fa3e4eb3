//! `.leakhound.toml` (at the scanned root, or `--config FILE`): extra rule files, disabled
//! rules, allowlists, per-rule entropy overrides and the file-size limit. Every key is checked:
//! an unknown key or a bad value is an error naming the key and the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{line_column, ConfigError};

/// File name looked for at the scanned root.
pub const CONFIG_FILE_NAME: &str = ".leakhound.toml";

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Extra rule files or directories, relative to the config file.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// Rule ids that never report.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    #[serde(default)]
    pub max_file_size: Option<u64>,
    #[serde(default)]
    pub allowlist: AllowlistConfig,
    /// Per-rule minimum entropy, replacing the rule's own floor: `rule-id = 4.0`.
    #[serde(default)]
    pub entropy: BTreeMap<String, f64>,
    /// Where the config was read from; relative paths inside it resolve against its directory.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    /// Glob patterns on the reported path (`fixtures/**`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes on the reported path (what gitleaks' allowlist `paths` are; see
    /// `leakhound import-gitleaks`).
    #[serde(default)]
    pub path_regexes: Vec<String>,
    /// Regexes; a secret any of them matches is not reported.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Case-insensitive words; a secret containing one is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Commit ids (full or abbreviated to at least 7 hex digits) whose findings are not reported.
    #[serde(default)]
    pub commits: Vec<String>,
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Config::parse(file, &text)
    }

    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            let problem = without_values(error.message());
            let message = match error.span().and_then(|span| key_at(text, span.start)) {
                Some(key) if !problem.contains(&format!("`{key}`")) => {
                    format!("`{key}`: {problem}")
                }
                _ => problem,
            };
            ConfigError::Parse {
                file: file.to_path_buf(),
                line,
                column,
                message,
            }
        })?;
        config.origin = Some(file.to_path_buf());
        config.check(file)?;
        Ok(config)
    }

    fn check(&self, file: &Path) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String| ConfigError::InvalidValue {
            file: file.to_path_buf(),
            key: key.to_string(),
            problem,
        };
        // Errors name the entry by its index and say what is wrong, never quoting it: an
        // allowlist entry may be the very secret it allows.
        for (index, pattern) in self.allowlist.paths.iter().enumerate() {
            globset::Glob::new(pattern).map_err(|error| {
                invalid(
                    &format!("allowlist.paths[{index}]"),
                    error.kind().to_string(),
                )
            })?;
        }
        for (index, pattern) in self.allowlist.regexes.iter().enumerate() {
            regex::bytes::Regex::new(pattern).map_err(|error| {
                let text = error.to_string();
                let problem = text
                    .lines()
                    .rev()
                    .find_map(|line| line.strip_prefix("error: "))
                    .unwrap_or("not a valid regular expression")
                    .to_string();
                invalid(&format!("allowlist.regexes[{index}]"), problem)
            })?;
        }
        for word in &self.allowlist.stopwords {
            if word.trim().is_empty() {
                return Err(invalid("allowlist.stopwords", "empty stopword".into()));
            }
        }
        for (index, commit) in self.allowlist.commits.iter().enumerate() {
            if commit.len() < 7 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(
                    &format!("allowlist.commits[{index}]"),
                    "not a commit id (at least 7 hex digits)".into(),
                ));
            }
        }
        for (rule_id, floor) in &self.entropy {
            if !(0.0..=8.0).contains(floor) {
                return Err(invalid(
                    &format!("entropy.{rule_id}"),
                    "outside 0..=8 bits per byte".into(),
                ));
            }
        }
        if self.max_file_size == Some(0) {
            return Err(invalid("max_file_size", "must be greater than 0".into()));
        }
        Ok(())
    }

    /// Extra rule paths, resolved against the config file's directory.
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        let base = self
            .origin
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or_else(|| Path::new(""));
        self.rules.iter().map(|path| base.join(path)).collect()
    }
}

/// A TOML/serde error message with every value it quotes taken out (`invalid type: string
/// "ghp_…", expected u64` becomes `invalid type: a string, expected u64`): a value in a config
/// file may be a secret pasted into the wrong key, and errors end up in CI logs.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(quote) = rest.find('"') {
        let (before, after) = rest.split_at(quote);
        // serde writes strings with Rust's escapes, so an escaped quote does not end one.
        let mut end = None;
        let mut escaped = false;
        for (offset, c) in after.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(offset);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else {
            // An unmatched quote: keep what precedes it, drop the rest.
            out.push_str(before);
            out.push_str("\"…\"");
            return out;
        };
        match before.strip_suffix("string ") {
            Some(lead) => {
                out.push_str(lead);
                out.push_str("a string");
            }
            None => {
                out.push_str(before);
                out.push_str("\"…\"");
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    for (kind, article) in [
        ("integer `", "an integer"),
        ("floating point `", "a number"),
        ("character `", "a character"),
    ] {
        while let Some(at) = out.find(kind) {
            let value_start = at + kind.len();
            let Some(length) = out[value_start..].find('`') else {
                break;
            };
            out.replace_range(at..value_start + length + 1, article);
        }
    }
    out
}

/// The dotted key (`allowlist.paths`) whose value holds byte `offset`, so a type error can
/// name it: the `key =` on that line, prefixed by the nearest `[table]` header above it.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|candidate| candidate.starts_with('['))
        .map(|header| {
            header
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string()
        });
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let error = Config::parse(Path::new("c.toml"), "[allowlist]\npathz = []\n").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("pathz") && text.contains("c.toml:2"),
            "{text}"
        );
    }

    #[test]
    fn type_error_names_the_dotted_key() {
        let error = Config::parse(Path::new("c.toml"), "[allowlist]\npaths = 'x'\n").unwrap_err();
        assert!(error.to_string().contains("`allowlist.paths`"), "{error}");
    }

    #[test]
    fn type_errors_never_quote_the_value() {
        // Assembled at run time so the project's own scan does not report it.
        let secret = ["ghp", "_R4nd0mV4lu3ThatMustNotBeEch0ed0000"].concat();
        for text in [
            format!("max_file_size = \"{secret}\"\n"),
            format!("[allowlist]\nregexes = ['(unclosed{secret}']\n"),
            format!("[allowlist]\npaths = ['[{secret}']\n"),
            format!("[allowlist]\ncommits = ['{secret}']\n"),
            format!("[allowlist]\nstopwords = [\"{secret}\", 3]\n"),
        ] {
            let error = Config::parse(Path::new("c.toml"), &text).unwrap_err();
            let message = error.to_string();
            assert!(!message.contains("R4nd0m"), "{message}");
            assert!(message.contains("c.toml"), "{message}");
        }
        assert_eq!(
            without_values(r#"invalid type: string "a\"b", expected u64"#),
            "invalid type: a string, expected u64"
        );
        assert_eq!(
            without_values("invalid value: integer `-5`, expected u64"),
            "invalid value: an integer, expected u64"
        );
    }

    #[test]
    fn bad_glob_names_its_key() {
        let error =
            Config::parse(Path::new("c.toml"), "[allowlist]\npaths = [\"a[\"]\n").unwrap_err();
        assert!(error.to_string().contains("allowlist.paths"), "{error}");
    }
}
