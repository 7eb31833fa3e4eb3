//! Sources turn inputs into blobs: bytes plus provenance (where they came from). They decide
//! what is worth reading (size, binary, symlinks) and never match or report.

pub mod archive;
pub mod budget;
pub mod forge;
pub mod fs;
pub mod git;
pub mod staged;
pub mod stdin;
pub mod strings;

use serde::Serialize;

/// Where a blob came from, as reported in a finding's `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    File,
    Git,
    Staged,
    Stdin,
    /// The message of a commit (history): `path` is `COMMIT_MESSAGE_PATH`, `line` counts from
    /// the subject line.
    #[serde(rename = "commit-message")]
    CommitMessage,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::File => "file",
            SourceKind::Git => "git",
            SourceKind::Staged => "staged",
            SourceKind::Stdin => "stdin",
            SourceKind::CommitMessage => "commit-message",
        }
    }
}

/// Where a blob came from: the kind a finding reports as `source`, with the producer's index
/// where a later stage needs it to find the blob's other facts (the commits and paths of a git
/// blob, the added lines of a staged file). A new source adds a variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provenance {
    File,
    Stdin,
    /// The `file`th entry of `staged::Staged::files`.
    Staged {
        file: usize,
    },
    /// The `blob`th entry of `git::History::blobs` (one blob, many paths and commits).
    Git {
        blob: usize,
    },
    /// The message of the `commit`th walked commit (`git::History::commits`).
    CommitMessage {
        commit: usize,
    },
    /// Read back from a report (`merge`): the kind only.
    Reported(SourceKind),
}

impl Provenance {
    pub fn kind(self) -> SourceKind {
        match self {
            Provenance::File => SourceKind::File,
            Provenance::Stdin => SourceKind::Stdin,
            Provenance::Staged { .. } => SourceKind::Staged,
            Provenance::Git { .. } => SourceKind::Git,
            Provenance::CommitMessage { .. } => SourceKind::CommitMessage,
            Provenance::Reported(kind) => kind,
        }
    }
}

/// Reports carry the kind only; the index means nothing outside the run.
impl Serialize for Provenance {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.kind().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Provenance {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SourceKind::deserialize(deserializer).map(Provenance::Reported)
    }
}

/// The `path` of findings in a commit message: not a file, and spelled so no file is mistaken
/// for it.
pub const COMMIT_MESSAGE_PATH: &str = "(commit message)";

/// How many leading bytes are sampled to tell text from binary.
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// Default `--max-file-size`: larger files are skipped and counted. Matching memory no longer
/// grows with keyword hits (the keyword pass works a segment at a time), so a file costs about
/// its own size: a 40 MB line of `password=a;` peaks at 74 MB in `scan` and 123 MB in `history`
/// (two versions), where it took 1.8 GB before.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// Bytes to scan and the path to report them under.
pub struct Blob<'a> {
    pub bytes: &'a [u8],
    pub path: &'a str,
    pub provenance: Provenance,
    /// Where this blob stands among versions of one file handed to the same visitor one after
    /// another (git history); empty elsewhere.
    pub versions: Versions<'a>,
    /// Set when `bytes` are the printable runs of binary content: positions map back to the
    /// file through it.
    pub strings: Option<&'a strings::StringsView>,
}

/// Git history reads the versions of a file one after another on one thread, oldest first; a
/// visitor may reuse what it found in the earlier ones for lines a later one still has.
#[derive(Debug, Clone, Copy, Default)]
pub struct Versions<'a> {
    /// The blob handed over just before, when it was an earlier version of this file.
    pub previous: Option<&'a [u8]>,
    /// The next blob handed over will be another version of this file.
    pub more_follow: bool,
}

/// Why content was not scanned; each is counted in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    Oversize,
    Unreadable,
    /// A git object that is not in the object database (counted as unreadable too).
    Missing,
}

/// An input that produces blobs. `scan::scan_source` runs any source through the same
/// collectors, grouping and counters, so a new input needs this and no scanning code.
/// (`history` and `staged` have their own entry points: each groups its findings its own way,
/// by commit and by added line.)
pub trait Source {
    /// Hands every blob to a visitor made by `make_visitor` (once per thread the source uses),
    /// each through `Admission::visit` after its own size check.
    fn produce<V, F>(
        &self,
        diagnostics: &crate::diagnostics::Diagnostics,
        make_visitor: F,
    ) -> Produced
    where
        V: BlobVisitor + Send,
        F: Fn() -> V + Sync;
}

/// What a source reports besides its blobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Produced {
    /// Files ignore rules left out (`None` where the source has no ignore rules, or they were
    /// switched off).
    pub ignored_files: Option<u64>,
}

/// Receives blobs from a source; one per thread, so it needs no locking of its own.
pub trait BlobVisitor {
    fn visit(&mut self, blob: Blob<'_>);
    fn skipped(&mut self, reason: SkipReason, bytes: u64);
    /// An archive was opened; its text entries arrive through `visit`.
    fn archive_expanded(&mut self, _expanded: &archive::Expanded) {}
    /// Binary content of this many bytes is about to arrive through `visit` as its printable
    /// runs (`Blob::strings`).
    fn binary_read_as_strings(&mut self, _bytes: u64) {}
    /// Whether binary content at `path` should arrive as its raw bytes instead of its printable
    /// runs: a rule that knows the file by its name reads it whole (an encrypted credential
    /// store is random bytes, which printable runs would cut apart).
    fn wants_raw_binary(&mut self, _path: &str) -> bool {
        false
    }
}

/// What a blob's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Text,
    /// UTF-16 text (Windows editors and PowerShell write it): decoded to UTF-8 and scanned.
    Utf16 {
        big_endian: bool,
    },
    Binary,
}

/// Classifies by the first `BINARY_SNIFF_LEN` bytes. A BOM, or NULs in every other byte of
/// mostly-ASCII text, is UTF-16. Content without a NUL is text (as git decides). Otherwise it
/// is binary when more than 1 byte in 32 is a control character that text does not use: a stray NUL in a text file does not hide it (git's
/// one-NUL rule does), while compiled and compressed data (about 1 byte in 10) is still binary.
pub fn classify(bytes: &[u8]) -> ContentKind {
    let sample = &bytes[..bytes.len().min(BINARY_SNIFF_LEN)];
    match sample {
        [0xFF, 0xFE, ..] => return ContentKind::Utf16 { big_endian: false },
        [0xFE, 0xFF, ..] => return ContentKind::Utf16 { big_endian: true },
        _ => {}
    }
    // Text without a NUL is the common case, and a memchr away.
    if memchr::memchr(0, sample).is_none() {
        return ContentKind::Text;
    }
    if sample.len() >= 4 {
        let pairs = sample.len() / 2;
        let zero_odd = sample.chunks_exact(2).filter(|pair| pair[1] == 0).count();
        let zero_even = sample.chunks_exact(2).filter(|pair| pair[0] == 0).count();
        // ASCII in UTF-16: nearly every code unit has a zero high byte and a non-zero low one.
        let ascii_units = |zeros: usize, low_index: usize| {
            zeros * 10 >= pairs * 9
                && sample
                    .chunks_exact(2)
                    .filter(|pair| pair[low_index] != 0)
                    .count()
                    * 10
                    >= pairs * 9
        };
        if ascii_units(zero_odd, 0) {
            return ContentKind::Utf16 { big_endian: false };
        }
        if ascii_units(zero_even, 1) {
            return ContentKind::Utf16 { big_endian: true };
        }
    }
    let controls = sample
        .iter()
        .filter(|&&byte| matches!(byte, 0x00..=0x08 | 0x0E..=0x1A | 0x1C..=0x1F | 0x7F))
        .count();
    if controls * 32 > sample.len() {
        ContentKind::Binary
    } else {
        ContentKind::Text
    }
}

/// What a source knows of a blob besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct BlobMeta<'a> {
    pub path: &'a str,
    pub provenance: Provenance,
    /// Passed on only when the blob is plain text (decoded UTF-16 and archive entries are
    /// matched whole).
    pub versions: Versions<'a>,
}

/// How content is admitted, chosen once per run.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmissionOptions {
    /// `None` with --no-archives (an archive is then binary content).
    pub archives: Option<archive::Limits>,
    /// Binary content is read as its printable runs (`strings::StringsView`); off with
    /// --no-binary.
    pub binary_strings: bool,
}

/// The one admission step every source shares once it has read a blob within its size limit:
/// an archive (when archives are opened) has its text entries visited as `outer!inner`;
/// binary content is skipped and counted; UTF-16 is decoded into a buffer reused blob after
/// blob; text is visited as it is. Line numbers of decoded UTF-16 are the file's own; columns
/// count UTF-8 bytes. A new source reads bytes, checks its size limit and calls `visit`.
#[derive(Default)]
pub struct Admission {
    text: TextAdmission,
    archives: Option<archive::Limits>,
    /// `None` with --no-binary: binary content is skipped and counted instead.
    strings: Option<strings::StringsView>,
}

impl Admission {
    pub fn new(options: AdmissionOptions) -> Admission {
        Admission {
            text: TextAdmission::default(),
            archives: options.archives,
            strings: options.binary_strings.then(strings::StringsView::default),
        }
    }

    /// Whether binary content is read (as printable runs) rather than skipped.
    pub fn reads_binary(&self) -> bool {
        self.strings.is_some()
    }

    /// Whether `bytes` would be expanded as an archive (a source reading in steps may allow an
    /// archive more bytes than a file: archives are limited by their entries).
    pub fn opens_archive(&self, bytes: &[u8]) -> bool {
        self.archives.is_some() && archive::is_archive(bytes)
    }

    /// Hands `bytes` to `visitor` as described on the type. `kind` is the content's class if
    /// the source already took it from the first bytes; `warn` hears about archive entries
    /// left unscanned.
    pub fn visit<V: BlobVisitor + ?Sized>(
        &mut self,
        bytes: &[u8],
        kind: Option<ContentKind>,
        meta: BlobMeta<'_>,
        visitor: &mut V,
        warn: &mut dyn FnMut(String),
    ) {
        if let Some(limits) = self.archives.filter(|_| archive::is_archive(bytes)) {
            let opened = archive::expand(
                bytes,
                meta.path,
                &limits,
                self.strings.as_mut(),
                &mut |inner, entry| match entry {
                    archive::EntryContent::Text(text) => visitor.visit(Blob {
                        bytes: text,
                        path: inner,
                        provenance: meta.provenance,
                        versions: Versions::default(),
                        strings: None,
                    }),
                    archive::EntryContent::Strings(view, size) => {
                        visitor.binary_read_as_strings(size);
                        visitor.visit(Blob {
                            bytes: view.text(),
                            path: inner,
                            provenance: meta.provenance,
                            versions: Versions::default(),
                            strings: Some(view),
                        });
                    }
                },
                warn,
            );
            visitor.archive_expanded(&opened);
            return;
        }
        let kind = kind.unwrap_or_else(|| classify(bytes));
        let versions = if kind == ContentKind::Text {
            meta.versions
        } else {
            Versions::default()
        };
        let Some(text) = self.text.text_as(kind, bytes) else {
            let Some(view) = self.strings.as_mut() else {
                visitor.skipped(SkipReason::Binary, bytes.len() as u64);
                return;
            };
            if visitor.wants_raw_binary(meta.path) {
                visitor.binary_read_as_strings(bytes.len() as u64);
                visitor.visit(Blob {
                    bytes,
                    path: meta.path,
                    provenance: meta.provenance,
                    versions: Versions::default(),
                    strings: None,
                });
                return;
            }
            view.read(bytes);
            visitor.binary_read_as_strings(bytes.len() as u64);
            visitor.visit(Blob {
                bytes: view.text(),
                path: meta.path,
                provenance: meta.provenance,
                versions: Versions::default(),
                strings: Some(view),
            });
            return;
        };
        visitor.visit(Blob {
            bytes: text,
            path: meta.path,
            provenance: meta.provenance,
            versions,
            strings: None,
        });
    }
}

/// Text out of content already classified: UTF-16 decoded into a buffer reused blob after
/// blob, binary refused. `Admission` uses it, and archives for their entries (which count
/// binary entries apart).
#[derive(Default)]
pub struct TextAdmission {
    decoded: Vec<u8>,
}

impl TextAdmission {
    /// The bytes to scan as text (decoded if UTF-16), or `None` for binary content.
    pub fn text_as<'b>(&'b mut self, kind: ContentKind, bytes: &'b [u8]) -> Option<&'b [u8]> {
        match kind {
            ContentKind::Text => Some(bytes),
            ContentKind::Utf16 { big_endian } => {
                decode_utf16(bytes, big_endian, &mut self.decoded);
                Some(&self.decoded)
            }
            ContentKind::Binary => None,
        }
    }
}

/// UTF-16 (BOM dropped, unpaired surrogates as U+FFFD) to UTF-8 in `out`.
pub fn decode_utf16(bytes: &[u8], big_endian: bool, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(bytes.len() / 2);
    let units = bytes.chunks_exact(2).map(|pair| {
        if big_endian {
            u16::from_be_bytes([pair[0], pair[1]])
        } else {
            u16::from_le_bytes([pair[0], pair[1]])
        }
    });
    let mut encoded = [0u8; 4];
    for decoded in char::decode_utf16(units) {
        let c = decoded.unwrap_or(char::REPLACEMENT_CHARACTER);
        if c == '\u{FEFF}' && out.is_empty() {
            continue;
        }
        out.extend_from_slice(c.encode_utf8(&mut encoded).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stray_nul_is_still_text() {
        let mut text = b"token = value\n".repeat(100);
        text[50] = 0;
        assert_eq!(classify(&text), ContentKind::Text);
    }

    #[test]
    fn compiled_and_compressed_content_is_binary() {
        // A deterministic stand-in for compressed data: every byte value equally often.
        let uniform: Vec<u8> = (0..8192u32).map(|i| (i * 167 % 256) as u8).collect();
        assert_eq!(classify(&uniform), ContentKind::Binary);
        let elf_like: Vec<u8> = [b"\x7fELF\x02\x01\x01".as_slice(), &[0u8; 64]].concat();
        assert_eq!(classify(&elf_like), ContentKind::Binary);
    }

    #[test]
    fn utf16_with_and_without_a_bom_is_decoded() {
        let text = "password = \"hunter2hunter2\"\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom: Vec<u8> = [&[0xFF, 0xFE][..], &le].concat();
        let mut out = Vec::new();
        for (bytes, big_endian) in [(&le, false), (&be, true), (&with_bom, false)] {
            assert_eq!(classify(bytes), ContentKind::Utf16 { big_endian });
            decode_utf16(bytes, big_endian, &mut out);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), text);
        }
    }
}
