//! The staged change (what `git commit` is about to record): the index against HEAD's tree,
//! read with gix. Added files are scanned whole; modified files are scanned whole but only
//! findings on lines the change adds are kept (a line already in HEAD is not this commit's
//! leak). Opened the way a hook needs: honouring GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE
//! (`git commit -a` runs the hook against `.git/index.lock`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use gix::bstr::ByteSlice;

use crate::diagnostics::Diagnostics;

/// One staged file to scan.
pub struct StagedFile {
    pub path: String,
    pub bytes: Vec<u8>,
    /// 1-based line numbers the change adds; `None` when the whole file is new.
    pub added_lines: Option<HashSet<usize>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StagedError {
    #[error("{path}: not a git repository (or any parent up to the file system root)")]
    NotARepository { path: std::path::PathBuf },
    #[error(
        "{path}: a SHA-256 repository (extensions.objectFormat = sha256); leakhound reads SHA-1 \
         repositories only so far. Scan the staged files with `git diff --cached | leakhound \
         scan -` instead"
    )]
    Sha256 { path: std::path::PathBuf },
    #[error("cannot read the index: {message}")]
    Index { message: String },
}

fn not_a_repository(directory: &Path) -> StagedError {
    if super::git::uses_sha256(directory) {
        StagedError::Sha256 {
            path: directory.to_path_buf(),
        }
    } else {
        StagedError::NotARepository {
            path: directory.to_path_buf(),
        }
    }
}

/// The staged files that differ from HEAD, each with the lines it adds.
/// The staged files to scan, and what could not be read (counted so the scan is marked
/// incomplete).
#[derive(Default)]
pub struct Staged {
    pub files: Vec<StagedFile>,
    pub oversize: u64,
    pub unreadable: u64,
}

pub fn staged_files(
    directory: &Path,
    max_file_size: u64,
    diagnostics: &Diagnostics,
) -> Result<Staged, StagedError> {
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(directory)
        .map_err(|_| not_a_repository(directory))?
        .to_thread_local();
    let index = match repo.open_index() {
        Ok(index) => index,
        // A repository where nothing was ever staged has no index file.
        Err(error) if error.is_not_found() => return Ok(Staged::default()),
        Err(error) => {
            return Err(StagedError::Index {
                message: error.to_string(),
            })
        }
    };
    let head_tree = repo
        .head_tree_id_or_empty()
        .map_err(|error| StagedError::Index {
            message: format!("cannot read HEAD: {error}"),
        })?;
    let head = repo
        .index_from_tree(&head_tree)
        .map_err(|error| StagedError::Index {
            message: format!("cannot read HEAD's tree: {error}"),
        })?;
    let mut staged = Staged::default();
    let mut warned_sparse = false;
    for entry in index.entries() {
        if entry
            .flags
            .contains(gix::index::entry::Flags::INTENT_TO_ADD)
        {
            continue;
        }
        let path = entry.path(&index);
        if entry.mode.is_sparse() {
            if !warned_sparse {
                diagnostics.warn("sparse index: entries outside the sparse cone are not scanned");
                warned_sparse = true;
            }
            continue;
        }
        match entry.stage() {
            gix::index::entry::Stage::Unconflicted => {}
            gix::index::entry::Stage::Ours => {
                diagnostics.warn(format!(
                    "{path}: unresolved merge conflict; scanning our side"
                ));
            }
            _ => continue,
        }
        if !(entry.mode.contains(gix::index::entry::Mode::FILE)
            || entry
                .mode
                .contains(gix::index::entry::Mode::FILE_EXECUTABLE))
        {
            continue;
        }
        let previous = head.entry_by_path(path);
        if previous.is_some_and(|previous| previous.id == entry.id) {
            continue;
        }
        let path_text = path.to_str_lossy().into_owned();
        let bytes = match read_blob(&repo, entry.id, max_file_size) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                staged.oversize += 1;
                continue;
            }
            Err(message) => {
                diagnostics.warn(format!("{path_text}: {message}"));
                staged.unreadable += 1;
                continue;
            }
        };
        // An archive's lines are not its entries' lines: every finding in it counts.
        let added_lines = match previous {
            None => None,
            Some(_) if super::archive::is_archive(&bytes) => None,
            Some(previous) => match read_blob(&repo, previous.id, u64::MAX) {
                Ok(Some(old)) => Some(added_line_numbers(&old, &bytes)),
                _ => None,
            },
        };
        staged.files.push(StagedFile {
            path: path_text,
            bytes,
            added_lines,
        });
    }
    Ok(staged)
}

/// A file's committed (HEAD) and staged (index) contents, `None` where it does not exist: the
/// configuration of a pre-commit scan comes from HEAD, so the change under review cannot
/// allowlist its own secret, and a staged change to it is worth a warning.
pub struct CommittedAndStaged {
    pub committed: Option<Vec<u8>>,
    pub staged: Option<Vec<u8>>,
}

/// Reads `path` (relative to the work tree's root) from HEAD and from the index.
pub fn committed_and_staged(
    directory: &Path,
    path: &str,
) -> Result<CommittedAndStaged, StagedError> {
    let repo = gix::ThreadSafeRepository::discover_with_environment_overrides(directory)
        .map_err(|_| not_a_repository(directory))?
        .to_thread_local();
    let committed = match repo.head_tree() {
        Ok(tree) => match tree.lookup_entry_by_path(path) {
            Ok(Some(entry)) => read_blob(&repo, entry.object_id(), u64::MAX)
                .map_err(|message| StagedError::Index { message })?,
            Ok(None) => None,
            Err(error) => {
                return Err(StagedError::Index {
                    message: format!("cannot read HEAD's tree: {error}"),
                })
            }
        },
        // No commit yet: nothing is configured.
        Err(_) => None,
    };
    let staged = match repo.open_index() {
        Ok(index) => match index.entry_by_path(path.into()) {
            Some(entry) => read_blob(&repo, entry.id, u64::MAX)
                .map_err(|message| StagedError::Index { message })?,
            None => None,
        },
        Err(error) if error.is_not_found() => None,
        Err(error) => {
            return Err(StagedError::Index {
                message: error.to_string(),
            })
        }
    };
    Ok(CommittedAndStaged { committed, staged })
}

fn read_blob(
    repo: &gix::Repository,
    id: gix::ObjectId,
    max_file_size: u64,
) -> Result<Option<Vec<u8>>, String> {
    match repo.try_find_header(id) {
        Ok(Some(header)) if header.size() > max_file_size => return Ok(None),
        Ok(Some(_)) => {}
        Ok(None) => return Err(format!("staged blob {id} is missing")),
        Err(error) => return Err(format!("staged blob {id}: {error}")),
    }
    repo.find_blob(id)
        .map(|mut blob| Some(blob.take_data()))
        .map_err(|error| format!("staged blob {id}: {error}"))
}

/// Lines of `new` that `old` does not have (as a multiset: a line present twice in `new` and
/// once in `old` adds one). Moving a line is not adding it.
pub fn added_line_numbers(old: &[u8], new: &[u8]) -> HashSet<usize> {
    let mut remaining: HashMap<&[u8], usize> = HashMap::new();
    for line in old.lines() {
        *remaining.entry(line).or_default() += 1;
    }
    let mut added = HashSet::new();
    for (index, line) in new.lines().enumerate() {
        match remaining.get_mut(line) {
            Some(count) if *count > 0 => *count -= 1,
            _ => {
                added.insert(index + 1);
            }
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::added_line_numbers;

    #[test]
    fn only_new_lines_count_as_added() {
        let old = b"a\nb\nc\n";
        let new = b"a\nsecret\nb\nc\nb\n";
        let added = added_line_numbers(old, new);
        let mut sorted: Vec<usize> = added.into_iter().collect();
        sorted.sort();
        assert_eq!(sorted, vec![2, 5]);
    }
}
