//! Files on disk: a parallel walk with the `ignore` crate (honouring .gitignore and .ignore
//! unless told not to), reading each regular file into a per-thread buffer and handing it to
//! that thread's visitor. Dotfiles are scanned (`.env`, `.npmrc` and `.git-credentials` are
//! where credentials live); `.git` directories never are (history is `leakhound history`'s job).
//! Symlinks are not followed: their targets are scanned under their real path when inside the
//! tree, and a dangling one is reported.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::budget::{MemoryBudget, Reservation};
use super::{BlobMeta, BlobVisitor, SkipReason, BINARY_SNIFF_LEN};
use crate::diagnostics::Diagnostics;
use crate::source::Provenance;

/// Read buffers above this are freed after use rather than kept for the next file: a larger one
/// was read under a memory-budget reservation (`budget::RESERVED_FROM`), which is gone once the
/// file is scanned, so keeping its buffer would hold memory the budget no longer counts.
const KEEP_BUFFER_LIMIT: usize = super::budget::RESERVED_FROM as usize;

pub struct WalkOptions {
    pub roots: Vec<PathBuf>,
    /// Put before every shown path: the scanned directory's place in its repository
    /// (`pkg/api/`), so paths are repository-relative when a subdirectory is scanned.
    pub path_prefix: String,
    pub respect_ignore_files: bool,
    pub threads: usize,
    pub max_file_size: u64,
    pub admission: super::AdmissionOptions,
    /// Shared by the walker threads: large files are read only while it has room.
    pub budget: std::sync::Arc<MemoryBudget>,
}

impl super::Source for WalkOptions {
    fn produce<V, F>(&self, diagnostics: &Diagnostics, make_visitor: F) -> super::Produced
    where
        V: BlobVisitor + Send,
        F: Fn() -> V + Sync,
    {
        let left_out = walk(self, diagnostics, make_visitor);
        super::Produced {
            ignored_files: self.respect_ignore_files.then_some(left_out),
        }
    }
}

/// Walks every root in parallel; `make_visitor` is called once per walker thread. Returns the
/// number of files that ignore rules left out (0 with `--no-ignore`).
pub fn walk<V, F>(options: &WalkOptions, diagnostics: &Diagnostics, make_visitor: F) -> u64
where
    V: BlobVisitor + Send,
    F: Fn() -> V + Sync,
{
    if options.roots.is_empty() {
        return 0;
    }
    let regular_files = AtomicU64::new(0);
    // Ignore rules are for untracked files (git itself tracks a committed `.env` whatever
    // .gitignore says): with one directory root, the walk records what it saw, so tracked files
    // the rules left out can be scanned after it.
    let single_root = match options.roots.as_slice() {
        [root] if options.respect_ignore_files && root.is_dir() => Some(root.as_path()),
        _ => None,
    };
    let seen_paths = std::sync::Mutex::new(Vec::new());
    let record = single_root.map(|root| (root, &seen_paths));
    let left_out = std::thread::scope(|scope| {
        // Counting what the ignore rules leave out needs a second walk that honours none of
        // them. It only reads directories (no stat, no file contents), runs beside the scan on
        // one thread, and is skipped entirely with --no-ignore.
        let everything = options
            .respect_ignore_files
            .then(|| scope.spawn(|| count_regular_files(&options.roots)));
        scan_walk(options, diagnostics, &make_visitor, &regular_files, record);
        let seen = regular_files.load(Ordering::Relaxed);
        everything
            .and_then(|handle| handle.join().ok())
            .map_or(0, |total| total.saturating_sub(seen))
    });
    let Some(root) = single_root.filter(|_| left_out > 0) else {
        return left_out;
    };
    let mut seen = seen_paths
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    seen.sort_unstable();
    let tracked_but_ignored: Vec<PathBuf> = super::git::tracked_files(root)
        .unwrap_or_default()
        .into_iter()
        .filter(|relative| seen.binary_search(&path_key(relative)).is_err())
        .map(|relative| root.join(relative))
        .filter(|path| {
            std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_file())
        })
        .collect();
    if tracked_but_ignored.is_empty() {
        return left_out;
    }
    let tracked = WalkOptions {
        roots: tracked_but_ignored,
        path_prefix: options.path_prefix.clone(),
        respect_ignore_files: false,
        threads: options.threads,
        max_file_size: options.max_file_size,
        admission: options.admission,
        budget: options.budget.clone(),
    };
    let scanned = AtomicU64::new(0);
    let mut display = DisplayPaths::relative_to(root);
    display.prefix = options.path_prefix.clone();
    scan_walk_displayed(
        &tracked,
        display,
        diagnostics,
        &make_visitor,
        &scanned,
        None,
    );
    left_out.saturating_sub(scanned.load(Ordering::Relaxed))
}

/// What the walk records of each file it sees, to find tracked files it did not: a hash of the
/// path relative to the root (no allocation per file; a collision could only hide one tracked,
/// ignored file, with odds of 2^-64).
fn path_key(relative: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    relative.as_os_str().hash(&mut hasher);
    hasher.finish()
}

/// Regular files under `roots` with no ignore rules applied (`.git` still excluded).
fn count_regular_files(roots: &[PathBuf]) -> u64 {
    let Some((first, rest)) = roots.split_first() else {
        return 0;
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .standard_filters(false)
        .follow_links(false)
        .filter_entry(|entry| entry.file_name() != ".git");
    builder
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|kind| kind.is_file()))
        .count() as u64
}

/// Where the walk records the files it saw: the root they are relative to, and the shared list
/// each worker appends its own list to once, when it finishes.
type SeenPaths<'a> = Option<(&'a Path, &'a std::sync::Mutex<Vec<u64>>)>;

fn scan_walk<V, F>(
    options: &WalkOptions,
    diagnostics: &Diagnostics,
    make_visitor: &F,
    regular_files: &AtomicU64,
    record: SeenPaths<'_>,
) where
    V: BlobVisitor + Send,
    F: Fn() -> V + Sync,
{
    let mut display = DisplayPaths::new(&options.roots);
    display.prefix = options.path_prefix.clone();
    scan_walk_displayed(
        options,
        display,
        diagnostics,
        make_visitor,
        regular_files,
        record,
    );
}

fn scan_walk_displayed<V, F>(
    options: &WalkOptions,
    display: DisplayPaths,
    diagnostics: &Diagnostics,
    make_visitor: &F,
    regular_files: &AtomicU64,
    record: SeenPaths<'_>,
) where
    V: BlobVisitor + Send,
    F: Fn() -> V + Sync,
{
    let Some((first, rest)) = options.roots.split_first() else {
        return;
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    builder
        .standard_filters(options.respect_ignore_files)
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git");
    builder.build_parallel().run(|| {
        let mut worker = Worker {
            regular_files,
            seen_here: 0,
            visitor: make_visitor(),
            buffer: Vec::new(),
            admission: super::Admission::new(options.admission),
            path_text: String::new(),
            display: &display,
            diagnostics,
            max_file_size: options.max_file_size,
            archive_cap: options
                .admission
                .archives
                .map(|limits| limits.max_archive_bytes),
            budget: &options.budget,
            record,
            seen_keys: Vec::new(),
        };
        Box::new(move |entry| {
            match entry {
                Ok(entry) => worker.handle(&entry),
                Err(error) => {
                    diagnostics.warn(error);
                    worker.visitor.skipped(SkipReason::Unreadable, 0);
                }
            }
            WalkState::Continue
        })
    });
}

struct Worker<'a, V> {
    /// Shared total of regular files seen, added to once per thread (on drop).
    regular_files: &'a AtomicU64,
    seen_here: u64,
    visitor: V,
    buffer: Vec<u8>,
    admission: super::Admission,
    path_text: String,
    display: &'a DisplayPaths,
    diagnostics: &'a Diagnostics,
    max_file_size: u64,
    /// The read's size allowance for an archive (limited by its entries, not by
    /// `max_file_size`); `None` when archives are not opened.
    archive_cap: Option<u64>,
    budget: &'a MemoryBudget,
    record: SeenPaths<'a>,
    seen_keys: Vec<u64>,
}

enum ReadOutcome {
    /// Text or UTF-16, as the first bytes said.
    Text(super::ContentKind),
    Archive,
    Binary(u64),
    Oversize(u64),
}

impl<V: BlobVisitor> Worker<'_, V> {
    fn handle(&mut self, entry: &ignore::DirEntry) {
        let Some(file_type) = entry.file_type() else {
            return;
        };
        let path = entry.path();
        if file_type.is_symlink() {
            if let Err(error) = std::fs::metadata(path) {
                // ELOOP: the link resolves back to itself, which is not "broken" to the person
                // who has to fix it.
                const ELOOP: i32 = 40;
                let what = if error.raw_os_error() == Some(ELOOP) {
                    "symbolic link loop"
                } else {
                    "broken symbolic link"
                };
                self.diagnostics
                    .warn(format!("{}: {what}, skipped", path.display()));
                self.visitor.skipped(SkipReason::Unreadable, 0);
            }
            return;
        }
        if !file_type.is_file() {
            // Directories are walked; FIFOs, sockets and devices could block or never end.
            return;
        }
        self.seen_here += 1;
        if let Some((root, _)) = self.record {
            if let Ok(relative) = path.strip_prefix(root) {
                self.seen_keys.push(path_key(relative));
            }
        }
        let budget = self.budget;
        match read_file(
            path,
            self.max_file_size,
            self.archive_cap,
            self.admission.reads_binary(),
            &mut self.buffer,
            budget,
        ) {
            Ok((outcome @ (ReadOutcome::Archive | ReadOutcome::Text(_)), _held)) => {
                self.path_text.clear();
                self.display.write(path, entry.depth(), &mut self.path_text);
                let kind = match outcome {
                    ReadOutcome::Text(kind) => Some(kind),
                    _ => None,
                };
                let diagnostics = self.diagnostics;
                self.admission.visit(
                    &self.buffer,
                    kind,
                    BlobMeta {
                        path: &self.path_text,
                        provenance: Provenance::File,
                        versions: Default::default(),
                    },
                    &mut self.visitor,
                    &mut |message| diagnostics.warn(message),
                );
            }
            Ok((ReadOutcome::Binary(size), _)) => self.visitor.skipped(SkipReason::Binary, size),
            Ok((ReadOutcome::Oversize(size), _)) => {
                self.visitor.skipped(SkipReason::Oversize, size);
            }
            Err(error) => {
                self.diagnostics
                    .warn(format!("{}: cannot read: {error}", path.display()));
                self.visitor.skipped(SkipReason::Unreadable, 0);
            }
        }
        if self.buffer.capacity() > KEEP_BUFFER_LIMIT {
            self.buffer = Vec::new();
        }
    }
}

impl<V> Drop for Worker<'_, V> {
    fn drop(&mut self) {
        self.regular_files
            .fetch_add(self.seen_here, Ordering::Relaxed);
        if let Some((_, shared)) = self.record {
            shared
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .append(&mut self.seen_keys);
        }
    }
}

/// Reads a file into `buffer`, looking at its first bytes before reading the rest so large
/// binaries cost one small read. An archive is limited by what it expands to (`archive_cap`, the
/// archive byte budget), not by `max_size`: a 51 MB tarball of small text files is scanned.
/// A large file is read whole only with room in the memory budget; the reservation comes back
/// with the content and is held until the file is scanned.
fn read_file<'b>(
    path: &Path,
    max_size: u64,
    archive_cap: Option<u64>,
    read_binary: bool,
    buffer: &mut Vec<u8>,
    budget: &'b MemoryBudget,
) -> std::io::Result<(ReadOutcome, Option<Reservation<'b>>)> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > max_size && archive_cap.is_none_or(|cap| size > cap) {
        return Ok((ReadOutcome::Oversize(size), None));
    }
    buffer.clear();
    (&mut file)
        .take(BINARY_SNIFF_LEN as u64)
        .read_to_end(buffer)?;
    let archive = archive_cap.is_some() && super::archive::is_archive(buffer);
    if size > max_size && !archive {
        return Ok((ReadOutcome::Oversize(size), None));
    }
    let kind = super::classify(buffer);
    if kind == super::ContentKind::Binary && !archive && !read_binary {
        return Ok((ReadOutcome::Binary(size), None));
    }
    let held = budget.reserve(size);
    // The file may grow while we read it: never read past the limit.
    let limit = match (archive, archive_cap) {
        (true, Some(cap)) => cap.max(max_size),
        _ => max_size,
    };
    buffer.reserve(usize::try_from(size).unwrap_or(0).saturating_add(1));
    let remaining = limit.saturating_sub(buffer.len() as u64).saturating_add(1);
    file.take(remaining).read_to_end(buffer)?;
    if buffer.len() as u64 > limit {
        return Ok((ReadOutcome::Oversize(buffer.len() as u64), None));
    }
    let outcome = if archive {
        ReadOutcome::Archive
    } else {
        ReadOutcome::Text(kind)
    };
    Ok((outcome, held))
}

/// How walked paths are shown: relative to the root when one directory is scanned, as walked
/// (without a leading `./`) otherwise.
struct DisplayPaths {
    single_directory_root: Option<PathBuf>,
    /// `WalkOptions::path_prefix`.
    prefix: String,
    /// Files given as roots but shown relative to this directory (tracked files that ignore
    /// rules left out, scanned after the walk under the names the walk would have given them).
    relative_to: Option<PathBuf>,
}

impl DisplayPaths {
    fn relative_to(root: &Path) -> Self {
        DisplayPaths {
            single_directory_root: None,
            prefix: String::new(),
            relative_to: Some(root.to_path_buf()),
        }
    }

    fn new(roots: &[PathBuf]) -> Self {
        let single_directory_root = match roots {
            [root] if root.is_dir() => Some(root.clone()),
            _ => None,
        };
        DisplayPaths {
            single_directory_root,
            prefix: String::new(),
            relative_to: None,
        }
    }

    fn write(&self, path: &Path, depth: usize, out: &mut String) {
        let relative = match (&self.single_directory_root, &self.relative_to) {
            (_, Some(base)) => path.strip_prefix(base).unwrap_or(path),
            (Some(root), _) if depth > 0 => path.strip_prefix(root).unwrap_or(path),
            _ => path.strip_prefix("./").unwrap_or(path),
        };
        let text = relative.to_string_lossy();
        out.push_str(&self.prefix);
        out.push_str(&text);
    }
}
