//! Lines already matched in earlier versions of the file being read. History reads a file's
//! versions one after another, and most lines of each version are lines some earlier version
//! already had: for line-local rules (no reach beyond the line) what a line yields depends on
//! its text alone, so it is matched once and its findings are reused in every later version.
//!
//! Each line's text is kept and compared byte for byte on lookup, so a hash collision can cost
//! time but never a finding.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::matcher::{KeywordHit, RawMatch};
use crate::suppress::SuppressReason;

/// Text kept per file; past it, new lines are no longer remembered (lookups still work) until
/// the next file. A file whose versions hold this much distinct text is rare; 64 MiB per
/// thread bounds the worst case.
const TEXT_BUDGET: usize = 64 * 1024 * 1024;
/// Lines kept per file, for the same reason (about 40 bytes each with the table).
const LINE_BUDGET: usize = 1 << 20;

/// What one line yielded (offsets relative to the line start): a match of a line-local rule and
/// the finding it became, a finding in text decoded from an encoded span on the line, or a
/// spread rule's keyword (confirmed per blob, since its window reaches other lines), or a
/// suppressed match (counted again in the summary for every version that reuses the line).
#[derive(Clone, Copy)]
pub(crate) enum LineResult {
    Match { found: RawMatch, finding: usize },
    Decoded { finding: usize },
    SpreadHit(KeywordHit),
    Suppressed(SuppressReason),
}

struct Entry {
    text_start: usize,
    text_len: usize,
    /// Next entry with the same hash, or `NONE`.
    next: u32,
    results_start: u32,
    results_len: u32,
}

const NONE: u32 = u32::MAX;

/// The keys are already hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[derive(Default)]
pub(crate) struct LineCache {
    heads: HashMap<u64, u32, BuildHasherDefault<Identity>>,
    entries: Vec<Entry>,
    text: Vec<u8>,
    results: Vec<LineResult>,
    hasher: foldhash::fast::FixedState,
}

impl LineCache {
    pub fn clear(&mut self) {
        self.heads.clear();
        self.entries.clear();
        self.text.clear();
        self.results.clear();
        // A large file's text is not kept for the next, usually small, one.
        if self.text.capacity() > 4 * 1024 * 1024 {
            *self = LineCache::default();
        }
    }

    fn hash(&self, line: &[u8]) -> u64 {
        self.hasher.hash_one(line)
    }

    /// What `line` yielded when it was last matched, or `None` if no earlier version had it.
    pub fn lookup(&self, line: &[u8]) -> Option<&[LineResult]> {
        let mut at = *self.heads.get(&self.hash(line))?;
        while at != NONE {
            let entry = &self.entries[at as usize];
            if &self.text[entry.text_start..entry.text_start + entry.text_len] == line {
                let start = entry.results_start as usize;
                return Some(&self.results[start..start + entry.results_len as usize]);
            }
            at = entry.next;
        }
        None
    }

    /// Remembers what `line` yielded (the caller knows it is not remembered yet).
    pub fn insert(&mut self, line: &[u8], results: &[LineResult]) {
        if self.text.len() + line.len() > TEXT_BUDGET || self.entries.len() >= LINE_BUDGET {
            return;
        }
        let hash = self.hash(line);
        let index = self.entries.len() as u32;
        let next = self.heads.insert(hash, index).unwrap_or(NONE);
        self.entries.push(Entry {
            text_start: self.text.len(),
            text_len: line.len(),
            next,
            results_start: self.results.len() as u32,
            results_len: results.len() as u32,
        });
        self.text.extend_from_slice(line);
        self.results.extend_from_slice(results);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_found_by_its_text_and_colliding_hashes_are_told_apart() {
        let mut cache = LineCache::default();
        cache.insert(b"alpha = 1", &[LineResult::Decoded { finding: 7 }]);
        cache.insert(b"beta = 2", &[]);
        assert!(matches!(
            cache.lookup(b"alpha = 1"),
            Some([LineResult::Decoded { finding: 7 }])
        ));
        assert_eq!(cache.lookup(b"beta = 2").map(<[_]>::len), Some(0));
        assert!(cache.lookup(b"gamma = 3").is_none());
        // Force a collision: two texts under one hash head must still be told apart.
        let hash = cache.hash(b"alpha = 1");
        let index = cache.entries.len() as u32;
        let next = cache.heads.insert(hash, index).unwrap_or(NONE);
        cache.entries.push(Entry {
            text_start: cache.text.len(),
            text_len: 5,
            next,
            results_start: 0,
            results_len: 0,
        });
        cache.text.extend_from_slice(b"other");
        assert!(matches!(
            cache.lookup(b"alpha = 1"),
            Some([LineResult::Decoded { finding: 7 }])
        ));
        cache.clear();
        assert!(cache.lookup(b"alpha = 1").is_none());
    }
}
