//! Binary content seen the way `strings` sees it: its runs of printable ASCII, each at least
//! `MIN_RUN` bytes, one per line of a text view the matcher reads like any file. A token compiled
//! into an executable, pickled into a `.pyc` or stored in a SQLite page sits in such a run.
//! Runs of UTF-16 text (`strings -el` and `-eb`: .NET string literals, Windows resources and
//! registry hives store UTF-16LE; Java's `writeChars` and some Mac formats UTF-16BE) follow the
//! ASCII ones in the view, as their ASCII characters.
//! Each run remembers where it starts in the file (byte offset, line and column as an editor
//! counts them), so a finding in the view is reported at its place in the binary.

/// Shorter runs are left out: no credential with its name is this short, and binaries are full
/// of short accidental runs.
pub const MIN_RUN: usize = 8;

/// One run: where it starts in the view and in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    view_start: usize,
    offset: u64,
    /// 1-based, counting the file's line feeds.
    line: usize,
    /// 1-based byte column on that line.
    column: usize,
    /// File bytes per view byte: 1 for ASCII runs, 2 for UTF-16 runs.
    stride: usize,
}

/// The printable runs of one binary blob; reused blob after blob.
#[derive(Debug, Default)]
pub struct StringsView {
    text: Vec<u8>,
    runs: Vec<Run>,
}

/// Where a position of the view lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePlace {
    pub offset: u64,
    pub line: usize,
    pub column: usize,
}

fn printable(byte: u8) -> bool {
    byte == b'\t' || (0x20..0x7f).contains(&byte)
}

/// The end of the printable ASCII run starting at `start` (`start` when there is none).
fn ascii_run_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&byte| !printable(byte))
        .map_or(bytes.len(), |length| start + length)
}

/// The end of the UTF-16 run of ASCII characters starting at `start` (`start` when there is
/// none): bytes that alternate between a printable character and NUL. Read that way, UTF-16LE
/// (character, NUL) and UTF-16BE (NUL, character) are the same run at any alignment, so a
/// string is seen once whichever byte order wrote it; the run ends after its last character.
fn utf16_run_end(bytes: &[u8], start: usize) -> usize {
    let starts_run = match bytes.get(start..start + 2) {
        Some(&[0, next]) => printable(next),
        Some(&[byte, 0]) => printable(byte),
        _ => false,
    };
    if !starts_run {
        return start;
    }
    let mut expect_nul = bytes[start] == 0;
    let mut end = start;
    while end < bytes.len() {
        let byte = bytes[end];
        if expect_nul && byte != 0 || !expect_nul && !printable(byte) {
            break;
        }
        expect_nul = !expect_nul;
        end += 1;
    }
    // The run ends after a character, not after the NUL that follows it (UTF-16LE).
    if bytes[end - 1] == 0 {
        end - 1
    } else {
        end
    }
}

impl StringsView {
    /// Rebuilds the view from `bytes`.
    pub fn read(&mut self, bytes: &[u8]) {
        self.text.clear();
        self.runs.clear();
        self.read_runs(bytes, 1);
        self.read_runs(bytes, 2);
    }

    /// Appends the runs of one width: `stride` 1 for ASCII, 2 for UTF-16 text of either byte
    /// order (see `utf16_run_end`).
    fn read_runs(&mut self, bytes: &[u8], stride: usize) {
        let (mut line, mut line_start) = (1usize, 0usize);
        let mut position = 0;
        while position < bytes.len() {
            let end = match stride {
                1 => ascii_run_end(bytes, position),
                _ => utf16_run_end(bytes, position),
            };
            if end == position {
                if bytes[position] == b'\n' {
                    line += 1;
                    line_start = position + 1;
                }
                position += 1;
                continue;
            }
            // A UTF-16BE run starts at its first character's NUL; the view holds characters.
            let first = if bytes[position] == 0 {
                position + 1
            } else {
                position
            };
            let characters = (end - first).div_ceil(stride);
            if characters >= MIN_RUN {
                self.runs.push(Run {
                    view_start: self.text.len(),
                    offset: first as u64,
                    line,
                    column: first - line_start + 1,
                    stride,
                });
                self.text
                    .extend(bytes[first..end].iter().step_by(stride).copied());
                self.text.push(b'\n');
                position = end;
            } else if stride == 1 {
                position = end;
            } else {
                // Not a run here; one starting at the next byte may be.
                position += 1;
            }
        }
    }

    /// The text the matcher reads.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The file's place of a byte of the view (`None` past the end).
    pub fn place(&self, view_position: usize) -> Option<FilePlace> {
        let index = self
            .runs
            .partition_point(|run| run.view_start <= view_position)
            .checked_sub(1)?;
        let run = self.runs[index];
        let within = (view_position - run.view_start) * run.stride;
        Some(FilePlace {
            offset: run.offset + within as u64,
            line: run.line,
            column: run.column + within,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_become_lines_and_positions_map_back_to_the_file() {
        let mut bytes = vec![0u8, 1, 2];
        bytes.extend_from_slice(b"short\x00");
        bytes.extend_from_slice(b"token=Zq81mXv0Lp\x00\x7f");
        bytes.extend_from_slice(b"\nsecond line: abcdefgh");
        let mut view = StringsView::default();
        view.read(&bytes);
        assert_eq!(view.text(), b"token=Zq81mXv0Lp\nsecond line: abcdefgh\n");
        // `Z` of the token: file offset 3 + 6 + 6, line 1.
        assert_eq!(
            view.place(6),
            Some(FilePlace {
                offset: 15,
                line: 1,
                column: 16
            })
        );
        // `a` of `abcdefgh`, on the file's second line.
        let second = view.text().iter().position(|&b| b == b's').unwrap_or(0);
        assert_eq!(
            view.place(second + 13),
            Some(FilePlace {
                offset: 41,
                line: 2,
                column: 14
            })
        );
        view.read(b"\x00\x01");
        assert_eq!(view.text(), b"");
        assert_eq!(view.place(0), None);
    }

    #[test]
    fn utf16_runs_of_either_byte_order_follow_the_ascii_ones_at_twice_the_width() {
        let mut bytes = b"\x00\x01ascii run here\x00\x02\n\x03".to_vec();
        // An odd offset, as in a .NET user-string heap.
        bytes.push(0x05);
        for unit in "key=Zq81mXv0".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        bytes.extend_from_slice(b"\x00\x00\xff");
        let mut view = StringsView::default();
        view.read(&bytes);
        assert_eq!(view.text(), b"ascii run here\nkey=Zq81mXv0\n");
        let z = view.text().iter().position(|&b| b == b'Z').unwrap();
        // `Z` is the 5th character of a run starting at file offset 21 (line 2, column 3).
        assert_eq!(
            view.place(z),
            Some(FilePlace {
                offset: 21 + 8,
                line: 2,
                column: 3 + 8
            })
        );
        // UTF-16BE: the same run, found once, at the offset of its first character's byte.
        let mut be = b"\x01\x02\x03".to_vec();
        for unit in "key=Zq81mXv0".encode_utf16() {
            be.extend_from_slice(&unit.to_be_bytes());
        }
        be.extend_from_slice(b"\x13\x37");
        view.read(&be);
        assert_eq!(view.text(), b"key=Zq81mXv0\n");
        assert_eq!(
            view.place(4),
            Some(FilePlace {
                offset: 3 + 1 + 8,
                line: 1,
                column: 4 + 1 + 8
            })
        );
        // Short UTF-16 text is left out, as short ASCII is.
        let mut short = Vec::new();
        for unit in "abc".encode_utf16() {
            short.extend_from_slice(&unit.to_le_bytes());
        }
        view.read(&short);
        assert_eq!(view.text(), b"");
    }
}
