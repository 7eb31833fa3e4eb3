//! Reading blobs: in parallel (rayon), each thread with its own repository handle (and so its
//! own pack cache) and its own buffer, versions of a file one after another. Oversize and binary
//! blobs are skipped and counted; a missing or corrupt object is a warning naming its id.

use rayon::prelude::*;

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
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(error) => {
            diagnostics.warn(format!(
                "cannot start {threads} threads ({error}); using one"
            ));
            return read_range(
                history,
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

thread_local! {
    static THREAD_REPO: std::cell::RefCell<Option<(usize, gix::Repository)>> =
        const { std::cell::RefCell::new(None) };
}

fn read_range<V: BlobVisitor>(
    history: &History,
    range: std::ops::Range<usize>,
    max_file_size: u64,
    budget: &MemoryBudget,
    diagnostics: &Diagnostics,
    mut visitor: V,
) {
    // One handle per thread, reused across chunks so its pack cache stays warm.
    let key = std::ptr::from_ref(history) as usize;
    THREAD_REPO.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_ref().is_none_or(|(owner, _)| *owner != key) {
            let mut repo = history.repo.to_thread_local();
            repo.object_cache_size(0);
            *slot = Some((key, repo));
        }
        let Some((_, repo)) = slot.as_ref() else {
            return;
        };
        let mut buffer = Vec::new();
        // The last text blob handed to the visitor (kept by swapping buffers, not copying) and
        // its first path: the next blob with the same first path is a later version of it.
        let mut previous_buffer: Vec<u8> = Vec::new();
        let mut previous_len = 0;
        let mut previous_path: Option<&std::sync::Arc<str>> = None;
        // The memory-budget reservation of the blob in `previous_buffer`, if it took one: held
        // (only dropped or replaced) for as long as that buffer is.
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
            let header = match repo.try_find_header(entry.id) {
                Ok(Some(header)) => header,
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
            };
            if header.size() > max_file_size {
                visitor.skipped(SkipReason::Oversize, header.size());
                continue;
            }
            // A thread never waits holding a reservation (two could then wait on each other):
            // when the budget is short, the previous version is let go first, and this version
            // is matched whole.
            let held = match budget.try_reserve(header.size()) {
                Ok(held) => held,
                Err(_full) => {
                    _previous_held = None;
                    previous_buffer = Vec::new();
                    previous_len = 0;
                    follows_earlier = false;
                    budget.reserve(header.size())
                }
            };
            let data = match gix::prelude::FindExt::find_blob(&repo.objects, &entry.id, &mut buffer)
            {
                Ok(blob) => blob.data,
                Err(error) => {
                    diagnostics.warn(format!("blob {}: cannot read: {error}", entry.id));
                    visitor.skipped(SkipReason::Unreadable, 0);
                    continue;
                }
            };
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
                        previous: follows_earlier.then(|| &previous_buffer[..previous_len]),
                        more_follow: more_follow && len <= LARGE_BLOB,
                    },
                },
                &mut visitor,
                &mut |message| diagnostics.warn(format!("blob {}: {message}", entry.id)),
            );
            if archive || kind != crate::source::ContentKind::Text {
                // Archive entries and decoded UTF-16 are matched whole, never as versions.
                continue;
            }
            if len > LARGE_BLOB {
                // Versions of a very large file are matched whole rather than held twice.
                if buffer.capacity() > 2 * LARGE_BLOB {
                    buffer = Vec::new();
                }
                previous_buffer = Vec::new();
                _previous_held = None;
                continue;
            }
            std::mem::swap(&mut buffer, &mut previous_buffer);
            previous_len = len;
            previous_path = first_path;
            _previous_held = held;
            // What the older version occupied is no longer reserved: keep only a small buffer.
            if buffer.capacity() > crate::source::budget::RESERVED_FROM as usize {
                buffer = Vec::new();
            }
        }
    });
}
