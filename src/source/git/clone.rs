//! Remote repositories: a bare mirror of every ref in a cache directory, made or refreshed with
//! the `git` program, then read like any local repository. `git` rather than gix's own transport
//! because it brings what users already configured for their remotes (credential helpers, ssh
//! configuration and agents, proxies, `insteadOf` rewrites) without a second HTTP and TLS stack.
//!
//! Credentials never appear where others can read them: user information in a URL is taken
//! out before `git` sees it (so it is neither in the process list nor in the mirror's stored
//! configuration) and handed over through a credential helper that reads it from this
//! process's environment, as is a token from `LEAKHOUND_GIT_TOKEN`; `git`'s own messages are
//! cleaned of user information before they are shown; `git` never prompts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable holding a token for https remotes (sent as the password, with the
/// user name from the URL or `x-access-token`, which GitHub, GitLab and Gitea accept).
pub const TOKEN_VARIABLE: &str = "LEAKHOUND_GIT_TOKEN";

/// Why a remote repository could not be mirrored.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error("cannot create the clone cache {path}: {source}")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run git: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("git {action} failed: {message}")]
    Git {
        action: &'static str,
        message: String,
    },
}

/// Whether `text` names a remote repository (`scheme://…` or scp-like `user@host:path`) rather
/// than a local path.
pub fn is_remote(text: &str) -> bool {
    text.contains("://")
        || text
            .split_once(':')
            .is_some_and(|(before, _)| before.contains('@') && !before.contains('/'))
}

/// `url` without user information: what reports and messages show.
pub fn without_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{}", &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

/// The (user, password) in a URL's user information, if any.
fn credentials(url: &str) -> (Option<String>, Option<String>) {
    let Some((_, rest)) = url.split_once("://") else {
        return (None, None);
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return (None, None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (Some(user.to_string()), Some(password.to_string())),
        None => (Some(userinfo.to_string()), None),
    }
}

/// Where the mirror of `url` lives in `cache`: readable (host and path) plus a hash, so two
/// URLs never share a directory.
pub fn mirror_path(cache: &Path, url: &str) -> PathBuf {
    let clean = without_credentials(url);
    let readable: String = clean
        .split_once("://")
        .map_or(clean.as_str(), |(_, rest)| rest)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let hash = blake3::hash(clean.as_bytes());
    cache.join(format!("{readable}-{}", &hash.to_hex()[..12]))
}

/// Makes or refreshes the bare mirror of `url` under `cache` and returns its path. An existing
/// mirror is fetched (every ref, pruned), not cloned again.
pub fn mirror(url: &str, cache: &Path) -> Result<PathBuf, CloneError> {
    std::fs::create_dir_all(cache).map_err(|source| CloneError::Cache {
        path: cache.to_path_buf(),
        source,
    })?;
    let target = mirror_path(cache, url);
    let clean = without_credentials(url);
    if target.join("HEAD").is_file() {
        run_git(
            url,
            "fetch",
            Command::new("git")
                .arg("-C")
                .arg(&target)
                .args(["fetch", "--quiet", "--prune", "--no-write-fetch-head"])
                .arg(&clean)
                .arg("+refs/*:refs/*"),
        )?;
        return Ok(target);
    }
    // Cloned next to its final place and renamed, so an interrupted clone never looks complete.
    let partial = target.with_extension("partial");
    let _ = std::fs::remove_dir_all(&partial);
    let cloned = run_git(
        url,
        "clone",
        Command::new("git")
            .args(["clone", "--mirror", "--quiet", "--"])
            .arg(&clean)
            .arg(&partial),
    );
    if let Err(error) = cloned {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &target).map_err(|source| CloneError::Cache {
        path: target.clone(),
        source,
    })?;
    Ok(target)
}

/// Runs `git` with credentials from the URL or the environment supplied by a credential helper
/// that reads them from the environment, never prompting; cleans its messages.
fn run_git(url: &str, action: &'static str, command: &mut Command) -> Result<(), CloneError> {
    let (user, password) = credentials(url);
    let password = password.or_else(|| std::env::var(TOKEN_VARIABLE).ok());
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        supply_credentials(
            command,
            user.as_deref().unwrap_or("x-access-token"),
            &password,
        );
    }
    let output = command.output().map_err(CloneError::Spawn)?;
    if output.status.success() {
        return Ok(());
    }
    let message = String::from_utf8_lossy(&output.stderr);
    let cleaned: Vec<String> = message
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(clean_message_line)
        .collect();
    Err(CloneError::Git {
        action,
        message: crate::diagnostics::sanitize(&cleaned.join("; ")),
    })
}

/// A line of git's output with the user information of any URL in it removed.
fn clean_message_line(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            if word.contains("://") {
                let start = word.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                format!("{}{}", &word[..start], without_credentials(&word[start..]))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Configures, through `GIT_CONFIG_*` variables, a credential helper that answers from this
/// process's environment: configured helpers are reset for the run, and the shell expands the
/// variables, so the values are never command-line arguments.
fn supply_credentials(command: &mut Command, user: &str, password: &str) {
    command
        .env("LEAKHOUND_GIT_USER", user)
        .env("LEAKHOUND_GIT_PASSWORD", password)
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "credential.helper")
        .env("GIT_CONFIG_VALUE_0", "")
        .env("GIT_CONFIG_KEY_1", "credential.helper")
        .env(
            "GIT_CONFIG_VALUE_1",
            "!f() { test \"$1\" = get || exit 0; echo \"username=$LEAKHOUND_GIT_USER\"; \
             echo \"password=$LEAKHOUND_GIT_PASSWORD\"; }; f",
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_and_stored_without_credentials() {
        // Assembled at run time, so this file holds no URL with a password.
        let url = ["https://ada", ":hunter2x@", "git.example.test/org/repo.git"].concat();
        assert_eq!(
            without_credentials(&url),
            "https://git.example.test/org/repo.git"
        );
        assert_eq!(
            credentials(&url),
            (Some("ada".to_string()), Some("hunter2x".to_string()))
        );
        assert_eq!(
            clean_message_line(&format!("fatal: unable to access '{url}': 403")),
            "fatal: unable to access 'https://git.example.test/org/repo.git': 403"
        );
        assert!(is_remote("git@github.com:org/repo.git"));
        assert!(is_remote("file:///srv/repo"));
        assert!(!is_remote("./repos/a:b"));
        let cache = Path::new("/cache");
        assert_eq!(
            mirror_path(cache, &url),
            mirror_path(cache, "https://git.example.test/org/repo.git")
        );
        assert_ne!(
            mirror_path(cache, "https://a.test/x"),
            mirror_path(cache, "https://a.test/y")
        );
    }
}
