//! The tree diff of one commit against one parent: the files it added or modified, with their
//! paths. It reports what `gix::diff::tree` reports, in the same order (each directory's
//! entries in tree order, subdirectories breadth first), but skips the entries two versions of a
//! directory share byte for byte. A commit usually changes one entry of a large directory
//! (curl's tests/data holds 1,800 files, git/git's root 500): walking both versions entry by
//! entry was most of the diff time that was not inflating trees; here a memcmp finds the shared
//! prefix and suffix, and only the entries between are compared.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use gix::bstr::{BString, ByteVec};
use gix::objs::tree::EntryMode;
use gix::ObjectId;

use super::chains::ChainReader;

use super::merges::Change;

/// What one diff saw.
#[derive(Default)]
pub(super) struct Seen {
    pub changes: Vec<Change>,
    /// Submodule entries added or changed (not entered).
    pub submodules: u64,
    /// With `record_trees`: the new tree id of each directory the diff saw added or changed.
    pub trees: HashMap<BString, ObjectId>,
}

/// Reused between diffs: the queue of directory pairs and the two tree buffers.
#[derive(Default)]
pub(super) struct TreeDiff {
    queue: VecDeque<(BString, Option<ObjectId>, ObjectId)>,
    old: Vec<u8>,
    new: Vec<u8>,
}

/// One parsed tree entry.
#[derive(Clone, Copy)]
pub(super) struct Entry<'a> {
    pub mode: EntryMode,
    pub name: &'a [u8],
    pub oid: &'a [u8],
    /// Offset just past the entry.
    pub end: usize,
}

impl TreeDiff {
    /// Appends to `seen` what `new` added or modified against `old` (everything, without
    /// `old`).
    pub fn run(
        &mut self,
        repo: &gix::Repository,
        chains: &mut ChainReader,
        old: Option<ObjectId>,
        new: ObjectId,
        record_trees: bool,
        seen: &mut Seen,
    ) -> Result<(), String> {
        let hash_len = repo.object_hash().len_in_bytes();
        self.queue.clear();
        self.queue.push_back((BString::default(), old, new));
        while let Some((directory, old, new)) = self.queue.pop_front() {
            read_tree(repo, chains, new, &mut self.new)?;
            match old {
                Some(old) => read_tree(repo, chains, old, &mut self.old)?,
                None => self.old.clear(),
            }
            compare(
                &self.old,
                &self.new,
                hash_len,
                &directory,
                record_trees,
                seen,
                &mut self.queue,
            )
            .map_err(|()| format!("tree {new} or its parent's cannot be decoded"))?;
        }
        Ok(())
    }
}

/// Reads tree `id` into `buffer`, which then holds exactly its bytes: from the packs through
/// `chains` (which keeps each delta chain's links, see `chains`), else through gix.
pub(super) fn read_tree(
    repo: &gix::Repository,
    chains: &mut ChainReader,
    id: ObjectId,
    buffer: &mut Vec<u8>,
) -> Result<(), String> {
    use gix::objs::Find;
    if id == ObjectId::empty_tree(id.kind()) {
        buffer.clear();
        return Ok(());
    }
    if let Some(tree) = chains.tree(&id) {
        buffer.clear();
        buffer.extend_from_slice(&tree);
        return Ok(());
    }
    let (at, length) = match repo.objects.try_find(&id, buffer) {
        Ok(Some(data)) if data.kind == gix::object::Kind::Tree => {
            (data.data.as_ptr() as usize, data.data.len())
        }
        Ok(Some(data)) => return Err(format!("tree {id} is a {}", data.kind)),
        Ok(None) => return Err(format!("tree {id} cannot be read: it is missing")),
        Err(error) => return Err(format!("tree {id} cannot be read: {error}")),
    };
    if !super::keep_only_decoded(buffer, at, length) {
        return Err(format!(
            "tree {id} cannot be read: its bytes are not where gix put them"
        ));
    }
    Ok(())
}

/// Diffs one directory's two versions, queueing the subdirectory pairs that differ.
fn compare(
    old: &[u8],
    new: &[u8],
    hash_len: usize,
    directory: &BString,
    record_trees: bool,
    seen: &mut Seen,
    queue: &mut VecDeque<(BString, Option<ObjectId>, ObjectId)>,
) -> Result<(), ()> {
    // Entries in the shared byte prefix are equal in both: skip to the entry holding the first
    // difference. Entries in the shared suffix are equal too once both sides stand at an entry
    // start the same distance from their ends.
    let prefix = common_prefix(old, new);
    let mut start = 0;
    while start < new.len() {
        let entry = parse(new, start, hash_len).ok_or(())?;
        if entry.end > prefix {
            break;
        }
        start = entry.end;
    }
    let suffix = common_suffix(&old[start.min(old.len())..], &new[start..]);
    let (mut i, mut j) = (start.min(old.len()), start);
    let mut next_old = None;
    let mut next_new = None;
    loop {
        let (old_rest, new_rest) = (old.len() - i, new.len() - j);
        if old_rest == new_rest && old_rest <= suffix {
            return Ok(());
        }
        if next_old.is_none() && i < old.len() {
            next_old = Some(parse(old, i, hash_len).ok_or(())?);
        }
        if next_new.is_none() && j < new.len() {
            next_new = Some(parse(new, j, hash_len).ok_or(())?);
        }
        match (next_old, next_new) {
            (None, None) => return Ok(()),
            (Some(gone), None) => {
                i = gone.end;
                next_old = None;
            }
            (None, Some(added)) => {
                added_entry(added, directory, record_trees, seen, queue)?;
                j = added.end;
                next_new = None;
            }
            (Some(before), Some(after)) => {
                match gix::objs::tree::name_order(
                    before.name,
                    before.mode.is_tree(),
                    after.name,
                    after.mode.is_tree(),
                ) {
                    Ordering::Less => {
                        i = before.end;
                        next_old = None;
                    }
                    Ordering::Greater => {
                        added_entry(after, directory, record_trees, seen, queue)?;
                        j = after.end;
                        next_new = None;
                    }
                    Ordering::Equal => {
                        same_name(before, after, directory, record_trees, seen, queue)?;
                        i = before.end;
                        j = after.end;
                        next_old = None;
                        next_new = None;
                    }
                }
            }
        }
    }
}

/// An entry only the new version has.
fn added_entry(
    entry: Entry<'_>,
    directory: &BString,
    record_trees: bool,
    seen: &mut Seen,
    queue: &mut VecDeque<(BString, Option<ObjectId>, ObjectId)>,
) -> Result<(), ()> {
    let oid = ObjectId::try_from(entry.oid).map_err(|_| ())?;
    let path = join(directory, entry.name);
    if entry.mode.is_tree() {
        if record_trees {
            seen.trees.insert(path.clone(), oid);
        }
        queue.push_back((path, None, oid));
    } else if entry.mode.is_blob() {
        seen.changes.push(Change {
            path,
            blob: oid,
            mode: entry.mode,
            previous: Vec::new(),
        });
    } else if entry.mode.is_commit() {
        seen.submodules += 1;
    }
    Ok(())
}

/// An entry both versions have by name (and kind, as tree names sort with a `/`).
fn same_name(
    before: Entry<'_>,
    after: Entry<'_>,
    directory: &BString,
    record_trees: bool,
    seen: &mut Seen,
    queue: &mut VecDeque<(BString, Option<ObjectId>, ObjectId)>,
) -> Result<(), ()> {
    match (before.mode.is_tree(), after.mode.is_tree()) {
        (true, true) => {
            if before.oid != after.oid {
                let path = join(directory, after.name);
                let new = ObjectId::try_from(after.oid).map_err(|_| ())?;
                if record_trees {
                    seen.trees.insert(path.clone(), new);
                }
                let old = ObjectId::try_from(before.oid).map_err(|_| ())?;
                queue.push_back((path, Some(old), new));
            }
            Ok(())
        }
        // A file became a directory or the other way round: what the new side holds is new.
        (false, true) | (true, false) => added_entry(after, directory, record_trees, seen, queue),
        (false, false) => {
            if before.oid == after.oid && before.mode == after.mode {
                return Ok(());
            }
            let oid = ObjectId::try_from(after.oid).map_err(|_| ())?;
            if after.mode.is_blob() {
                let previous = if before.mode.is_blob() {
                    vec![ObjectId::try_from(before.oid).map_err(|_| ())?]
                } else {
                    Vec::new()
                };
                seen.changes.push(Change {
                    path: join(directory, after.name),
                    blob: oid,
                    mode: after.mode,
                    previous,
                });
            } else if after.mode.is_commit() {
                seen.submodules += 1;
            }
            Ok(())
        }
    }
}

fn join(directory: &BString, name: &[u8]) -> BString {
    let mut path = BString::from(Vec::with_capacity(directory.len() + 1 + name.len()));
    if !directory.is_empty() {
        path.push_str(directory);
        path.push(b'/');
    }
    path.push_str(name);
    path
}

/// The entry at `at`: `<octal mode> <name>\0<hash>`.
pub(super) fn parse(tree: &[u8], at: usize, hash_len: usize) -> Option<Entry<'_>> {
    let rest = &tree[at..];
    let space = memchr::memchr(b' ', rest)?;
    let mut mode: u32 = 0;
    for &digit in &rest[..space] {
        if !(b'0'..=b'7').contains(&digit) || mode > 0o777_777 {
            return None;
        }
        mode = mode * 8 + u32::from(digit - b'0');
    }
    let mode = EntryMode::try_from(mode).ok()?;
    let name_start = space + 1;
    let nul = name_start + memchr::memchr(0, &rest[name_start..])?;
    let oid_end = nul + 1 + hash_len;
    if oid_end > rest.len() {
        return None;
    }
    Some(Entry {
        mode,
        name: &rest[name_start..nul],
        oid: &rest[nul + 1..oid_end],
        end: at + oid_end,
    })
}

/// Bytes `a` and `b` share at their start, compared a block at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let shorter = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= shorter && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    while at < shorter && a[at] == b[at] {
        at += 1;
    }
    at
}

/// Bytes `a` and `b` share at their end.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let shorter = a.len().min(b.len());
    let (a_end, b_end) = (a.len(), b.len());
    let mut length = 0;
    while length + BLOCK <= shorter
        && a[a_end - length - BLOCK..a_end - length] == b[b_end - length - BLOCK..b_end - length]
    {
        length += BLOCK;
    }
    while length < shorter && a[a_end - length - 1] == b[b_end - length - 1] {
        length += 1;
    }
    length
}
