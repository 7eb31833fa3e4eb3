//! Which `.leakhound.toml` a command obeys. `scan` and a full `history` read the one on disk;
//! `history --range` and `staged` read the version at the base of the change under review (or
//! `--config-from REV`), because a pull request that adds `paths = ["**"]` must not pass its own
//! gate. A configuration changed inside the change is a warning that names what it would
//! suppress; its suppressions are not applied, so what they would hide is reported.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{Config, CONFIG_FILE_NAME};
use crate::diagnostics::Diagnostics;
use crate::source;

/// Where the configuration comes from when `--config` is not given.
pub enum ConfigSource<'a> {
    /// `.leakhound.toml` in this directory, if present (none: defaults).
    Directory(Option<&'a Path>),
    /// A version read from git: `origin` names it in errors (and rule paths in it resolve
    /// against its directory); `text` is `None` when that version has no configuration.
    Revision {
        origin: PathBuf,
        text: Option<Vec<u8>>,
        /// The repository and revision it was read at: rule files it names are read there too.
        at: (PathBuf, String),
    },
}

impl ConfigSource<'_> {
    pub fn load(&self) -> Result<Config> {
        match self {
            ConfigSource::Directory(root) => {
                if let Some(candidate) = root.map(|root| root.join(CONFIG_FILE_NAME)) {
                    if candidate.is_file() {
                        return Ok(Config::load(&candidate)?);
                    }
                }
                Ok(Config::default())
            }
            ConfigSource::Revision { origin, text, .. } => match text {
                Some(bytes) => Ok(Config::parse(origin, &String::from_utf8_lossy(bytes))?),
                None => Ok(Config::default()),
            },
        }
    }
}

/// `history`: with `--config-from REV` or `--range`, the configuration at that revision (the
/// range's base); otherwise the work tree's.
pub fn for_history<'a>(
    repo: &'a Path,
    range: Option<&str>,
    config_from: Option<&str>,
    diagnostics: &Diagnostics,
) -> Result<ConfigSource<'a>> {
    let (base, tip) = match (config_from, range) {
        (Some(revision), _) => (Some(revision.to_string()), None),
        (None, Some(spec)) => source::git::range_ends(repo, spec)?,
        (None, None) => (None, None),
    };
    let Some(base) = base else {
        return Ok(ConfigSource::Directory(repo.is_dir().then_some(repo)));
    };
    let text = source::git::file_at_revision(repo, &base, CONFIG_FILE_NAME)?;
    let changed = match &tip {
        Some(tip) => source::git::file_at_revision(repo, tip, CONFIG_FILE_NAME)?,
        None => std::fs::read(repo.join(CONFIG_FILE_NAME)).ok(),
    };
    let origin = repo.join(format!("{CONFIG_FILE_NAME} (at {})", short(&base)));
    let where_changed = match &tip {
        Some(tip) => format!("in the range ({}..{})", short(&base), short(tip)),
        None => "in the work tree".to_string(),
    };
    warn_if_changed(
        &origin,
        text.as_deref(),
        changed.as_deref(),
        &where_changed,
        diagnostics,
    );
    Ok(ConfigSource::Revision {
        origin,
        text,
        at: (repo.to_path_buf(), base),
    })
}

/// `staged`: the configuration committed at HEAD (or `--config-from REV`); a staged or unstaged
/// change to it is reported, not applied.
pub fn for_staged<'a>(
    repo: &'a Path,
    config_from: Option<&str>,
    diagnostics: &Diagnostics,
) -> Result<ConfigSource<'a>> {
    if let Some(revision) = config_from {
        let text = source::git::file_at_revision(repo, revision, CONFIG_FILE_NAME)?;
        let origin = repo.join(format!("{CONFIG_FILE_NAME} (at {revision})"));
        return Ok(ConfigSource::Revision {
            origin,
            text,
            at: (repo.to_path_buf(), revision.to_string()),
        });
    }
    let versions = source::staged::committed_and_staged(repo, CONFIG_FILE_NAME)?;
    let origin = repo.join(format!("{CONFIG_FILE_NAME} (at HEAD)"));
    let on_disk = std::fs::read(repo.join(CONFIG_FILE_NAME)).ok();
    let committed = versions.committed.as_deref();
    if versions.staged.as_deref() != committed {
        warn_if_changed(
            &origin,
            committed,
            versions.staged.as_deref(),
            "by the staged change",
            diagnostics,
        );
    } else if on_disk.is_some() && on_disk.as_deref() != committed {
        warn_if_changed(
            &origin,
            committed,
            on_disk.as_deref(),
            "in the work tree (not committed)",
            diagnostics,
        );
    }
    Ok(ConfigSource::Revision {
        origin,
        text: versions.committed,
        at: (repo.to_path_buf(), "HEAD".to_string()),
    })
}

fn short(revision: &str) -> &str {
    if revision.len() == 40 && revision.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        &revision[..12]
    } else {
        revision
    }
}

/// Warns when the configuration differs from the one in use, naming the suppressions the change
/// would add (path globs and rule ids by name; regexes and stopwords only by count, since they
/// may spell out a secret).
fn warn_if_changed(
    origin: &Path,
    used: Option<&[u8]>,
    changed: Option<&[u8]>,
    where_changed: &str,
    diagnostics: &Diagnostics,
) {
    if used == changed {
        return;
    }
    let parse = |text: Option<&[u8]>| match text {
        Some(bytes) => Config::parse(origin, &String::from_utf8_lossy(bytes)).ok(),
        None => Some(Config::default()),
    };
    let added = match (parse(used), parse(changed)) {
        (Some(before), Some(after)) => added_suppressions(&before, &after),
        (_, None) => vec!["a configuration that does not load".to_string()],
        (None, Some(_)) => Vec::new(),
    };
    let effect = if added.is_empty() {
        String::new()
    } else {
        format!("; it would add {}", added.join(", "))
    };
    diagnostics.warn(format!(
        "{CONFIG_FILE_NAME} is changed {where_changed}: this scan uses {} and does not apply the \
         change{effect} (findings it would hide are reported; review the configuration change on \
         its own, or pass --config to choose a file)",
        origin.display()
    ));
}

/// What `after` suppresses that `before` does not, for the warning.
fn added_suppressions(before: &Config, after: &Config) -> Vec<String> {
    let new = |old: &[String], new: &[String]| -> Vec<String> {
        new.iter()
            .filter(|entry| !old.contains(entry))
            .cloned()
            .collect()
    };
    let mut added = Vec::new();
    let paths = new(&before.allowlist.paths, &after.allowlist.paths);
    if !paths.is_empty() {
        added.push(format!("allowlist.paths {paths:?}"));
    }
    let disabled = new(&before.disabled_rules, &after.disabled_rules);
    if !disabled.is_empty() {
        added.push(format!("disabled_rules {disabled:?}"));
    }
    let commits = new(&before.allowlist.commits, &after.allowlist.commits);
    if !commits.is_empty() {
        added.push(format!("allowlist.commits {commits:?}"));
    }
    for (key, count) in [
        (
            "allowlist.regexes",
            new(&before.allowlist.regexes, &after.allowlist.regexes).len(),
        ),
        (
            "allowlist.path_regexes",
            new(
                &before.allowlist.path_regexes,
                &after.allowlist.path_regexes,
            )
            .len(),
        ),
        (
            "allowlist.stopwords",
            new(&before.allowlist.stopwords, &after.allowlist.stopwords).len(),
        ),
    ] {
        if count > 0 {
            added.push(format!(
                "{count} {key} entr{}",
                if count == 1 { "y" } else { "ies" }
            ));
        }
    }
    let rules = new(
        &before
            .rules
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>(),
        &after
            .rules
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>(),
    );
    if !rules.is_empty() {
        added.push(format!("rule files {rules:?}"));
    }
    if after.entropy != before.entropy {
        added.push("entropy floors".to_string());
    }
    if after.max_file_size != before.max_file_size {
        added.push("a different max_file_size".to_string());
    }
    added
}
