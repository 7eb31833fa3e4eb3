//! A hasher for keys that are integers nobody hostile chooses (offsets in the repository's own
//! pack, prefixes of already reported secrets): one multiply spreads them over a table, where
//! `SipHash` per lookup is measurably slower and buys nothing.

/// Builds [`MixHasher`]s; use as the third parameter of `HashMap`.
#[derive(Default, Clone, Copy)]
pub(crate) struct BuildMixHasher;

impl std::hash::BuildHasher for BuildMixHasher {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}

/// Each integer written is folded into the state and mixed; a single `u64` key hashes to
/// `(k ^ k >> 29) * φ64`.
pub(crate) struct MixHasher(u64);

impl std::hash::Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }
    fn write_u64(&mut self, value: u64) {
        let value = self.0.rotate_left(26) ^ value;
        self.0 = (value ^ (value >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hasher};

    use super::*;

    #[test]
    fn every_part_of_a_key_changes_its_hash() {
        let hash = |pack: u32, offset: u64| {
            let mut hasher = BuildMixHasher.build_hasher();
            hasher.write_u32(pack);
            hasher.write_u64(offset);
            hasher.finish()
        };
        assert_ne!(hash(0, 12), hash(1, 12));
        assert_ne!(hash(0, 12), hash(0, 13));
        // A lone u64 (redaction's keys) hashes as it did before the hasher was shared.
        let key = 0x1234_5678_9abc_def0_u64;
        let mut lone = BuildMixHasher.build_hasher();
        lone.write_u64(key);
        assert_eq!(
            lone.finish(),
            (key ^ (key >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        );
    }
}
