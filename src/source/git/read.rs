//! Reading blobs: in parallel (rayon), versions of a file one after another, each thread with
//! its own chain reader (see `chains`: packed blobs with every delta-chain link kept) and a
//! repository handle for whatever that leaves to gix (loose objects, alternates, corrupt data).
//! Oversize and binary blobs are skipped and counted; a missing or corrupt object is a warning
//! naming its id.

use std::rc::Rc;

use rayon::prelude::*;

use super::chains::{ChainReader, Packs};
use super::walk::History;
use crate::diagnostics::Diagnostics;
use crate::source::budget::{MemoryBudget, Reservation};
use crate::source::Provenance;
use crate::source::{Admission, BlobMeta, BlobVisitor, SkipReason};

/// Hands every blob of `history` to a visitor made by `make_visitor` (one per rayon job).
pub fn read_blobs<V, F>(
    history: &History,
    max_file_size: u64,
    threads: usize,
    budget: &MemoryBudget,
    diagnostics: &Diagnostics,
    make_visitor: F,
) where
    V: BlobVisitor,
    F: Fn() -> V + Sync + Send,
{
    let readers = Readers {
        packs: &history.packs,
        size_limit: max_file_size.max(CHAIN_SIZE_FLOOR),
    };
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(error) => {
            diagnostics.warn(format!(
                "cannot start {threads} threads ({error}); using one"
            ));
            return read_range(
                history,
                &readers,
                0..history.blobs.len(),
                max_file_size,
                budget,
                diagnostics,
                make_visitor(),
            );
        }
    };
    pool.install(|| {
        // Contiguous chunks keep each thread on a run of files, version after version. 64 per
        // thread, not 8: with 8 the last chunk left one core idle for the last 0.2 s of
        // trufflehog's 2.5 s (measured from /proc CPU time); with 64, trufflehog and curl ran 4%
        // faster and git/git 2% (a chunk boundary only means one file's next version is read
        // whole).
        let chunk = (history.blobs.len() / (threads * 64)).clamp(16, 4096);
        let starts: Vec<usize> = (0..history.blobs.len()).step_by(chunk).collect();
        starts.par_iter().for_each(|&start| {
            let end = (start + chunk).min(history.blobs.len());
            read_range(
                history,
                &readers,
                start..end,
                max_file_size,
                budget,
                diagnostics,
                make_visitor(),
            );
        });
    });
}

/// Blobs above this are not kept as the previous version of the next one, so a reader thread
/// holds one large blob at a time.
const LARGE_BLOB: usize = 32 * 1024 * 1024;

/// Each reader thread's cache of resolved objects (see `chains`). Small is enough: a version's
/// base is almost always one just resolved. Measured on the history of curl/curl (2 threads,
/// two runs each, tree cache 8 MiB): 4 MiB 2.74-2.81 s and 247 MiB peak RSS, 8 MiB 2.86 s /
/// 262 MiB, 16 MiB 2.76-2.85 s / 290 MiB; trufflehog 2.21-2.32 s / 246 MiB, 2.19-2.21 s /
/// 259 MiB, 2.25-2.27 s / 291 MiB. Before the chain reader: 4.72 s and 2.62 s.
const CHAIN_CACHE_BUDGET: usize = 4 * 1024 * 1024;

/// Intermediate versions in a chain may be larger than `--max-file-size` (a file that grew,
/// then shrank); up to this size they are still resolved here rather than by gix.
const CHAIN_SIZE_FLOOR: u64 = 64 * 1024 * 1024;

/// What every reader thread shares: the opened packs and the size limit.
struct Readers<'a> {
    packs: &'a std::sync::Arc<Packs>,
    size_limit: u64,
}

/// A thread's repository handle (for what the chain reader leaves to gix) and chain reader,
/// kept across chunks so their caches stay warm, with the history they belong to.
struct ThreadReader {
    owner: usize,
    repo: gix::Repository,
    chains: ChainReader,
}

thread_local! {
    static THREAD_READER: std::cell::RefCell<Option<ThreadReader>> =
        const { std::cell::RefCell::new(None) };
}

fn read_range<V: BlobVisitor>(
    history: &History,
    readers: &Readers<'_>,
    range: std::ops::Range<usize>,
    max_file_size: u64,
    budget: &MemoryBudget,
    diagnostics: &Diagnostics,
    mut visitor: V,
) {
    // One reader per thread, reused across chunks so its caches stay warm.
    let key = std::ptr::from_ref(history) as usize;
    THREAD_READER.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_ref().is_none_or(|reader| reader.owner != key) {
            let mut repo = history.repo.to_thread_local();
            repo.object_cache_size(0);
            *slot = Some(ThreadReader {
                owner: key,
                repo,
                chains: ChainReader::new(
                    std::sync::Arc::clone(readers.packs),
                    CHAIN_CACHE_BUDGET,
                    readers.size_limit,
                ),
            });
        }
        let Some(ThreadReader { repo, chains, .. }) = slot.as_mut() else {
            return;
        };
        // gix's buffer, for blobs the chain reader leaves to it; recovered from the previous
        // version when nothing else holds that.
        let mut buffer = Vec::new();
        // The last text blob handed to the visitor and its first path: the next blob with the
        // same first path is a later version of it.
        let mut previous: Option<Rc<Vec<u8>>> = None;
        let mut previous_path: Option<&std::sync::Arc<str>> = None;
        // The memory-budget reservation of the blob in `previous`, if it took one: held (only
        // dropped or replaced) for as long as that is.
        let mut _previous_held: Option<Reservation<'_>> = None;
        let mut admission = Admission::new(history.admission);
        let blobs = &history.blobs[range.clone()];
        for (offset, entry) in blobs.iter().enumerate() {
            let origin = range.start + offset;
            let first_path = entry.appearances.first().map(|appearance| &appearance.path);
            let same_path = |other: Option<&std::sync::Arc<str>>| match (other, first_path) {
                (Some(other), Some(current)) => std::sync::Arc::ptr_eq(other, current),
                _ => false,
            };
            let mut follows_earlier = same_path(previous_path.take());
            let more_follow = same_path(
                blobs
                    .get(offset + 1)
                    .and_then(|next| next.appearances.first())
                    .map(|appearance| &appearance.path),
            );
            let located = chains.locate(&entry.id);
            let size = match located.and_then(|at| chains.size(at)) {
                Some(size) => size,
                None => match repo.try_find_header(entry.id) {
                    Ok(Some(header)) => header.size(),
                    Ok(None) => {
                        if !history.stats.partial_clone {
                            diagnostics.warn(format!(
                                "blob {} is missing from the object database",
                                entry.id
                            ));
                        }
                        visitor.skipped(SkipReason::Missing, 0);
                        continue;
                    }
                    Err(error) => {
                        diagnostics.warn(format!("blob {}: cannot read: {error}", entry.id));
                        visitor.skipped(SkipReason::Unreadable, 0);
                        continue;
                    }
                },
            };
            if size > max_file_size {
                visitor.skipped(SkipReason::Oversize, size);
                continue;
            }
            // A thread never waits holding a reservation (two could then wait on each other):
            // when the budget is short, the previous version is let go first, and this version
            // is matched whole.
            let held = match budget.try_reserve(size) {
                Ok(held) => held,
                Err(_full) => {
                    _previous_held = None;
                    previous = None;
                    follows_earlier = false;
                    budget.reserve(size)
                }
            };
            let current = match located.and_then(|at| chains.blob(at)) {
                Some(resolved) => resolved,
                None => {
                    match gix::prelude::FindExt::find_blob(&repo.objects, &entry.id, &mut buffer) {
                        Ok(blob) => {
                            let (at, length) = (blob.data.as_ptr() as usize, blob.data.len());
                            if !super::keep_only_decoded(&mut buffer, at, length) {
                                diagnostics.warn(format!(
                                    "blob {}: cannot read: its bytes are not where gix put them",
                                    entry.id
                                ));
                                visitor.skipped(SkipReason::Unreadable, 0);
                                continue;
                            }
                            Rc::new(std::mem::take(&mut buffer))
                        }
                        Err(error) => {
                            diagnostics.warn(format!("blob {}: cannot read: {error}", entry.id));
                            visitor.skipped(SkipReason::Unreadable, 0);
                            continue;
                        }
                    }
                }
            };
            let data = current.as_slice();
            let path = entry
                .appearances
                .first()
                .map_or("", |appearance| &appearance.path);
            let archive = admission.opens_archive(data);
            let kind = crate::source::classify(data);
            let len = data.len();
            admission.visit(
                data,
                Some(kind),
                BlobMeta {
                    path,
                    provenance: Provenance::Git { blob: origin },
                    versions: crate::source::Versions {
                        previous: previous
                            .as_deref()
                            .filter(|_| follows_earlier)
                            .map(Vec::as_slice),
                        more_follow: more_follow && len <= LARGE_BLOB,
                    },
                },
                &mut visitor,
                &mut |message| diagnostics.warn(format!("blob {}: {message}", entry.id)),
            );
            if archive || kind != crate::source::ContentKind::Text {
                // Archive entries and decoded UTF-16 are matched whole, never as versions.
                recover(&mut buffer, current);
                continue;
            }
            if len > LARGE_BLOB {
                // Versions of a very large file are matched whole rather than held twice.
                drop(current);
                if let Some(older) = previous.take() {
                    recover(&mut buffer, older);
                }
                if buffer.capacity() > 2 * LARGE_BLOB {
                    buffer = Vec::new();
                }
                _previous_held = None;
                continue;
            }
            if let Some(older) = previous.replace(current) {
                recover(&mut buffer, older);
            }
            previous_path = first_path;
            _previous_held = held;
            // What the older version occupied is no longer reserved: keep only a small buffer.
            if buffer.capacity() > crate::source::budget::RESERVED_FROM as usize {
                buffer = Vec::new();
            }
        }
    });
}

/// Takes back a blob's buffer for gix's next read when nothing else (the chain reader's
/// cache) holds it.
fn recover(buffer: &mut Vec<u8>, blob: Rc<Vec<u8>>) {
    if buffer.capacity() == 0 {
        if let Ok(owned) = Rc::try_unwrap(blob) {
            *buffer = owned;
        }
    }
}
