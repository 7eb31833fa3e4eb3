//! Blobs read straight from the pack files, with every link of a delta chain kept.
//!
//! History is read a file's versions oldest first (novelty scanning needs each version's
//! predecessor), but git deltifies the other way: the newest version is stored whole and each
//! older one as a delta against a newer one, in chains up to 50 deep. gix's decoder caches only
//! the object asked for, so every older version resolved its whole chain again, inflating and
//! copying each newer version on the way: on curl/curl that made the reading phase spend more
//! CPU time than `git cat-file` needs for the whole repository. Here each object a chain
//! resolution produces is kept (by pack and offset, least recently used first out, within a
//! byte budget), and those are exactly the newer versions read next. Objects are handed out
//! shared (`Rc`), where they were decompressed, not copied into the caller's buffer.
//!
//! Anything this reader does not handle (loose objects, objects in alternates, a base in
//! another pack, corrupt data, sizes above the limit) is left to gix: `blob` returns `None` and
//! the caller reads the object the usual way, with gix's own error messages.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use gix::odb::pack::{self, data::entry::Header};

/// The pack bundles (index + data) of one repository's object directory, opened once and shared
/// by the reader threads.
pub(super) struct Packs {
    bundles: Vec<pack::Bundle>,
    /// Compressed pack bytes read by all chain readers, for `release_pages`.
    read: std::sync::atomic::AtomicU64,
}

/// The mapped pages of the packs are released after every this many bytes read from them.
/// Measured on git/git's history (2 threads, peak RSS, two runs each): never 730 MiB in
/// 14.3-14.7 s, every 64 MiB 582-589 MiB in 14.5-14.9 s, every 16 MiB 489-491 MiB in
/// 14.9-15.1 s; curl 239 -> 175 MiB and trufflehog 238 -> 229 MiB at the same speed. A read
/// maps more than it reads (the kernel maps the neighbouring cached pages too), so the mapped
/// part grows faster than the count.
const RELEASE_EVERY: u64 = 16 * 1024 * 1024;

impl Packs {
    /// Every `objects/pack/*.idx` that opens with its pack. One that does not is skipped: gix
    /// still reads (and reports) its objects.
    pub(super) fn open(objects: &Path, object_hash: gix::hash::Kind) -> Packs {
        let mut indices: Vec<std::path::PathBuf> = std::fs::read_dir(objects.join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "idx"))
            .collect();
        indices.sort();
        let bundles = indices
            .iter()
            .filter_map(|index| pack::Bundle::at(index, object_hash).ok())
            .collect();
        Packs {
            bundles,
            read: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Counts `bytes` read from the packs and releases their mapped pages each time the count
    /// passes a multiple of `RELEASE_EVERY`.
    fn count_read(&self, bytes: u64) {
        let before = self
            .read
            .fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        if before / RELEASE_EVERY != (before + bytes) / RELEASE_EVERY {
            self.release_pages();
        }
    }

    /// Drops this process's mappings of the pack pages read so far (the kernel keeps them in
    /// its page cache, and a later read maps them again from there). A mapped page counts in
    /// the process's resident memory until it is unmapped: without this, a history scan's RSS
    /// grew by the size of every pack it read (git/git: 524 of 731 MiB), which is what users and
    /// memory limits that watch RSS see.
    #[cfg(target_os = "linux")]
    fn release_pages(&self) {
        for bundle in &self.bundles {
            let file = &bundle.pack;
            let Some(mapped) = file.entry_slice(0..file.data_len() as u64) else {
                continue;
            };
            // SAFETY: `mapped` is the whole of gix's read-only shared mapping of the pack file
            // (`Bundle::at` maps it; the mapping starts on a page boundary). MADV_DONTNEED on a
            // file mapping only removes page-table entries: the next access faults the same
            // bytes back in from the page cache, so every slice into it stays valid and keeps
            // its contents. It never fails in a way that matters (an error leaves the pages).
            unsafe {
                libc::madvise(
                    mapped.as_ptr().cast_mut().cast::<libc::c_void>(),
                    mapped.len(),
                    libc::MADV_DONTNEED,
                );
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn release_pages(&self) {}

    /// Which pack holds `id`, and where in it.
    fn locate(&self, id: &gix::oid) -> Option<(u32, u64)> {
        self.bundles.iter().enumerate().find_map(|(pack, bundle)| {
            let entry = bundle.index.lookup(id)?;
            Some((pack as u32, bundle.index.pack_offset_at_index(entry)))
        })
    }
}

/// An object's place in the packs.
#[derive(Clone, Copy)]
pub(super) struct Located {
    pack: u32,
    offset: u64,
}

/// Deepest chain followed before giving up (git's own default depth is 50; `--depth` allows
/// 4095): a longer one means a cycle in corrupt data.
const MAX_CHAIN: usize = 10_000;

/// One thread's reader: its inflater, buffers and cache of resolved objects.
pub(super) struct ChainReader {
    packs: std::sync::Arc<Packs>,
    resolved: Resolved,
    inflate: gix::zlib::Inflate,
    delta: Vec<u8>,
    chain: Vec<pack::data::Entry>,
    /// Largest object or delta this reader resolves; beyond it, gix reads the object.
    size_limit: u64,
    /// Pack bytes read and not yet added to the shared count (one atomic add per MiB, not per
    /// object).
    unreported: u64,
}

/// How much a reader reads before it adds that to the shared count.
const REPORT_EVERY: u64 = 1024 * 1024;

impl ChainReader {
    pub(super) fn new(packs: std::sync::Arc<Packs>, cache_budget: usize, size_limit: u64) -> Self {
        ChainReader {
            packs,
            resolved: Resolved::new(cache_budget),
            inflate: gix::zlib::Inflate::default(),
            delta: Vec::new(),
            chain: Vec::new(),
            size_limit,
            unreported: 0,
        }
    }

    /// Where `id` is stored, if in one of the packs.
    pub(super) fn locate(&self, id: &gix::oid) -> Option<Located> {
        self.packs
            .locate(id)
            .map(|(pack, offset)| Located { pack, offset })
    }

    /// The size of the object at `at`, read from its entry (for a delta, from the start of the
    /// delta's data) without resolving it; `None` when gix should tell.
    pub(super) fn size(&mut self, at: Located) -> Option<u64> {
        if let Some(known) = self.resolved.peek(at.pack, at.offset) {
            return Some(known.len() as u64);
        }
        let file = &self.packs.bundles.get(at.pack as usize)?.pack;
        let entry = file.entry(at.offset).ok()?;
        if !entry.header.is_delta() {
            return Some(entry.decompressed_size);
        }
        let compressed = file.entry_slice(entry.data_offset..file.pack_end() as u64)?;
        // Two varints of at most 10 bytes each.
        let mut head = [0u8; 20];
        self.inflate.reset();
        let (_, _, written) = self.inflate.prefix(compressed, &mut head).ok()?;
        delta_result_size(&head[..written])
    }

    /// The blob at `at`, or `None` when gix should read it (see the module docs).
    pub(super) fn blob(&mut self, at: Located) -> Option<Rc<Vec<u8>>> {
        self.resolve(at.pack, at.offset, gix::object::Kind::Blob)
    }

    /// The tree `id`, or `None` when gix should read it.
    pub(super) fn tree(&mut self, id: &gix::oid) -> Option<Rc<Vec<u8>>> {
        let (pack, offset) = self.packs.locate(id)?;
        self.resolve(pack, offset, gix::object::Kind::Tree)
    }

    fn resolve(
        &mut self,
        pack: u32,
        offset: u64,
        wanted: gix::object::Kind,
    ) -> Option<Rc<Vec<u8>>> {
        // Borrowed field by field, so the packs are not cloned (a shared atomic count) per object.
        let ChainReader {
            packs,
            resolved,
            inflate,
            delta,
            chain,
            size_limit,
            unreported,
        } = self;
        let bundle = packs.bundles.get(pack as usize)?;
        let file = &bundle.pack;
        let mut count_read = |bytes: usize| {
            *unreported += bytes as u64;
            if *unreported >= REPORT_EVERY {
                packs.count_read(std::mem::take(unreported));
            }
        };
        chain.clear();
        let mut cursor = offset;
        // Down the chain to an object already resolved or stored whole.
        let (mut base, kind) = loop {
            if let Some(found) = resolved.get(pack, cursor) {
                break found;
            }
            let entry = file.entry(cursor).ok()?;
            if entry.decompressed_size > *size_limit || chain.len() >= MAX_CHAIN {
                return None;
            }
            match entry.header {
                Header::OfsDelta { base_distance } => {
                    cursor = entry.checked_base_pack_offset(base_distance)?;
                    chain.push(entry);
                }
                Header::RefDelta { base_id } => {
                    let index = bundle.index.lookup(base_id)?;
                    cursor = bundle.index.pack_offset_at_index(index);
                    chain.push(entry);
                }
                header => {
                    let kind = header.as_kind()?;
                    let size = usize::try_from(entry.decompressed_size).ok()?;
                    resolved.make_room(size);
                    let mut whole = resolved.spare(size);
                    whole.resize(size, 0);
                    count_read(file.decompress_entry(&entry, inflate, &mut whole).ok()?);
                    break (resolved.insert(pack, cursor, kind, whole), kind);
                }
            }
        };
        if kind != wanted {
            return None;
        }
        // Back up the chain, keeping every version made on the way.
        while let Some(entry) = chain.pop() {
            delta.clear();
            delta.resize(entry.decompressed_size as usize, 0);
            count_read(file.decompress_entry(&entry, inflate, delta).ok()?);
            let result_size = delta_result_size(delta)?;
            if result_size > *size_limit {
                return None;
            }
            resolved.make_room(result_size as usize);
            let mut target = resolved.spare(result_size as usize);
            apply_delta(&base, delta, &mut target)?;
            base = resolved.insert(pack, entry.pack_offset(), kind, target);
        }
        Some(base)
    }
}

/// A varint of a delta's header (7 bits a byte, least significant first) and where it ends.
fn delta_varint(delta: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *delta.get(at)?;
        at += 1;
        if shift >= 64 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
}

/// The size of the object a delta produces (its header's second number).
fn delta_result_size(delta: &[u8]) -> Option<u64> {
    let (_, at) = delta_varint(delta, 0)?;
    delta_varint(delta, at).map(|(size, _)| size)
}

/// Applies a git delta to `base`, into `target` (cleared first), as git's pack format
/// documents it ("Deltified representation" in gitformat-pack): the base's size and the
/// result's size, then instructions that either copy a range of the base (high bit set; bits
/// 0-3 say which offset bytes follow, bits 4-6 which size bytes, a size of 0 meaning 0x10000)
/// or insert the next 1-127 bytes of the delta. `None` for anything that does not add up:
/// the pack is corrupt, and gix reads (and reports) the object instead.
fn apply_delta(base: &[u8], delta: &[u8], target: &mut Vec<u8>) -> Option<()> {
    let (base_size, at) = delta_varint(delta, 0)?;
    let (result_size, mut at) = delta_varint(delta, at)?;
    if base_size != base.len() as u64 {
        return None;
    }
    let result_size = usize::try_from(result_size).ok()?;
    target.clear();
    target.reserve_exact(result_size);
    while let Some(&instruction) = delta.get(at) {
        at += 1;
        if instruction & 0x80 != 0 {
            let mut offset = 0usize;
            for byte in 0..4 {
                if instruction & (1 << byte) != 0 {
                    offset |= usize::from(*delta.get(at)?) << (8 * byte);
                    at += 1;
                }
            }
            let mut size = 0usize;
            for byte in 0..3 {
                if instruction & (0x10 << byte) != 0 {
                    size |= usize::from(*delta.get(at)?) << (8 * byte);
                    at += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            target.extend_from_slice(base.get(offset..offset.checked_add(size)?)?);
        } else if instruction != 0 {
            let end = at + usize::from(instruction);
            target.extend_from_slice(delta.get(at..end)?);
            at = end;
        } else {
            // Instruction 0 is reserved.
            return None;
        }
        if target.len() > result_size {
            return None;
        }
    }
    (target.len() == result_size).then_some(())
}

/// Resolved objects by (pack, offset), least recently used evicted first, counted by the
/// capacity they hold. The age order is a doubly linked list through a slab of slots, so a hit
/// or an insertion moves one slot; evicted buffers nobody else holds are kept by size class
/// (within half the budget) for the next objects, so a warm thread rarely allocates. A
/// `BTreeMap` by age and a `SipHash` map here had cost 7.7% of trufflehog's history CPU, the
/// allocator another 5%.
struct Resolved {
    index: HashMap<(u32, u64), u32, crate::hashing::BuildMixHasher>,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Most and least recently used slots (`NONE` when empty).
    newest: u32,
    oldest: u32,
    held: usize,
    budget: usize,
    /// Spare buffers by size class (the bit length of their capacity).
    spares: Vec<Vec<Vec<u8>>>,
    spare_bytes: usize,
}

struct Slot {
    key: (u32, u64),
    /// `None` once the slot is free.
    data: Option<Rc<Vec<u8>>>,
    kind: gix::object::Kind,
    newer: u32,
    older: u32,
}

const NONE: u32 = u32::MAX;

fn size_class(size: usize) -> usize {
    (usize::BITS - size.leading_zeros()) as usize
}

impl Resolved {
    fn new(budget: usize) -> Self {
        Resolved {
            index: HashMap::default(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            newest: NONE,
            oldest: NONE,
            held: 0,
            budget,
            spares: Vec::new(),
            spare_bytes: 0,
        }
    }

    /// The object at (pack, offset) if kept, without counting it as used.
    fn peek(&self, pack: u32, offset: u64) -> Option<&Rc<Vec<u8>>> {
        let slot = *self.index.get(&(pack, offset))?;
        self.slots[slot as usize].data.as_ref()
    }

    fn get(&mut self, pack: u32, offset: u64) -> Option<(Rc<Vec<u8>>, gix::object::Kind)> {
        let slot = *self.index.get(&(pack, offset))?;
        self.unlink(slot);
        self.link_newest(slot);
        let kept = &self.slots[slot as usize];
        Some((Rc::clone(kept.data.as_ref()?), kept.kind))
    }

    /// Keeps `data` (unless it alone is over half the budget) and hands it back shared.
    fn insert(
        &mut self,
        pack: u32,
        offset: u64,
        kind: gix::object::Kind,
        data: Vec<u8>,
    ) -> Rc<Vec<u8>> {
        let data = Rc::new(data);
        let size = data.capacity();
        if size > self.budget / 2 {
            return data;
        }
        if let Some(&slot) = self.index.get(&(pack, offset)) {
            // Resolved again (it had been handed out as too large, or a chain was re-walked).
            self.unlink(slot);
            self.index.remove(&(pack, offset));
            if let Some(replaced) = self.free_slot(slot) {
                self.held -= replaced.capacity();
            }
        }
        self.make_room(size);
        let fresh = Slot {
            key: (pack, offset),
            data: Some(Rc::clone(&data)),
            kind,
            newer: NONE,
            older: NONE,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = fresh;
                slot
            }
            None => {
                self.slots.push(fresh);
                (self.slots.len() - 1) as u32
            }
        };
        self.link_newest(slot);
        self.index.insert((pack, offset), slot);
        self.held += size;
        data
    }

    /// Evicts the least recently used until `size` more bytes fit, keeping their buffers as
    /// spares where nobody else holds them. An object over half the budget is never kept, so
    /// it makes no room.
    fn make_room(&mut self, size: usize) {
        if size > self.budget / 2 {
            return;
        }
        while self.held + size > self.budget && self.oldest != NONE {
            let slot = self.oldest;
            self.unlink(slot);
            let key = self.slots[slot as usize].key;
            self.index.remove(&key);
            let Some(data) = self.free_slot(slot) else {
                continue;
            };
            self.held -= data.capacity();
            if let Ok(buffer) = Rc::try_unwrap(data) {
                self.keep_spare(buffer);
            }
        }
    }

    /// Empties a slot for reuse and returns what it held.
    fn free_slot(&mut self, slot: u32) -> Option<Rc<Vec<u8>>> {
        self.free_slots.push(slot);
        self.slots[slot as usize].data.take()
    }

    fn keep_spare(&mut self, buffer: Vec<u8>) {
        let capacity = buffer.capacity();
        if capacity == 0 || self.spare_bytes + capacity > self.budget / 2 {
            return;
        }
        let class = size_class(capacity);
        if self.spares.len() <= class {
            self.spares.resize_with(class + 1, Vec::new);
        }
        self.spare_bytes += capacity;
        self.spares[class].push(buffer);
    }

    /// An empty buffer for an object of `size` bytes: a spare of its size class that holds it,
    /// or of the next class (at most four times the size), or a new one.
    fn spare(&mut self, size: usize) -> Vec<u8> {
        let class = size_class(size);
        for candidate in [class, class + 1] {
            let Some(pool) = self.spares.get_mut(candidate) else {
                break;
            };
            if let Some(position) = pool.iter().position(|spare| spare.capacity() >= size) {
                let mut buffer = pool.swap_remove(position);
                self.spare_bytes -= buffer.capacity();
                buffer.clear();
                return buffer;
            }
        }
        Vec::with_capacity(size)
    }

    #[cfg(test)]
    fn spare_count(&self) -> usize {
        self.spares.iter().map(Vec::len).sum()
    }

    fn unlink(&mut self, slot: u32) {
        let (newer, older) = {
            let links = &self.slots[slot as usize];
            (links.newer, links.older)
        };
        match newer {
            NONE => self.newest = older,
            newer => self.slots[newer as usize].older = older,
        }
        match older {
            NONE => self.oldest = newer,
            older => self.slots[older as usize].newer = newer,
        }
    }

    fn link_newest(&mut self, slot: u32) {
        let previous = self.newest;
        {
            let links = &mut self.slots[slot as usize];
            links.newer = NONE;
            links.older = previous;
        }
        match previous {
            NONE => self.oldest = slot,
            previous => self.slots[previous as usize].newer = slot,
        }
        self.newest = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta as git writes one: sizes, then instructions.
    fn varint(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    #[test]
    fn deltas_copy_and_insert_as_the_pack_format_says_and_refuse_what_does_not_add_up() {
        let base = b"the quick brown fox jumps over the lazy dog";
        let mut delta = Vec::new();
        varint(base.len(), &mut delta);
        varint(23, &mut delta);
        // Copy 10 bytes from offset 4 ("quick brow"), one offset byte and one size byte.
        delta.extend_from_slice(&[0x80 | 0x01 | 0x10, 4, 10]);
        // Insert "n cat"... then copy "jumps" (offset 20, size 5) and insert "!".
        delta.push(5);
        delta.extend_from_slice(b"n cat");
        delta.extend_from_slice(&[0x80 | 0x01 | 0x10, 20, 5]);
        delta.extend_from_slice(&[1, b'!']);
        let mut target = Vec::new();
        assert_eq!(
            apply_delta(base, &delta, &mut target),
            None,
            "sizes 21 != 23"
        );
        delta[1] = 21;
        assert_eq!(apply_delta(base, &delta, &mut target), Some(()));
        assert_eq!(target, b"quick brown catjumps!");
        assert_eq!(delta_result_size(&delta), Some(21));

        // A copy past the base's end, a truncated instruction, the reserved 0, a wrong base
        // size: each refused, none panics.
        let mut past_end = delta[..2].to_vec();
        past_end.extend_from_slice(&[0x80 | 0x01 | 0x10, 40, 21]);
        assert_eq!(apply_delta(base, &past_end, &mut target), None);
        let mut truncated = delta[..2].to_vec();
        truncated.extend_from_slice(&[0x80 | 0x01 | 0x02]);
        assert_eq!(apply_delta(base, &truncated, &mut target), None);
        let mut reserved = delta[..2].to_vec();
        reserved.push(0);
        assert_eq!(apply_delta(base, &reserved, &mut target), None);
        assert_eq!(apply_delta(&base[1..], &delta, &mut target), None);
        // A copy with no size bytes copies 0x10000 bytes.
        let big = vec![7u8; 0x10000];
        let mut whole = Vec::new();
        varint(big.len(), &mut whole);
        varint(big.len(), &mut whole);
        whole.push(0x80);
        assert_eq!(apply_delta(&big, &whole, &mut target), Some(()));
        assert_eq!(target.len(), 0x10000);
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn released_pages_read_back_the_same_bytes_and_each_version_resolves_through_its_chain() {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        // Ten versions of one file, each a small edit of the last: packed as a delta chain.
        let mut ids = Vec::new();
        let mut text: Vec<String> = (0..400)
            .map(|line| format!("line {line} of the file\n"))
            .collect();
        for version in 0..10 {
            text[version * 37] = format!("version {version} changed this line\n");
            std::fs::write(dir.path().join("notes.txt"), text.concat()).unwrap();
            git(dir.path(), &["add", "notes.txt"]);
            git(dir.path(), &["commit", "-q", "-m", "edit"]);
            ids.push((
                git(dir.path(), &["rev-parse", "HEAD:notes.txt"]),
                text.concat(),
            ));
        }
        git(
            dir.path(),
            &["repack", "-adfq", "--depth=50", "--window=50"],
        );
        let pack = std::fs::read_dir(dir.path().join(".git/objects/pack"))
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| path.extension().is_some_and(|extension| extension == "idx"))
            .unwrap();
        let listing = git(dir.path(), &["verify-pack", "-v", pack.to_str().unwrap()]);
        // `verify-pack -v` gives a delta seven fields: id, type, sizes, offset, depth, base.
        let deltified = ids
            .iter()
            .filter(|(id, _)| {
                listing.lines().any(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    fields.len() == 7 && fields[0] == id.trim()
                })
            })
            .count();
        assert!(
            deltified >= 5,
            "versions stored as deltas: {deltified}\n{listing}"
        );
        let packs = std::sync::Arc::new(Packs::open(
            &dir.path().join(".git/objects"),
            gix::hash::Kind::Sha1,
        ));
        let read_all = |budget: usize| {
            let mut reader = ChainReader::new(std::sync::Arc::clone(&packs), budget, 1 << 20);
            ids.iter()
                .map(|(id, _)| {
                    let id = gix::ObjectId::from_hex(id.trim().as_bytes()).unwrap();
                    let at = reader.locate(&id).expect("packed");
                    let size = reader.size(at).unwrap();
                    let blob = reader.blob(at).unwrap();
                    assert_eq!(size, blob.len() as u64);
                    blob.as_slice().to_vec()
                })
                .collect::<Vec<_>>()
        };
        let expected: Vec<Vec<u8>> = ids
            .iter()
            .map(|(_, text)| text.clone().into_bytes())
            .collect();
        // With a cache that keeps every link, and with none (every chain walked to its end).
        assert_eq!(read_all(1 << 20), expected);
        packs.release_pages();
        assert_eq!(read_all(0), expected);
        packs.release_pages();
        assert_eq!(read_all(1 << 20), expected);
    }

    #[test]
    fn the_cache_evicts_the_least_recently_used_within_its_budget_and_reuses_their_buffers() {
        let mut resolved = Resolved::new(10_000);
        let kind = gix::object::Kind::Blob;
        for offset in 0..4u64 {
            drop(resolved.insert(0, offset, kind, Vec::with_capacity(3_000)));
        }
        // Four of 3,000 do not fit in 10,000: the oldest (0) went, and its buffer is spare.
        assert!(resolved.get(0, 0).is_none());
        assert!(resolved.get(0, 1).is_some());
        assert_eq!(resolved.spare_count(), 1);
        // A spare serves a request of its size class, not a much smaller one.
        assert_eq!(resolved.spare(100).capacity(), 100);
        assert_eq!(resolved.spare_count(), 1);
        assert!(resolved.spare(2_500).capacity() >= 3_000);
        assert_eq!(resolved.spare_count(), 0);
        // 1 was used last, so 2 goes next; its buffer becomes the spare.
        drop(resolved.insert(0, 9, kind, Vec::with_capacity(3_000)));
        assert!(resolved.get(0, 2).is_none());
        assert!(resolved.get(0, 1).is_some() && resolved.get(0, 3).is_some());
        assert_eq!(resolved.spare_count(), 1);
        // Age order is now 9, 1, 3. Spares stay within half the budget (one of 3,000 here),
        // and something held elsewhere is not recycled when evicted.
        let held = resolved.get(0, 3).map(|(data, _)| data);
        for offset in 10..13 {
            drop(resolved.insert(0, offset, kind, Vec::with_capacity(3_000)));
        }
        assert!(resolved.get(0, 9).is_none() && resolved.get(0, 1).is_none());
        assert!(resolved.get(0, 3).is_none() && held.is_some());
        assert!(resolved.get(0, 10).is_some() && resolved.get(0, 12).is_some());
        assert_eq!(resolved.spare_count(), 1);
        assert_eq!(resolved.held, 9_000);
        // Resolving an object again replaces it without counting it twice.
        drop(resolved.insert(0, 10, kind, Vec::with_capacity(3_000)));
        assert_eq!(resolved.held, 9_000);
        // Over half the budget alone is handed back, not kept, and evicts nothing.
        drop(resolved.insert(0, 20, kind, Vec::with_capacity(6_000)));
        assert!(resolved.get(0, 20).is_none());
        assert!(resolved.peek(0, 11).is_some());
    }
}
