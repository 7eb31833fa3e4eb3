//! Archives and compressed files (zip and its relatives jar/war/apk/docx/xlsx, tar, gzip,
//! bzip2, tar.gz/tgz, tar.bz2): their text entries become blobs of their own, named
//! `outer!inner`, nested up to a depth limit. Every read is bounded (total bytes, entry count, entry size), so a
//! decompression bomb is skipped with a warning instead of exhausting memory; corrupt,
//! truncated and encrypted archives are warnings too. Knows nothing of matching.

use std::io::{Cursor, Read};

/// What an archive may cost, counted over one top-level archive and everything nested in it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// 1: an archive's own entries; 2: also archives inside archives; ...
    pub max_depth: usize,
    pub max_total_bytes: u64,
    pub max_entries: u64,
    pub max_entry_bytes: u64,
    /// The largest archive file read (archives are limited by their entries, not by
    /// --max-file-size, but one is still held in memory whole while it is expanded).
    pub max_archive_bytes: u64,
}

impl Limits {
    pub fn with_max_entry(max_entry_bytes: u64) -> Limits {
        Limits {
            max_depth: 2,
            max_total_bytes: 512 * 1024 * 1024,
            max_entries: 100_000,
            max_entry_bytes,
            max_archive_bytes: 256 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Gzip,
    Bzip2,
    Tar,
}

fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if bytes.len() > 3 && bytes.starts_with(b"BZh") && (b'1'..=b'9').contains(&bytes[3]) {
        Some(Kind::Bzip2)
    } else if bytes.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// True when `bytes` start like an archive this module reads.
pub fn is_archive(bytes: &[u8]) -> bool {
    kind(bytes).is_some()
}

/// What one expansion did, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Expanded {
    /// Archives opened, nested ones included.
    pub archives: u64,
    /// Entries (or whole archives) left unscanned: a limit reached, corrupt, encrypted or
    /// unreadable. Each makes the scan incomplete.
    pub unscanned: u64,
}

/// One entry handed to the caller: text (decoded if UTF-16), or a binary entry's printable runs.
pub enum EntryContent<'a> {
    Text(&'a [u8]),
    Strings(&'a super::strings::StringsView, u64),
}

/// One top-level expansion: the limits, running totals shared by nested archives, and where
/// entries and warnings go.
struct Expander<'a> {
    limits: &'a Limits,
    bytes: u64,
    entries: u64,
    exhausted: bool,
    expanded: Expanded,
    /// UTF-16 entries are decoded into its buffer.
    admission: super::TextAdmission,
    /// Binary entries are read as their printable runs here, or dropped without it
    /// (`--no-binary`).
    strings: Option<&'a mut super::strings::StringsView>,
    visit: &'a mut dyn FnMut(&str, EntryContent<'_>),
    warn: &'a mut dyn FnMut(String),
}

/// Calls `visit(path, content)` for every entry of the archive in `bytes` (named
/// `outer!inner`, recursively): text, or with `strings` a binary entry's printable runs (a
/// `.class` in a jar, a `.pyc` in a wheel); and `warn` for anything skipped that a person should
/// know of.
pub fn expand(
    bytes: &[u8],
    outer: &str,
    limits: &Limits,
    strings: Option<&mut super::strings::StringsView>,
    visit: &mut dyn FnMut(&str, EntryContent<'_>),
    warn: &mut dyn FnMut(String),
) -> Expanded {
    let mut expander = Expander {
        limits,
        bytes: 0,
        entries: 0,
        exhausted: false,
        expanded: Expanded::default(),
        admission: super::TextAdmission::default(),
        strings,
        visit,
        warn,
    };
    expander.expand_at(bytes, outer, 1);
    expander.expanded
}

impl Expander<'_> {
    /// Something was not scanned: counted (the scan is incomplete) and said.
    fn skip(&mut self, message: String) {
        self.expanded.unscanned += 1;
        (self.warn)(message);
    }

    fn expand_at(&mut self, bytes: &[u8], outer: &str, depth: usize) {
        let Some(archive_kind) = kind(bytes) else {
            return;
        };
        if depth > self.limits.max_depth {
            self.skip(format!(
                "{outer}: archive nested deeper than {} levels, not opened",
                self.limits.max_depth
            ));
            return;
        }
        match archive_kind {
            Kind::Zip => self.expand_zip(bytes, outer, depth),
            Kind::Tar => self.expand_tar(bytes, outer, depth),
            Kind::Gzip | Kind::Bzip2 => {
                let data = if archive_kind == Kind::Gzip {
                    self.read_bounded(&mut flate2::read::GzDecoder::new(bytes), outer)
                } else {
                    self.read_bounded(&mut bzip2::read::BzDecoder::new(bytes), outer)
                };
                let Some(data) = data else {
                    return;
                };
                // A compressed file is one layer of compression, not of nesting.
                if kind(&data) == Some(Kind::Tar) {
                    self.expand_at(&data, outer, depth);
                } else {
                    self.entry(outer, depth, &gzip_inner_name(outer), data);
                }
            }
        }
    }

    fn expand_zip(&mut self, bytes: &[u8], outer: &str, depth: usize) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(error) => {
                self.skip(format!("{outer}: corrupt zip archive skipped ({error})"));
                return;
            }
        };
        self.expanded.archives += 1;
        for index in 0..archive.len() {
            let name = archive
                .name_for_index(index)
                .and_then(Result::ok)
                .map_or_else(|| format!("entry-{index}"), |name| name.into_owned());
            let mut file = match archive.by_index(index) {
                Ok(file) => file,
                Err(zip::result::ZipError::UnsupportedArchive(
                    zip::result::ZipError::PASSWORD_REQUIRED,
                )) => {
                    self.skip(format!("{outer}!{name}: encrypted zip entry skipped"));
                    continue;
                }
                Err(error) => {
                    self.skip(format!("{outer}!{name}: zip entry unreadable ({error})"));
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            if file.encrypted() {
                self.skip(format!("{outer}!{name}: encrypted zip entry skipped"));
                continue;
            }
            match self.read_bounded(&mut file, &format!("{outer}!{name}")) {
                Some(data) => self.entry(outer, depth, &name, data),
                None if self.exhausted => return,
                None => {}
            }
        }
    }

    fn expand_tar(&mut self, bytes: &[u8], outer: &str, depth: usize) {
        let mut archive = tar::Archive::new(bytes);
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(error) => {
                self.skip(format!("{outer}: corrupt tar archive skipped ({error})"));
                return;
            }
        };
        self.expanded.archives += 1;
        for item in entries {
            let mut file = match item {
                Ok(file) => file,
                Err(error) => {
                    self.skip(format!(
                        "{outer}: corrupt tar entry, rest skipped ({error})"
                    ));
                    return;
                }
            };
            if !file.header().entry_type().is_file() {
                continue;
            }
            let name = file
                .path()
                .map(|path| path.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "entry".to_string());
            match self.read_bounded(&mut file, &format!("{outer}!{name}")) {
                Some(data) => self.entry(outer, depth, &name, data),
                None if self.exhausted => return,
                None => {}
            }
        }
    }

    /// One entry: an archive is opened one level deeper; text is visited; binary is read as
    /// its printable runs (or dropped without a strings view).
    fn entry(&mut self, outer: &str, depth: usize, name: &str, data: Vec<u8>) {
        let path = format!("{outer}!{name}");
        if is_archive(&data) {
            self.expand_at(&data, &path, depth + 1);
        } else if let Some(text) = self.admission.text_as(super::classify(&data), &data) {
            (self.visit)(&path, EntryContent::Text(text));
        } else if let Some(view) = self.strings.as_deref_mut() {
            view.read(&data);
            (self.visit)(&path, EntryContent::Strings(view, data.len() as u64));
        }
    }

    /// Reads one entry, never more than the limits allow: a bomb stops at the limit.
    fn read_bounded(&mut self, reader: &mut dyn Read, name: &str) -> Option<Vec<u8>> {
        if self.exhausted {
            return None;
        }
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            self.skip(format!(
                "{name}: more than {} archive entries, the rest skipped",
                self.limits.max_entries
            ));
            self.exhausted = true;
            return None;
        }
        let remaining_total = self.limits.max_total_bytes.saturating_sub(self.bytes);
        let cap = self.limits.max_entry_bytes.min(remaining_total);
        let mut data = Vec::new();
        if let Err(error) = reader.take(cap.saturating_add(1)).read_to_end(&mut data) {
            self.skip(format!("{name}: cannot decompress ({error}), skipped"));
            return None;
        }
        if data.len() as u64 > cap {
            if cap == remaining_total {
                self.skip(format!(
                    "{name}: archive expands past {} bytes (a decompression bomb?), the rest skipped",
                    self.limits.max_total_bytes
                ));
                self.exhausted = true;
            } else {
                self.skip(format!(
                    "{name}: entry larger than {} bytes, skipped",
                    self.limits.max_entry_bytes
                ));
            }
            return None;
        }
        self.bytes += data.len() as u64;
        Some(data)
    }
}

fn gzip_inner_name(outer: &str) -> String {
    let file = outer.rsplit(['/', '!']).next().unwrap_or(outer);
    if let Some(stem) = [".tgz", ".tbz2", ".tbz"]
        .iter()
        .find_map(|suffix| file.strip_suffix(suffix))
    {
        format!("{stem}.tar")
    } else if let Some(stem) = file
        .strip_suffix(".gz")
        .or_else(|| file.strip_suffix(".bz2"))
    {
        stem.to_string()
    } else {
        format!("{file}.decompressed")
    }
}
