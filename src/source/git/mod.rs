//! Git history with gix: every blob reachable from every ref (branches, remote branches, tags,
//! the stash, HEAD), each distinct blob read once, versions of a file together, in parallel. For
//! each blob it records every (path, commit) that introduced it, so findings can be attributed to
//! the commit that first introduced a secret. Commits unreachable from any ref (dangling objects,
//! older stash entries kept only in the reflog) are out of scope. This module produces blobs and
//! commit metadata; it never matches.

mod chains;
pub mod clone;
mod merges;
mod read;
mod treediff;
mod walk;

use std::path::{Path, PathBuf};

use gix::ObjectId;

pub use read::read_blobs;
pub use walk::{enumerate, Appearance, BlobEntry, CommitNode, History};

/// Commit metadata shared by every finding of one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    pub email: String,
    /// RFC 3339, UTC.
    pub date: String,
    pub message_first_line: String,
}

/// What to enumerate.
pub struct HistoryOptions {
    pub repo: PathBuf,
    /// `A..B` (or any rev spec naming a range; a single revision means "its ancestry").
    pub range: Option<String>,
    /// Only commits whose commit time is at or after this (seconds since the epoch).
    pub since: Option<i64>,
    pub threads: usize,
    pub max_file_size: u64,
    pub admission: crate::source::AdmissionOptions,
    /// Shared by the reader threads: large blobs are read only while it has room.
    pub budget: std::sync::Arc<crate::source::budget::MemoryBudget>,
}

/// Why history could not be read at all (per-object problems are warnings instead).
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{path}: not a git repository")]
    NotARepository { path: PathBuf },
    #[error(
        "{path}: a SHA-256 repository (extensions.objectFormat = sha256); leakhound reads SHA-1 \
         repositories only so far. Scan its work tree with `leakhound scan` instead"
    )]
    Sha256 { path: PathBuf },
    #[error("{path}: cannot open repository: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid --range {spec:?}: {message}")]
    BadRange { spec: String, message: String },
    #[error("cannot walk history: {source}")]
    Walk {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("revision {revision:?}: {message}")]
    BadRevision { revision: String, message: String },
}

/// Delta-base cache budget of gix's handles, shared by all threads (each thread's handle has
/// its own cache, so the per-handle limit is this divided by the thread count). Since trees
/// and blobs are read through `chains`, this serves only commits and what that leaves to gix
/// (loose objects, alternates); the figures below predate it.
/// Measured on the 40,000-commit synthetic repository (delta chains up to 50 deep), whole
/// history scan, 2 threads: 96 MiB 6.35 s / 267 MB peak RSS, 32 MiB 6.45 s / 184 MB, 16 MiB
/// 6.5 s / 168 MB, 2 MiB 6.45 s / 135 MB. Reading versions of a file one after another, a blob's
/// delta base is almost always the blob just read; the cache's own overhead is roughly its size
/// again, so it is kept small.
const DELTA_CACHE_BUDGET: usize = 16 * 1024 * 1024;

/// Opens a repository in isolation (repo-local config only, no environment, no upward search):
/// reproducible and immune to a hostile global config.
pub fn open(path: &Path, threads: usize) -> Result<gix::Repository, HistoryError> {
    let per_thread = DELTA_CACHE_BUDGET / threads.max(1);
    let options = gix::open::Options::isolated()
        .config_overrides([format!("core.deltaBaseCacheLimit={per_thread}")]);
    gix::open_opts(path, options).map_err(|error| {
        if uses_sha256(path) {
            HistoryError::Sha256 {
                path: path.to_path_buf(),
            }
        } else if error.is_not_found() || !path.join(".git").exists() && !path.join("HEAD").exists()
        {
            HistoryError::NotARepository {
                path: path.to_path_buf(),
            }
        } else {
            HistoryError::Open {
                path: path.to_path_buf(),
                source: Box::new(error),
            }
        }
    })
}

/// The tree of `revision` (any rev spec naming a commit or tree).
fn tree_at_revision<'repo>(
    repo: &'repo gix::Repository,
    revision: &str,
) -> Result<gix::Tree<'repo>, HistoryError> {
    let bad = |message: String| HistoryError::BadRevision {
        revision: revision.to_string(),
        message,
    };
    repo.rev_parse_single(revision)
        .map_err(|error| bad(error.to_string()))?
        .object()
        .map_err(|error| bad(error.to_string()))?
        .peel_to_tree()
        .map_err(|error| bad(error.to_string()))
}

/// The contents of `path` (a repository-relative path with `/`) in the tree of `revision`;
/// `None` when that tree has no such file. Used to read the configuration of a range's base, so
/// a change under review cannot configure its own scan.
pub fn file_at_revision(
    repo_path: &Path,
    revision: &str,
    path: &str,
) -> Result<Option<Vec<u8>>, HistoryError> {
    let repo = open(repo_path, 1)?;
    let bad = |message: String| HistoryError::BadRevision {
        revision: revision.to_string(),
        message,
    };
    let tree = tree_at_revision(&repo, revision)?;
    let Some(entry) = tree
        .lookup_entry_by_path(path)
        .map_err(|error| bad(error.to_string()))?
    else {
        return Ok(None);
    };
    let object = entry.object().map_err(|error| bad(error.to_string()))?;
    if object.kind != gix::object::Kind::Blob {
        return Ok(None);
    }
    Ok(Some(object.detach().data))
}

/// A file read from a tree: its repository-relative path and its contents.
pub type NamedFile = (String, Vec<u8>);

/// The `.toml` files at `path` in the tree of `revision`: the file itself, or the `.toml` files
/// directly in that directory, sorted by name, as (repository-relative path, contents). `None`
/// when the tree has nothing there. Rule files named by a configuration read from a revision
/// are read from that same revision, not from the work tree.
pub fn toml_files_at_revision(
    repo_path: &Path,
    revision: &str,
    path: &str,
) -> Result<Option<Vec<NamedFile>>, HistoryError> {
    let repo = open(repo_path, 1)?;
    let bad = |message: String| HistoryError::BadRevision {
        revision: revision.to_string(),
        message,
    };
    let tree = tree_at_revision(&repo, revision)?;
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let Some(entry) = tree
        .lookup_entry_by_path(path)
        .map_err(|error| bad(error.to_string()))?
    else {
        return Ok(None);
    };
    let object = entry.object().map_err(|error| bad(error.to_string()))?;
    match object.kind {
        gix::object::Kind::Blob => Ok(Some(vec![(path.to_string(), object.detach().data)])),
        gix::object::Kind::Tree => {
            let directory = object.into_tree();
            let mut files = Vec::new();
            for entry in directory.iter() {
                let entry = entry.map_err(|error| bad(error.to_string()))?;
                let name = entry.filename().to_string();
                if !entry.mode().is_blob() || !name.ends_with(".toml") {
                    continue;
                }
                let data = repo
                    .find_object(entry.oid())
                    .map_err(|error| bad(error.to_string()))?
                    .detach()
                    .data;
                files.push((format!("{path}/{name}"), data));
            }
            files.sort();
            Ok(Some(files))
        }
        _ => Ok(None),
    }
}

/// The files git tracks under `dir` (a directory inside a work tree), relative to `dir`;
/// `None` outside a repository or when the index cannot be read.
pub fn tracked_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let repo = gix::discover(dir).ok()?;
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let here = std::fs::canonicalize(dir).ok()?;
    let prefix = here.strip_prefix(&workdir).ok()?.to_path_buf();
    let index = repo.open_index().ok()?;
    let mut files = Vec::new();
    for entry in index.entries() {
        if entry.mode.is_sparse() {
            continue;
        }
        let is_file = entry.mode.contains(gix::index::entry::Mode::FILE)
            || entry
                .mode
                .contains(gix::index::entry::Mode::FILE_EXECUTABLE);
        if !is_file {
            continue;
        }
        let Ok(path) = std::str::from_utf8(entry.path(&index)) else {
            continue;
        };
        if let Ok(relative) = Path::new(path).strip_prefix(&prefix) {
            files.push(relative.to_path_buf());
        }
    }
    Some(files)
}

/// The base and the tip of a range spec, as full hex ids: `A..B` gives (A, B), `A...B` their
/// merge base and B; a single revision has no base.
pub fn range_ends(
    repo_path: &Path,
    spec: &str,
) -> Result<(Option<String>, Option<String>), HistoryError> {
    let repo = open(repo_path, 1)?;
    let (tips, hidden) = walk::range_tips(&repo, spec)?;
    Ok((
        hidden.first().map(ToString::to_string),
        tips.last().map(ToString::to_string),
    ))
}

/// True when the repository at or above `start` declares SHA-256 objects, which the gix build
/// here (SHA-1 only) cannot open: said plainly instead of "configuration could not be loaded".
pub fn uses_sha256(start: &Path) -> bool {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    for directory in start.ancestors() {
        // A work tree's `.git/config`, or a bare repository's own `config` beside its HEAD.
        let bare = directory
            .join("HEAD")
            .is_file()
            .then(|| directory.join("config"));
        for config in std::iter::once(directory.join(".git").join("config")).chain(bare) {
            if let Ok(text) = std::fs::read_to_string(&config) {
                return text.lines().any(|line| {
                    line.trim().to_ascii_lowercase().replace(' ', "") == "objectformat=sha256"
                });
            }
        }
    }
    false
}

/// Author, date and subject of one commit, for the findings attributed to it.
pub fn commit_info(repo: &gix::Repository, id: ObjectId) -> CommitInfo {
    let hex = id.to_string();
    let Ok(commit) = repo.find_commit(id) else {
        return CommitInfo {
            id: hex,
            author: String::new(),
            email: String::new(),
            date: String::new(),
            message_first_line: String::new(),
        };
    };
    let (author, email, date) = match commit.author() {
        Ok(signature) => (
            signature.name.to_string(),
            signature.email.to_string(),
            signature
                .time()
                .map(|time| format_time(time.seconds))
                .unwrap_or_default(),
        ),
        Err(_) => (String::new(), String::new(), String::new()),
    };
    let message_first_line = commit
        .message_raw_sloppy()
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    CommitInfo {
        id: hex,
        author,
        email,
        date,
        message_first_line,
    }
}

/// RFC 3339 in UTC, without pulling in a date crate: civil-from-days (Howard Hinnant).
pub fn format_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Parses `--since`: `YYYY-MM-DD`, RFC 3339, seconds since the epoch, or anything git's date
/// parser understands ("2 weeks ago").
pub fn parse_since(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    gix::date::parse(text, Some(gix::date::Zoned::now()))
        .map(|time| time.seconds)
        .map_err(|error| format!("cannot parse --since {text:?}: {error}"))
}

/// Leaves in `buffer` only the `length` bytes gix decoded at address `at` inside it. gix
/// decodes from the buffer's start (packed and loose objects alike) and may leave more behind;
/// the address is checked anyway so that a change there cannot shift the bytes read.
/// `false` when the bytes are not inside `buffer` at all.
pub(super) fn keep_only_decoded(buffer: &mut Vec<u8>, at: usize, length: usize) -> bool {
    if length == 0 {
        buffer.clear();
        return true;
    }
    let base = buffer.as_ptr() as usize;
    let Some(start) = at.checked_sub(base) else {
        return false;
    };
    if start + length > buffer.len() {
        return false;
    }
    if start != 0 {
        buffer.copy_within(start..start + length, 0);
    }
    buffer.truncate(length);
    true
}

#[cfg(test)]
mod tests {
    use super::{format_time, keep_only_decoded};

    #[test]
    fn formats_epoch_seconds_as_rfc3339_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn only_the_bytes_gix_decoded_are_kept_and_bytes_elsewhere_are_refused() {
        let mut buffer = b"..tree bytes..".to_vec();
        let at = buffer.as_ptr() as usize + 2;
        assert!(keep_only_decoded(&mut buffer, at, 10));
        assert_eq!(buffer, b"tree bytes");
        let elsewhere = b"somewhere else".to_vec();
        assert!(!keep_only_decoded(
            &mut buffer,
            elsewhere.as_ptr() as usize,
            4
        ));
        let end = buffer.as_ptr() as usize + 8;
        assert!(
            !keep_only_decoded(&mut buffer, end, 4),
            "runs past the buffer's end"
        );
        assert!(keep_only_decoded(&mut buffer, 0, 0));
        assert!(buffer.is_empty());
    }
}
