//! Loads rule files: the ones compiled into the binary and the user's (`--rules FILE|DIR`).
//! Parsing and validation errors name the file, the line or the rule id.

use std::path::{Path, PathBuf};

use crate::error::{line_column, RuleError};
use crate::rules::model::{RuleFile, RuleSpec};
use crate::rules::validate::{validate_spec, validate_structure};

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// A rule plus the file it came from, so every later error can say where to look.
#[derive(Debug, Clone)]
pub struct LoadedRule {
    pub spec: RuleSpec,
    pub origin: PathBuf,
}

/// Every built-in rule, parsed from the embedded `rules/*.toml`. Built-in rules are validated
/// in full (examples included) by `cargo test`, so only the cheap structural checks run here.
pub fn load_builtin() -> Result<Vec<LoadedRule>, RuleError> {
    let mut rules = Vec::new();
    for (name, text) in EMBEDDED_RULE_FILES {
        let origin = Path::new("rules").join(name);
        rules.extend(parse_rules(&origin, text, Check::Structure)?);
    }
    Ok(rules)
}

/// The largest user rule file read: the biggest real rule packs are a few hundred kilobytes;
/// a file this size is a mistake or an attack, and parsing it would take minutes and gigabytes.
pub const MAX_RULE_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The most user rules loaded in one run (every `--rules` path and the config's together): each
/// compiles a regex and joins the keyword automaton.
pub const MAX_USER_RULES: usize = 5_000;

/// Loads a user rule file, or every `*.toml` file in a directory (sorted by name), and checks
/// each rule's structure, including that its regex compiles.
pub fn load_path(path: &Path) -> Result<Vec<LoadedRule>, RuleError> {
    let metadata = std::fs::metadata(path).map_err(|source| RuleError::Read {
        file: path.to_path_buf(),
        source,
    })?;
    let files = if metadata.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| RuleError::Read {
                file: path.to_path_buf(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(RuleError::EmptyDirectory {
                path: path.to_path_buf(),
            });
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut rules = Vec::new();
    for file in files {
        let size = std::fs::metadata(&file)
            .map_err(|source| RuleError::Read {
                file: file.clone(),
                source,
            })?
            .len();
        if size > MAX_RULE_FILE_BYTES {
            return Err(RuleError::TooLarge {
                file,
                size,
                limit: MAX_RULE_FILE_BYTES,
            });
        }
        let text = std::fs::read_to_string(&file).map_err(|source| RuleError::Read {
            file: file.clone(),
            source,
        })?;
        // Counted before parsing each rule in full, so a file of 60,000 rules fails fast.
        let declared = text.matches("[[rule]]").count();
        if rules.len() + declared > MAX_USER_RULES {
            return Err(RuleError::TooMany {
                file,
                limit: MAX_USER_RULES,
            });
        }
        rules.extend(parse_rules(&file, &text, Check::Full)?);
        if rules.len() > MAX_USER_RULES {
            return Err(RuleError::TooMany {
                file,
                limit: MAX_USER_RULES,
            });
        }
    }
    Ok(rules)
}

/// Rule files given as (name shown in errors, contents), such as those read from a git revision;
/// checked like files on disk (size, count, every regex and example).
pub fn load_texts(files: &[(PathBuf, Vec<u8>)]) -> Result<Vec<LoadedRule>, RuleError> {
    let mut rules = Vec::new();
    for (file, bytes) in files {
        if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
            return Err(RuleError::TooLarge {
                file: file.clone(),
                size: bytes.len() as u64,
                limit: MAX_RULE_FILE_BYTES,
            });
        }
        let text = String::from_utf8_lossy(bytes);
        if rules.len() + text.matches("[[rule]]").count() > MAX_USER_RULES {
            return Err(RuleError::TooMany {
                file: file.clone(),
                limit: MAX_USER_RULES,
            });
        }
        rules.extend(parse_rules(file, &text, Check::Full)?);
    }
    Ok(rules)
}

/// How much checking a rule gets at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Built-in rules: `cargo test` compiled every regex and ran every example, so start-up
    /// skips compiling 200+ regexes (the matcher compiles each lazily, on first use).
    Structure,
    /// User rules: everything, including that each regex compiles and has a `secret` group.
    Full,
}

fn parse_rules(origin: &Path, text: &str, check: Check) -> Result<Vec<LoadedRule>, RuleError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|error| {
        let (line, column) = error
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        RuleError::Parse {
            file: origin.to_path_buf(),
            line,
            column,
            message: error.message().to_string(),
        }
    })?;
    let mut rules = Vec::with_capacity(parsed.rules.len());
    for mut spec in parsed.rules {
        if let Some(name) = spec.keyword_set.take() {
            let Some(set) = parsed.keyword_sets.get(&name) else {
                return Err(RuleError::Invalid {
                    file: origin.to_path_buf(),
                    rule_id: spec.id.clone(),
                    problem: format!("keyword_set {name:?} is not in this file's [keyword_sets]")
                        .into(),
                });
            };
            let own = std::mem::take(&mut spec.keywords);
            spec.keywords = set.iter().cloned().chain(own).collect();
        }
        let checked = match check {
            Check::Structure => validate_structure(&spec),
            Check::Full => validate_spec(&spec),
        };
        checked.map_err(|problem| RuleError::Invalid {
            file: origin.to_path_buf(),
            rule_id: spec.id.clone(),
            problem,
        })?;
        rules.push(LoadedRule {
            spec,
            origin: origin.to_path_buf(),
        });
    }
    Ok(rules)
}

/// Rejects a second rule with an id already taken, naming both files.
pub fn ensure_unique_ids(rules: &[LoadedRule]) -> Result<(), RuleError> {
    let mut seen: std::collections::HashMap<&str, &Path> = std::collections::HashMap::new();
    for rule in rules {
        if let Some(first) = seen.insert(rule.spec.id.as_str(), rule.origin.as_path()) {
            return Err(RuleError::Invalid {
                file: rule.origin.clone(),
                rule_id: rule.spec.id.clone(),
                problem: format!("duplicate rule id (already defined in {})", first.display())
                    .into(),
            });
        }
    }
    Ok(())
}
