//! Enumeration: tips from every ref, one revision walk, one tree diff per commit against its
//! first parent (`treediff`, other parents asked only about its changes: `merges`), and the map
//! from each distinct blob to the (path, commit) pairs that introduced it. Commit metadata beyond id, parents, tree and time is not kept here
//! (the message is handed to a callback and dropped): only commits that end up carrying a finding
//! are looked up again, since keeping it for every blob costs hundreds of MiB on large
//! histories (Kingfisher does; see docs/ARCHITECTURE.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use gix::bstr::{BString, ByteSlice};
use gix::hashtable::{HashMap, HashSet};
use gix::ObjectId;

use super::chains::{ChainReader, Packs};
use super::merges::{Change, OtherParent};
use super::treediff::{Seen, TreeDiff};
use super::{HistoryError, HistoryOptions};
use crate::diagnostics::Diagnostics;

/// A commit in the walked set. `generation` is 1 + the largest generation of its parents in
/// the set, so an ancestor always has a smaller one: "earliest in topological order" is the
/// smallest (generation, time).
pub struct CommitNode {
    pub id: ObjectId,
    pub time: i64,
    pub generation: u32,
}

/// One (path, commit) that introduced a blob: the blob is at `path` in `commit`'s tree and was
/// not at that path in any of its parents.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub path: std::sync::Arc<str>,
    pub commit: u32,
    /// The blobs at `path` in the commit's parents (one per parent that had the path), so
    /// attribution can tell a credential this version *introduced* from one it merely kept.
    /// Empty when the path is new in every parent.
    pub previous: Box<[ObjectId]>,
}

pub struct BlobEntry {
    pub id: ObjectId,
    pub appearances: Vec<Appearance>,
}

#[derive(Debug, Default, Clone)]
pub struct HistoryStats {
    pub refs: u64,
    pub commits: u64,
    pub submodules: u64,
    pub shallow: bool,
    /// A partial clone (`--filter=blob:none` and friends): blobs may be missing by design, so
    /// they are counted and reported once instead of warned about one by one.
    pub partial_clone: bool,
    /// Commits whose object or tree could not be read (each warned about): what they introduced
    /// was not scanned.
    pub unread_commits: u64,
    /// The revision walk stopped at an unreadable object: older history was not reached.
    pub walk_stopped: bool,
    /// The walk reached a shallow clone's boundary: older history is not in this clone.
    pub shallow_boundary_reached: bool,
}

pub struct History {
    pub repo: gix::ThreadSafeRepository,
    pub commits: Vec<CommitNode>,
    /// Distinct blobs, grouped by path and in pack order within a path (see `order_for_reading`).
    pub blobs: Vec<BlobEntry>,
    /// Blob ids in HEAD's tree, to tell `present` from `removed`.
    pub head_blobs: HashSet<ObjectId>,
    pub stats: HistoryStats,
    /// No commits at all (a fresh `git init`).
    pub empty: bool,
    /// How the reader admits content (archives, binary strings).
    pub admission: crate::source::AdmissionOptions,
    /// The pack files, opened once for the diffs and the reader threads (see `chains`).
    pub(super) packs: Arc<Packs>,
}

struct RawCommit {
    id: ObjectId,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
}

/// Walks the repository and returns every blob to scan with its introductions. Each walked
/// commit's message goes to `on_message` with the commit's index in `History::commits`, while
/// the walk has the commit in hand (reading 40,000 commits again afterwards cost 0.3 s on
/// curl/curl; keeping the messages would cost memory).
pub fn enumerate(
    options: &HistoryOptions,
    diagnostics: &Diagnostics,
    commits_walked: &AtomicU64,
    on_message: &mut (dyn FnMut(usize, &[u8]) + Send),
) -> Result<History, HistoryError> {
    let mut repo = super::open(&options.repo, options.threads)?;
    repo.object_cache_size(WALK_OBJECT_CACHE);
    let mut stats = HistoryStats {
        partial_clone: is_partial_clone(&repo),
        ..HistoryStats::default()
    };
    let shallow = repo.shallow_commits().ok().flatten();
    if let Some(boundary) = &shallow {
        stats.shallow = true;
        diagnostics.warn(format!(
            "shallow clone: history is truncated at {} commit(s); findings there are attributed \
             to the boundary commit (run `git fetch --unshallow` for the full history)",
            boundary.len()
        ));
    }
    let is_boundary = |id: &ObjectId| {
        shallow
            .as_ref()
            .is_some_and(|ids| ids.binary_search(id).is_ok())
    };

    let (tips, hidden) = match &options.range {
        Some(spec) => range_tips(&repo, spec)?,
        None => (all_tips(&repo, diagnostics, &mut stats), Vec::new()),
    };
    let packs = Arc::new(Packs::open(
        repo.objects.store_ref().path(),
        repo.object_hash(),
    ));
    if tips.is_empty() {
        return Ok(History {
            repo: repo.into_sync(),
            packs,
            commits: Vec::new(),
            blobs: Vec::new(),
            head_blobs: HashSet::default(),
            stats,
            empty: true,
            admission: options.admission,
        });
    }

    // 1. The commits: ids, trees, parents, times.
    let walk = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .all()
        .map_err(|error| HistoryError::Walk {
            source: Box::new(error),
        })?;
    let walk_commits = |on_message: &mut dyn FnMut(usize, &[u8])| {
        read_commits(
            &repo,
            walk,
            options.since,
            &is_boundary,
            &mut stats,
            diagnostics,
            commits_walked,
            on_message,
        )
    };
    let raw = with_message_thread(on_message, walk_commits);
    stats.commits = raw.len() as u64;

    let index_of: HashMap<ObjectId, u32> = raw
        .iter()
        .enumerate()
        .map(|(index, commit)| (commit.id, index as u32))
        .collect();
    let generations = generations(&raw, &index_of);

    // 2. What each commit introduced: tree diffs in parallel, one handle and one reused diff
    //    state per thread, each thread folding its results into the blob list after every run
    //    of commits (holding every commit's changes until the end took 120 MB on git/git).
    let introductions = std::sync::Mutex::new(Introductions::default());
    diff_all(
        &repo,
        &packs,
        &raw,
        &index_of,
        options.threads,
        diagnostics,
        &introductions,
    );
    let Introductions {
        mut blobs,
        blob_index,
        unread_commits,
        submodules,
        ..
    } = introductions
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    stats.unread_commits += unread_commits;
    stats.submodules += submodules;
    // Runs of commits were folded in as they finished, not in walk order; a commit's changes
    // stay together and in diff order, so a stable sort restores walk order.
    for blob in &mut blobs {
        blob.appearances.sort_by_key(|appearance| appearance.commit);
    }
    let mut differ = Differ::new(&packs);

    // 3. HEAD's blobs, for present/removed.
    let mut head_blobs = HashSet::default();
    if let Ok(head_tree) = repo.head_tree_id() {
        if let Ok(all) = differ.introduced(&repo, head_tree.detach(), &[]) {
            head_blobs.extend(all.blobs.into_iter().map(|change| change.blob));
        }
    }

    // 4. Reading order: grouped by path, oldest version first (pack order among equals).
    order_for_reading(&repo, &mut blobs, blob_index, &generations);

    let commits = raw
        .iter()
        .zip(generations)
        .map(|(commit, generation)| CommitNode {
            id: commit.id,
            time: commit.time,
            generation,
        })
        .collect();
    Ok(History {
        repo: repo.into_sync(),
        packs,
        commits,
        blobs,
        head_blobs,
        stats,
        empty: false,
        admission: options.admission,
    })
}

/// Reads each commit the walk yields (id, tree, parents, time), handing its message to
/// `on_message` with the commit's index.
#[allow(clippy::too_many_arguments)]
fn read_commits(
    repo: &gix::Repository,
    walk: gix::revision::Walk<'_>,
    since: Option<i64>,
    is_boundary: &dyn Fn(&ObjectId) -> bool,
    stats: &mut HistoryStats,
    diagnostics: &Diagnostics,
    commits_walked: &AtomicU64,
    on_message: &mut dyn FnMut(usize, &[u8]),
) -> Vec<RawCommit> {
    let mut raw: Vec<RawCommit> = Vec::new();
    for info in walk {
        let info = match info {
            Ok(info) => info,
            Err(error) => {
                diagnostics.warn(format!("history walk stopped early: {error}"));
                stats.walk_stopped = true;
                break;
            }
        };
        let commit = match repo.find_commit(info.id) {
            Ok(commit) => commit,
            Err(error) => {
                diagnostics.warn(format!("commit {}: cannot read: {error}", info.id));
                stats.unread_commits += 1;
                continue;
            }
        };
        let time = commit.time().map(|time| time.seconds).unwrap_or(0);
        if since.is_some_and(|since| time < since) {
            continue;
        }
        let tree = match commit.tree_id() {
            Ok(tree) => tree.detach(),
            Err(error) => {
                diagnostics.warn(format!("commit {}: cannot read its tree: {error}", info.id));
                stats.unread_commits += 1;
                continue;
            }
        };
        let parents = if is_boundary(&info.id) {
            stats.shallow_boundary_reached = true;
            Vec::new()
        } else {
            commit.parent_ids().map(|id| id.detach()).collect()
        };
        raw.push(RawCommit {
            id: info.id,
            tree,
            parents,
            time,
        });
        let message = commit.message_raw_sloppy();
        if !message.is_empty() {
            on_message(raw.len() - 1, message);
        }
        commits_walked.fetch_add(1, Ordering::Relaxed);
    }
    raw
}

/// Commit messages waiting for the scanning thread; the walk blocks when it is this far ahead.
const MESSAGE_QUEUE: usize = 256;

/// Runs `walk`, scanning the messages it hands over on a thread of their own: the revision walk
/// is single-threaded, so the other cores would idle until the diffs start, and scanning
/// messages took a third of the walk on curl/curl and half on trufflehog. Message buffers go
/// back to the walk to be refilled. Where no thread can be started, messages are scanned in
/// line.
fn with_message_thread<R>(
    on_message: &mut (dyn FnMut(usize, &[u8]) + Send),
    walk: impl FnOnce(&mut dyn FnMut(usize, &[u8])) -> R,
) -> R {
    let on_message = std::sync::Mutex::new(on_message);
    let on_message = &on_message;
    std::thread::scope(|scope| {
        let (to_scanner, from_walk) =
            std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(MESSAGE_QUEUE);
        let (to_walk, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        let scanner = std::thread::Builder::new().spawn_scoped(scope, move || {
            let mut on_message = on_message.lock().unwrap_or_else(PoisonError::into_inner);
            for (commit, message) in from_walk {
                on_message(commit, &message);
                // The walk may be done already; the buffer is then simply dropped.
                let _ = to_walk.send(message);
            }
        });
        if scanner.is_err() {
            let mut on_message = on_message.lock().unwrap_or_else(PoisonError::into_inner);
            return walk(&mut |commit, message| on_message(commit, message));
        }
        let result = walk(&mut |commit, message| {
            let mut buffer = recycled.try_recv().unwrap_or_default();
            buffer.clear();
            buffer.extend_from_slice(message);
            // Only fails if the scanner panicked, which the scope then re-raises.
            let _ = to_scanner.send((commit, buffer));
        });
        drop(to_scanner);
        result
    })
}

/// A promisor remote or the partial-clone extension: objects may be missing from this clone.
fn is_partial_clone(repo: &gix::Repository) -> bool {
    let config = repo.config_snapshot();
    if config.string("extensions.partialClone").is_some() {
        return true;
    }
    repo.remote_names().iter().any(|name| {
        config
            .boolean(format!("remote.{name}.promisor").as_str())
            .unwrap_or(false)
    })
}

/// What one commit introduced, plus the entries the diff saw but we do not scan.
struct Introduced {
    blobs: Vec<Change>,
    submodules: u64,
}

/// Every distinct blob the diffs found, with its introductions, built as the diffs finish.
#[derive(Default)]
struct Introductions {
    blobs: Vec<BlobEntry>,
    blob_index: HashMap<ObjectId, u32>,
    /// Each path once, shared by all its appearances.
    paths: std::collections::HashSet<std::sync::Arc<str>>,
    unread_commits: u64,
    submodules: u64,
}

impl Introductions {
    /// Folds in what commit `commit` introduced (`None`: its trees could not be read).
    fn add(&mut self, commit: u32, introduced: Option<Introduced>) {
        let Some(introduced) = introduced else {
            self.unread_commits += 1;
            return;
        };
        self.submodules += introduced.submodules;
        for Change {
            path,
            blob,
            previous,
            ..
        } in introduced.blobs
        {
            let path = path.to_str_lossy();
            let path = match self.paths.get(path.as_ref()) {
                Some(interned) => interned.clone(),
                None => {
                    let interned: std::sync::Arc<str> = path.as_ref().into();
                    self.paths.insert(interned.clone());
                    interned
                }
            };
            let blobs = &mut self.blobs;
            let slot = *self.blob_index.entry(blob).or_insert_with(|| {
                // Most blobs are introduced once: a plain `Vec::new()` would grow to room
                // for four on the first push (160 bytes for 40).
                blobs.push(BlobEntry {
                    id: blob,
                    appearances: Vec::with_capacity(1),
                });
                (blobs.len() - 1) as u32
            });
            self.blobs[slot as usize].appearances.push(Appearance {
                path,
                commit,
                previous: previous.into_boxed_slice(),
            });
        }
    }
}

/// Diffs every commit against its parents on `threads` threads, folding what each introduced
/// into `introductions` (a commit whose trees cannot be read is warned about, naming it, and
/// counted).
fn diff_all(
    repo: &gix::Repository,
    packs: &Arc<Packs>,
    raw: &[RawCommit],
    index_of: &HashMap<ObjectId, u32>,
    threads: usize,
    diagnostics: &Diagnostics,
    introductions: &std::sync::Mutex<Introductions>,
) {
    let sync = repo.clone().into_sync();
    let work = |repo: &gix::Repository, differ: &mut Differ, commit: &RawCommit| {
        let mut parent_trees: Vec<ObjectId> = Vec::with_capacity(commit.parents.len());
        for parent in &commit.parents {
            match index_of.get(parent) {
                Some(&index) => parent_trees.push(raw[index as usize].tree),
                None => match repo
                    .find_commit(*parent)
                    .and_then(|parent| parent.tree_id())
                {
                    Ok(tree) => parent_trees.push(tree.detach()),
                    Err(error) => diagnostics.warn(format!(
                        "commit {}: parent {parent} is missing ({error}); diffing against an \
                         empty tree",
                        commit.id
                    )),
                },
            }
        }
        match differ.introduced(repo, commit.tree, &parent_trees) {
            Ok(introduced) => Some(introduced),
            Err(message) => {
                diagnostics.warn(format!("commit {}: {message}", commit.id));
                None
            }
        }
    };
    let order = newest_first(raw);
    // Each thread keeps one handle and one chain reader (warm caches) for the whole phase, and
    // takes contiguous runs of `order`. rayon's `map_init` made a new handle per split job: on
    // git/git that restarted a cold cache thousands of times and cost a fifth of the diffs.
    let chunk = (order.len() / (threads.max(1) * 16)).clamp(64, 4096);
    let next_chunk = std::sync::atomic::AtomicUsize::new(0);
    let run = || {
        let mut repo = sync.to_thread_local();
        repo.object_cache_size(OBJECT_CACHE_BUDGET);
        let mut differ = Differ::new(packs);
        let mut done: Vec<(u32, Option<Introduced>)> = Vec::new();
        loop {
            let start = next_chunk.fetch_add(1, Ordering::Relaxed) * chunk;
            if start >= order.len() {
                break;
            }
            for &index in &order[start..(start + chunk).min(order.len())] {
                done.push((index, work(&repo, &mut differ, &raw[index as usize])));
            }
            // One lock per run of commits (a few dozen per thread), not per commit.
            let mut introductions = introductions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (index, introduced) in done.drain(..) {
                introductions.add(index, introduced);
            }
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.max(1))
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, run).ok())
            .collect();
        run();
        for helper in helpers {
            if let Err(panic) = helper.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// The order the diff threads take commits in: newest first by commit time (ties in the walk's
/// order). Git deltifies trees newest-as-base and pairs them by path and size, not by branch, so
/// a side branch's trees are deltas against mainline trees of the same weeks: visiting commits
/// in time order keeps those bases in the chain reader's cache. Runs that followed first
/// parents (the order before the chain reader, chosen when gix's delta-base cache did this
/// work) left each merged branch to be diffed long after its bases were evicted, and resolving
/// a tree then re-walked its whole chain. Measured with the same build (one run each, 2
/// threads): git/git's `master` (81,966 commits; 155,787 deltified trees) first-parent runs
/// 6.95 s and 693,038 tree deltas applied, time order 5.73 s and 438,311, the walk's own
/// breadth-first order 10.0 s and 1.89 million; all of git/git's refs 14.1 -> 10.8 s,
/// trufflehog 1.87 -> 1.62 s, curl 2.34 -> 2.25 s, the same findings.
fn newest_first(raw: &[RawCommit]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..raw.len() as u32).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(raw[index as usize].time));
    order
}

/// Each diff thread's cache of resolved trees (see `chains`): consecutive diffs are of commits
/// close in time, so a tree's delta base is usually one just read. (Measured before the time
/// order, with first-parent runs; in paired runs then, 8 MiB was no faster than 4: trufflehog
/// 1.84/1.88 s, curl 2.30/2.31 s, git/git `master` 6.68/6.71 s.) Measured (history, 2 threads, blob
/// cache 4 MiB, two runs each): trufflehog 2 MiB 2.17-2.21 s / 244 MiB peak RSS, 4 MiB
/// 2.21-2.23 s / 245 MiB, 8 MiB 2.26-2.27 s / 245 MiB, 32 MiB 2.27-2.29 s / 271 MiB; curl
/// 2.79-2.89 s / 237 MiB, 2.74-2.77 s / 242 MiB, 2.83-2.85 s / 249 MiB, 3.00 s / 299 MiB; git/git
/// 4 MiB 15.1 s / 735 MiB, 8 MiB 14.9 s / 757 MiB. 4 MiB still keeps a 2 MiB directory
/// (about 50,000 entries).
const TREE_CACHE_BUDGET: usize = 4 * 1024 * 1024;

/// Trees larger than this are left to gix (a directory of 100,000 entries is about 4 MB).
const TREE_SIZE_LIMIT: u64 = 256 * 1024 * 1024;

/// Object cache for trees and commits during the walk and the diffs: none. Measured on a
/// 40,000-commit repacked repository, single-threaded enumeration took 4.68 s with a 32 MiB
/// cache and 4.41 s without (delta-resolved trees are rarely reused before they are evicted),
/// and the cache cost ~55 MiB of peak memory. The chain reader's cache of resolved trees does
/// the useful work; gix reads only what that leaves to it.
const OBJECT_CACHE_BUDGET: usize = 0;

/// Object cache of the walking handle: the revision walk reads each commit, then `read_commits`
/// reads it again for its tree and message, right after. A cache this small keeps the commit
/// between the two: the walk of git/git (203,352 commits) went from 2.94 s to 2.49 s (1 MB: 2.43 s).
const WALK_OBJECT_CACHE: usize = 100 * 1024;

/// Every ref (heads, remotes, tags, stash, notes) and HEAD, peeled to commits.
fn all_tips(
    repo: &gix::Repository,
    diagnostics: &Diagnostics,
    stats: &mut HistoryStats,
) -> Vec<ObjectId> {
    let mut tips = Vec::new();
    match repo.references() {
        Ok(platform) => match platform.all() {
            Ok(references) => {
                for reference in references {
                    let mut reference = match reference {
                        Ok(reference) => reference,
                        Err(error) => {
                            diagnostics.warn(format!("unreadable ref skipped: {error}"));
                            continue;
                        }
                    };
                    stats.refs += 1;
                    match reference.peel_to_id() {
                        Ok(id) => tips.push(id.detach()),
                        Err(error) => diagnostics.warn(format!(
                            "ref {} cannot be resolved: {error}",
                            reference.name().as_bstr()
                        )),
                    }
                }
            }
            Err(error) => diagnostics.warn(format!("cannot list refs: {error}")),
        },
        Err(error) => diagnostics.warn(format!("cannot list refs: {error}")),
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    tips.retain(|id| match repo.find_header(*id) {
        Ok(header) if header.kind() == gix::object::Kind::Commit => true,
        Ok(header) => {
            diagnostics.warn(format!(
                "ref to a {} ({id}) is not scanned: only commits are walked",
                header.kind()
            ));
            false
        }
        Err(error) => {
            diagnostics.warn(format!("ref target {id} is missing: {error}"));
            false
        }
    });
    tips
}

/// `--range`: tips to walk and tips to hide.
pub(super) fn range_tips(
    repo: &gix::Repository,
    spec: &str,
) -> Result<(Vec<ObjectId>, Vec<ObjectId>), HistoryError> {
    let bad = |message: String| HistoryError::BadRange {
        spec: spec.to_string(),
        message,
    };
    let parsed = repo
        .rev_parse(spec)
        .map_err(|error| bad(error.to_string()))?
        .detach();
    use gix::revision::plumbing::Spec;
    Ok(match parsed {
        Spec::Include(id) => (vec![id], Vec::new()),
        Spec::Range { from, to } => (vec![to], vec![from]),
        Spec::Merge { theirs, ours } => {
            let base = repo
                .merge_base(theirs, ours)
                .map_err(|error| bad(error.to_string()))?;
            let hidden = base.map(|base| vec![base.detach()]).unwrap_or_default();
            (vec![theirs, ours], hidden)
        }
        other => {
            return Err(bad(format!(
            "unsupported kind of revision spec ({other:?}); use A..B, A...B or a single revision"
        )))
        }
    })
}

/// Generation numbers: 1 + max over parents in the set (0 for parents outside it), computed
/// iteratively so deep histories cannot overflow the stack.
fn generations(raw: &[RawCommit], index_of: &HashMap<ObjectId, u32>) -> Vec<u32> {
    const UNSET: u32 = 0;
    let mut generation = vec![UNSET; raw.len()];
    let mut stack: Vec<(u32, bool)> = Vec::new();
    for start in 0..raw.len() {
        if generation[start] != UNSET {
            continue;
        }
        stack.push((start as u32, false));
        while let Some((index, parents_done)) = stack.pop() {
            let index_usize = index as usize;
            if generation[index_usize] != UNSET {
                continue;
            }
            let parents = raw[index_usize]
                .parents
                .iter()
                .filter_map(|parent| index_of.get(parent).copied());
            if parents_done {
                let highest = parents
                    .map(|parent| generation[parent as usize])
                    .max()
                    .unwrap_or(0);
                generation[index_usize] = highest + 1;
            } else {
                stack.push((index, true));
                for parent in parents {
                    if generation[parent as usize] == UNSET {
                        stack.push((parent, false));
                    }
                }
            }
        }
    }
    generation
}

/// Reading order. Puts the versions of each file next to each other (each blob under the first
/// path it appeared at). Consecutive versions are each other's delta bases, so the delta-base
/// cache serves almost every read, and the matcher's lazy DFAs meet similar text. Measured on the 40,000-commit synthetic repository: whole history scan 4.35 s
/// in pure pack order, 3.38 s grouped by path (CPU 8.2 s -> 6.2 s), same findings.
///
/// Within a path, versions go oldest first (by the generation of the first commit that
/// introduced each), so each version usually follows its parent version and shares most of its
/// bytes with the blob read just before it (`Versions::previous`): on curl/curl, 79% of all
/// bytes lie in the common prefix or suffix with the blob read before, against 5% in pack
/// order, at the same inflating cost (7.02 s pack order, 7.15 s oldest first, one run each).
///
/// Among the versions of one path with the same generation, pack order (loose objects last):
/// each file's delta chain is then inflated front to back instead of re-walked (4-5x less CPU
/// than hash order; see docs/ARCHITECTURE.md).
///
/// Sorted in place through a permutation of indices: a sort keyed on cloned paths, plus a
/// second list of entries for pack order, was the memory peak of the whole run on git/git
/// (465,000 blobs).
fn order_for_reading(
    repo: &gix::Repository,
    blobs: &mut [BlobEntry],
    blob_index: HashMap<ObjectId, u32>,
    generations: &[u32],
) {
    let rank = pack_ranks(repo, blobs.len(), blob_index);
    arrange(blobs, rank, generations);
}

/// Sorts `blobs` on (first path, smallest generation, `rank`) in place.
fn arrange(blobs: &mut [BlobEntry], rank: Vec<u32>, generations: &[u32]) {
    let first_generation: Vec<Option<u32>> = blobs
        .iter()
        .map(|blob| {
            blob.appearances
                .iter()
                .map(|appearance| generations[appearance.commit as usize])
                .min()
        })
        .collect();
    let first_path = |index: u32| {
        blobs[index as usize]
            .appearances
            .first()
            .map(|appearance| &*appearance.path)
    };
    let mut order: Vec<u32> = (0..blobs.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        first_path(a)
            .cmp(&first_path(b))
            .then(first_generation[a as usize].cmp(&first_generation[b as usize]))
            .then(rank[a as usize].cmp(&rank[b as usize]))
    });
    drop(first_generation);
    // `order[place]` is the blob that goes to `place`; turned around, each blob's place, and
    // each blob moved there cycle by cycle.
    let mut place = rank;
    for (position, &index) in order.iter().enumerate() {
        place[index as usize] = position as u32;
    }
    drop(order);
    for index in 0..blobs.len() {
        while place[index] as usize != index {
            let target = place[index] as usize;
            blobs.swap(index, target);
            place.swap(index, target);
        }
    }
}

/// Each blob's rank in pack order (loose objects after packed ones); blobs the object database
/// does not yield (missing: the reader warns about them) rank last, in list order.
fn pack_ranks(
    repo: &gix::Repository,
    count: usize,
    blob_index: HashMap<ObjectId, u32>,
) -> Vec<u32> {
    use gix::odb::store::iter::Ordering as OdbOrdering;
    const UNPLACED: u32 = u32::MAX;
    let mut rank = vec![UNPLACED; count];
    let mut next_rank = 0;
    if let Ok(iter) = repo.objects.iter() {
        for id in iter
            .with_ordering(OdbOrdering::PackAscendingOffsetThenLooseLexicographical)
            .flatten()
        {
            if let Some(&index) = blob_index.get(&id) {
                if rank[index as usize] == UNPLACED {
                    rank[index as usize] = next_rank;
                    next_rank += 1;
                }
            }
        }
    }
    drop(blob_index);
    for slot in rank.iter_mut().filter(|slot| **slot == UNPLACED) {
        *slot = next_rank;
        next_rank += 1;
    }
    rank
}

/// Tree diffs with reused buffers.
struct Differ {
    tree_diff: TreeDiff,
    seen: Seen,
    other_parent: OtherParent,
    chains: ChainReader,
}

impl Differ {
    fn new(packs: &Arc<Packs>) -> Self {
        Differ {
            tree_diff: TreeDiff::default(),
            seen: Seen::default(),
            other_parent: OtherParent::default(),
            chains: ChainReader::new(Arc::clone(packs), TREE_CACHE_BUDGET, TREE_SIZE_LIMIT),
        }
    }

    /// (path, blob) pairs in `tree` that are new against every parent tree (all of them, for a
    /// root commit). For a merge, the first parent's diff gives the candidates and the other
    /// parents are asked only about those (`merges::OtherParent`).
    fn introduced(
        &mut self,
        repo: &gix::Repository,
        tree: ObjectId,
        parents: &[ObjectId],
    ) -> Result<Introduced, String> {
        let is_merge = parents.len() > 1;
        self.seen.trees.clear();
        self.seen.submodules = 0;
        self.tree_diff.run(
            repo,
            &mut self.chains,
            parents.first().copied(),
            tree,
            is_merge,
            &mut self.seen,
        )?;
        let mut changes = std::mem::take(&mut self.seen.changes);
        if is_merge {
            self.seen.trees.insert(BString::default(), tree);
            for other in &parents[1..] {
                if changes.is_empty() {
                    break;
                }
                self.other_parent.retain_new_against(
                    repo,
                    &mut self.chains,
                    *other,
                    &self.seen.trees,
                    &mut changes,
                )?;
            }
        }
        Ok(Introduced {
            blobs: changes,
            submodules: self.seen.submodules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_take_the_newest_commit_first_and_ties_in_the_walks_order() {
        let commit = |time: i64| RawCommit {
            id: ObjectId::null(gix::hash::Kind::Sha1),
            tree: ObjectId::empty_tree(gix::hash::Kind::Sha1),
            parents: Vec::new(),
            time,
        };
        let raw = [commit(5), commit(9), commit(5), commit(1), commit(7)];
        assert_eq!(newest_first(&raw), vec![1, 4, 0, 2, 3]);
    }

    #[test]
    fn reading_order_is_path_then_generation_then_pack_rank() {
        let id = |n: u8| ObjectId::from_bytes_or_panic(&[n; 20]);
        let blob = |n: u8, appearances: &[(&str, u32)]| BlobEntry {
            id: id(n),
            appearances: appearances
                .iter()
                .map(|&(path, commit)| Appearance {
                    path: path.into(),
                    commit,
                    previous: Box::default(),
                })
                .collect(),
        };
        // Commit index -> generation.
        let generations = [5, 1, 3, 3, 9];
        let mut blobs = vec![
            blob(1, &[("b.txt", 0)]),
            blob(2, &[("a.txt", 2)]),
            blob(3, &[("a.txt", 4), ("z.txt", 1)]),
            blob(4, &[("a.txt", 3)]),
            blob(5, &[("b.txt", 1)]),
            blob(6, &[("a.txt", 0)]),
        ];
        // Pack ranks: breaks the tie between blobs 2 and 4 (both generation 3 at a.txt).
        let rank = vec![0, 5, 2, 1, 4, 3];
        arrange(&mut blobs, rank, &generations);
        let order: Vec<u8> = blobs.iter().map(|blob| blob.id.as_bytes()[0]).collect();
        // a.txt: 4 (gen 3, rank 1), 2 (gen 3, rank 5), 6 (gen 5), 3 (first path a.txt, smallest
        // generation 1 over both its appearances: ahead of them all). Then b.txt: 5 (gen 1), 1.
        assert_eq!(order, vec![3, 4, 2, 6, 5, 1]);
    }
    use gix::bstr::{BStr, ByteSlice, ByteVec};
    use gix::objs::TreeRefIter;
    use gix::prelude::FindExt;
    use std::collections::VecDeque;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    /// gix's own tree diff, which `TreeDiff` must agree with.
    struct GixDiffer {
        state: gix::diff::tree::State,
        left: Vec<u8>,
        right: Vec<u8>,
        recorder: BlobRecorder,
    }

    impl GixDiffer {
        fn new() -> Self {
            GixDiffer {
                state: Default::default(),
                left: Vec::new(),
                right: Vec::new(),
                recorder: BlobRecorder::default(),
            }
        }

        fn diff(
            &mut self,
            repo: &gix::Repository,
            old: Option<ObjectId>,
            new: ObjectId,
            counts: &mut Introduced,
            record_trees: bool,
        ) -> Result<Vec<Change>, String> {
            let kind = new.kind();
            let old_iter = match old {
                Some(old) => repo
                    .objects
                    .find_tree_iter(&old, &mut self.left)
                    .map_err(|error| format!("tree {old} cannot be read: {error}"))?,
                None => TreeRefIter::from_bytes(&[], kind),
            };
            let new_iter = repo
                .objects
                .find_tree_iter(&new, &mut self.right)
                .map_err(|error| format!("tree {new} cannot be read: {error}"))?;
            self.recorder.clear();
            self.recorder.trees.clear();
            self.recorder.record_trees = record_trees;
            gix::diff::tree(
                old_iter,
                new_iter,
                &mut self.state,
                &repo.objects,
                &mut self.recorder,
            )
            .map_err(|error| format!("tree diff failed: {error}"))?;
            counts.submodules = counts.submodules.max(self.recorder.submodules);
            Ok(std::mem::take(&mut self.recorder.blobs))
        }
    }

    /// A diff delegate that keeps only added or modified regular/executable files, tracking the
    /// path the way gix's `Recorder` does.
    #[derive(Default)]
    struct BlobRecorder {
        path_queue: VecDeque<BString>,
        path: BString,
        blobs: Vec<Change>,
        submodules: u64,
        /// Whether to note changed directories in `trees` (for a merge's first diff).
        record_trees: bool,
        /// The new tree id of each directory the diff saw added or changed.
        trees: std::collections::HashMap<BString, ObjectId>,
    }

    impl BlobRecorder {
        fn clear(&mut self) {
            self.path_queue.clear();
            self.path.clear();
            self.blobs.clear();
            self.submodules = 0;
        }

        fn push_element(&mut self, name: &BStr) {
            if name.is_empty() {
                return;
            }
            if !self.path.is_empty() {
                self.path.push(b'/');
            }
            self.path.push_str(name);
        }
    }

    impl gix::diff::tree::Visit for BlobRecorder {
        fn pop_front_tracked_path_and_set_current(&mut self) {
            self.path = self.path_queue.pop_front().unwrap_or_default();
        }

        fn push_back_tracked_path_component(&mut self, component: &BStr) {
            self.push_element(component);
            self.path_queue.push_back(self.path.clone());
        }

        fn push_path_component(&mut self, component: &BStr) {
            self.push_element(component);
        }

        fn pop_path_component(&mut self) {
            match self.path.rfind_byte(b'/') {
                Some(position) => self.path.truncate(position),
                None => self.path.clear(),
            }
        }

        fn visit(
            &mut self,
            change: gix::diff::tree::visit::Change,
        ) -> gix::diff::tree::visit::Action {
            use gix::diff::tree::visit::Change as Seen;
            let (mode, oid, previous) = match change {
                Seen::Addition {
                    entry_mode, oid, ..
                } => (entry_mode, oid, None),
                Seen::Modification {
                    entry_mode,
                    oid,
                    previous_entry_mode,
                    previous_oid,
                } => (
                    entry_mode,
                    oid,
                    previous_entry_mode.is_blob().then_some(previous_oid),
                ),
                Seen::Deletion { .. } => return std::ops::ControlFlow::Continue(()),
            };
            if mode.is_blob() {
                self.blobs.push(Change {
                    path: self.path.clone(),
                    blob: oid,
                    mode,
                    previous: previous.into_iter().collect(),
                });
            } else if mode.is_commit() {
                self.submodules += 1;
            } else if mode.is_tree() && self.record_trees {
                self.trees.insert(self.path.clone(), oid);
            }
            // Symlinks hold a path, not content; trees are walked by the diff itself.
            std::ops::ControlFlow::Continue(())
        }
    }

    /// What a merge introduced by the definition: its diff against every parent, intersected.
    fn introduced_by_full_diffs(
        differ: &mut GixDiffer,
        repo: &gix::Repository,
        tree: ObjectId,
        parents: &[ObjectId],
    ) -> Vec<(BString, ObjectId, Vec<ObjectId>)> {
        let mut counts = Introduced {
            blobs: Vec::new(),
            submodules: 0,
        };
        let mut changes: Vec<(BString, ObjectId, Vec<ObjectId>)> = differ
            .diff(repo, parents.first().copied(), tree, &mut counts, false)
            .unwrap()
            .into_iter()
            .map(|change| (change.path, change.blob, change.previous))
            .collect();
        for other in parents.iter().skip(1) {
            let against_other = differ
                .diff(repo, Some(*other), tree, &mut counts, false)
                .unwrap();
            changes.retain_mut(|(path, blob, previous)| {
                match against_other
                    .iter()
                    .find(|change| change.path == *path && change.blob == *blob)
                {
                    Some(change) => {
                        previous.extend(change.previous.iter().copied());
                        true
                    }
                    None => false,
                }
            });
        }
        changes.sort();
        changes
    }

    fn git(dir: &Path, args: &[&str], input: Option<&[u8]>, index: &Path) -> String {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_INDEX_FILE", index)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("git runs");
        if let Some(input) = input {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "git {args:?} failed");
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    }

    /// Merges of every shape (octopus, a file turned into a directory and back, mode and symlink
    /// changes, contents taken from either side or from neither) give the same introductions,
    /// with the same previous blobs, as full diffs against every parent; and each tree diff is
    /// gix's own, change for change and in the same order.
    #[test]
    fn merge_lookups_agree_with_full_diffs_against_every_parent() {
        let dir: PathBuf = std::env::temp_dir().join(format!(
            "leakhound-merges-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let index = dir.join("scratch-index");
        git(&dir, &["init", "-q"], None, &index);
        let blobs: Vec<String> = (0..4)
            .map(|n| {
                let text = format!("content {n}\n");
                git(
                    &dir,
                    &["hash-object", "-w", "--stdin"],
                    Some(text.as_bytes()),
                    &index,
                )
            })
            .collect();
        // Paths that can be a file in one tree and a directory in another ("a" and "a/b").
        // A directory of 40 files, so most of a diff lies in bytes both versions share, and a
        // submodule entry.
        let many: Vec<String> = (0..40).map(|n| format!("big/f{n:02}")).collect();
        let paths: Vec<&str> = ["a", "a/b", "a/c", "d/e/f", "d/g", "h", "i/j", "sub"]
            .into_iter()
            .chain(many.iter().map(String::as_str))
            .collect();
        let modes = ["100644", "100755", "120000"];
        let mut state: u64 = 0x5eed;
        let mut next = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % bound
        };
        // Each tree takes most entries from its parents, so merges keep files and whole
        // directories from one side or the other, and some from neither.
        let mut commits: Vec<(String, Vec<(&str, String)>)> = Vec::new();
        for round in 0..80 {
            let mut parents: Vec<usize> = Vec::new();
            if !commits.is_empty() {
                for _ in 0..1 + next(3) {
                    let parent = next(commits.len());
                    if !parents.contains(&parent) {
                        parents.push(parent);
                    }
                }
            }
            let _ = std::fs::remove_file(&index);
            let mut entries: Vec<(&str, String)> = Vec::new();
            for &path in &paths {
                let inherited = parents.get(next(3)).and_then(|&parent| {
                    commits[parent]
                        .1
                        .iter()
                        .find(|(other, _)| *other == path)
                        .map(|(_, entry)| entry.clone())
                });
                let entry = match inherited {
                    Some(entry) if next(5) != 0 => entry,
                    _ if next(3) == 0 => continue,
                    _ if path == "sub" => format!("160000,{}", blobs[next(blobs.len())]),
                    _ => format!("{},{}", modes[next(modes.len())], blobs[next(blobs.len())]),
                };
                let clashes = entries.iter().any(|(other, _)| {
                    path.starts_with(&format!("{other}/")) || other.starts_with(&format!("{path}/"))
                });
                if !clashes {
                    entries.push((path, entry));
                }
            }
            let listing: String = entries
                .iter()
                .map(|(path, entry)| {
                    let (mode, oid) = entry.split_once(',').unwrap();
                    format!("{mode} {oid}\t{path}\n")
                })
                .collect();
            git(
                &dir,
                &["update-index", "--index-info"],
                Some(listing.as_bytes()),
                &index,
            );
            let tree = git(&dir, &["write-tree"], None, &index);
            let mut args = vec!["commit-tree".to_string(), tree];
            for &parent in &parents {
                args.push("-p".into());
                args.push(commits[parent].0.clone());
            }
            args.push("-m".into());
            args.push(format!("commit {round}"));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let id = git(&dir, &args, None, &index);
            commits.push((id, entries));
        }

        let repo = gix::open(&dir).unwrap();
        let packs = Arc::new(Packs::open(
            repo.objects.store_ref().path(),
            repo.object_hash(),
        ));
        let mut differ = Differ::new(&packs);
        let mut reference = GixDiffer::new();
        let mut tree_diff = TreeDiff::default();
        let mut chains = ChainReader::new(Arc::clone(&packs), TREE_CACHE_BUDGET, TREE_SIZE_LIMIT);
        let mut merges = 0;
        for (commit, _) in &commits {
            let commit = repo
                .find_commit(ObjectId::from_hex(commit.as_bytes()).unwrap())
                .unwrap();
            let tree = commit.tree_id().unwrap().detach();
            let parents: Vec<ObjectId> = commit
                .parent_ids()
                .map(|parent| {
                    repo.find_commit(parent)
                        .unwrap()
                        .tree_id()
                        .unwrap()
                        .detach()
                })
                .collect();
            merges += usize::from(parents.len() > 1);
            // The tree diff against each parent (and against nothing) is gix's, in gix's order,
            // with the same directories recorded and submodules counted.
            for parent in parents.iter().map(Some).chain([None]) {
                let mut seen = Seen::default();
                tree_diff
                    .run(&repo, &mut chains, parent.copied(), tree, true, &mut seen)
                    .unwrap();
                let mut counts = Introduced {
                    blobs: Vec::new(),
                    submodules: 0,
                };
                let expected = reference
                    .diff(&repo, parent.copied(), tree, &mut counts, true)
                    .unwrap();
                let as_rows = |changes: &[Change]| -> Vec<(BString, ObjectId, u16, Vec<ObjectId>)> {
                    changes
                        .iter()
                        .map(|change| {
                            let mode = change.mode.value();
                            (
                                change.path.clone(),
                                change.blob,
                                mode,
                                change.previous.clone(),
                            )
                        })
                        .collect()
                };
                assert_eq!(as_rows(&seen.changes), as_rows(&expected), "{}", commit.id);
                assert_eq!(seen.trees, reference.recorder.trees, "{}", commit.id);
                assert_eq!(seen.submodules, counts.submodules, "{}", commit.id);
            }
            let mut got: Vec<(BString, ObjectId, Vec<ObjectId>)> = differ
                .introduced(&repo, tree, &parents)
                .unwrap()
                .blobs
                .into_iter()
                .map(|change| (change.path, change.blob, change.previous))
                .collect();
            got.sort();
            let expected = introduced_by_full_diffs(&mut reference, &repo, tree, &parents);
            assert_eq!(got, expected, "commit {}", commit.id);
        }
        assert!(merges >= 20, "only {merges} merges were generated");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
