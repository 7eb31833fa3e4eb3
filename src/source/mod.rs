//! Sources turn inputs into blobs: bytes plus provenance (where they came from). They decide
//! what is worth reading (size, binary, symlinks) and never match or report.

pub mod archive;
pub mod fs;
pub mod git;
pub mod staged;
pub mod stdin;

use crate::finding::SourceKind;

/// How many leading bytes are checked for a NUL to call content binary (git's own heuristic).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Default `--max-file-size`: larger files are skipped and counted.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Bytes to scan and the path to report them under.
pub struct Blob<'a> {
    pub bytes: &'a [u8],
    pub path: &'a str,
    pub source: SourceKind,
    /// The source's own index for this blob (git: its position in the blob list), carried into
    /// findings so the source's provenance can be attached later. 0 where unused.
    pub origin: usize,
}

/// Why content was not scanned; each is counted in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    Oversize,
    Unreadable,
}

/// Receives blobs from a source; one per thread, so it needs no locking of its own.
pub trait BlobVisitor {
    fn visit(&mut self, blob: Blob<'_>);
    fn skipped(&mut self, reason: SkipReason, bytes: u64);
    /// An archive was opened; its text entries arrive through `visit`.
    fn archive_opened(&mut self, _archives: u64) {}
}

/// True when the first `BINARY_SNIFF_LEN` bytes hold a NUL.
pub fn looks_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_LEN)]).is_some()
}
