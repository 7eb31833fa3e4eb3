//! Encoded content: finds spans that look like base64 (standard or URL-safe), hex,
//! percent-encoding or `\uXXXX`/`\xXX` escapes, and decodes them when the result is text.
//! Bytes in, bytes out: it knows nothing of rules, paths or findings. The scanner runs the
//! matcher over what comes out and reports any secret at the encoded span's location.

mod decoders;

pub use decoders::decode;

/// How a span is encoded; the name is what findings carry in `decoded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
    Escape,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
        }
    }
}

/// A run of bytes that may be encoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedSpan {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
}

/// Shortest base64 run worth decoding: 24 characters carry 18 bytes, less than any token
/// with a prefix worth finding.
const MIN_BASE64: usize = 24;
/// Shortest hex run worth decoding (16 bytes).
const MIN_HEX: usize = 32;
/// Percent-encoded and escaped spans need this many escapes to be worth decoding.
const MIN_ESCAPES: usize = 3;

/// Byte classes, one table lookup per byte on the hot path.
const BASE64_STANDARD: u8 = 1;
const BASE64_URL: u8 = 2;
const HEX_DIGIT: u8 = 4;
const ESCAPE_BODY: u8 = 8;

const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut byte = 0usize;
    while byte < 256 {
        let b = byte as u8;
        let mut class = 0;
        if b.is_ascii_alphanumeric() {
            class |= BASE64_STANDARD | BASE64_URL;
        }
        if b == b'+' || b == b'/' {
            class |= BASE64_STANDARD;
        }
        if b == b'-' || b == b'_' {
            class |= BASE64_URL;
        }
        if b.is_ascii_hexdigit() {
            class |= HEX_DIGIT;
        }
        // What may sit inside a percent-encoded or escaped run: anything visible but quotes,
        // brackets and separators that end a value.
        if b > b' ' && b < 0x7f && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>' | b',' | b';') {
            class |= ESCAPE_BODY;
        }
        table[byte] = class;
        byte += 1;
    }
    table
}

static CLASSES: [u8; 256] = classes();

/// Appends every candidate span in `bytes` to `spans` (cleared first), sorted by start. Two
/// linear passes: base64/hex runs, then percent-encoded or escaped values.
pub fn find_spans(bytes: &[u8], spans: &mut Vec<EncodedSpan>) {
    spans.clear();
    find_alphabet_runs(bytes, spans);
    find_escaped_values(bytes, spans);
    spans.sort_unstable_by_key(|span| (span.start, span.end));
}

/// Maximal runs of the base64 (standard or URL-safe) alphabet; all-hex runs are hex.
fn find_alphabet_runs(bytes: &[u8], spans: &mut Vec<EncodedSpan>) {
    let mut index = 0;
    while index < bytes.len() {
        if CLASSES[bytes[index] as usize] & (BASE64_STANDARD | BASE64_URL) == 0 {
            index += 1;
            continue;
        }
        let run_start = index;
        let (mut standard, mut url, mut hex) = (true, true, true);
        let mut end = index;
        while end < bytes.len() {
            let class = CLASSES[bytes[end] as usize];
            let keeps_standard = standard && class & BASE64_STANDARD != 0;
            let keeps_url = url && class & BASE64_URL != 0;
            if !keeps_standard && !keeps_url {
                break;
            }
            standard = keeps_standard;
            url = keeps_url;
            hex &= class & HEX_DIGIT != 0;
            end += 1;
        }
        let mut padded_end = end;
        while padded_end < bytes.len() && padded_end - end < 2 && bytes[padded_end] == b'=' {
            padded_end += 1;
        }
        let run_len = end - run_start;
        if hex && run_len >= MIN_HEX && run_len % 2 == 0 {
            spans.push(EncodedSpan {
                start: run_start,
                end,
                encoding: Encoding::Hex,
            });
        } else if !hex && run_len >= MIN_BASE64 {
            spans.push(EncodedSpan {
                start: run_start,
                end: padded_end,
                encoding: Encoding::Base64,
            });
        }
        index = padded_end.max(index + 1);
    }
}

/// Values (runs of visible characters without quotes or separators) holding enough `%XX` or
/// `\uXXXX`/`\xXX` escapes to be encoded text.
fn find_escaped_values(bytes: &[u8], spans: &mut Vec<EncodedSpan>) {
    let mut index = 0;
    while index < bytes.len() {
        if CLASSES[bytes[index] as usize] & ESCAPE_BODY == 0 {
            index += 1;
            continue;
        }
        let start = index;
        let (mut percent_escapes, mut backslash_escapes) = (0, 0);
        while index < bytes.len() && CLASSES[bytes[index] as usize] & ESCAPE_BODY != 0 {
            match bytes[index] {
                b'%' if is_hex_pair(bytes, index + 1) => percent_escapes += 1,
                b'\\' if matches!(bytes.get(index + 1), Some(b'u' | b'x')) => {
                    backslash_escapes += 1
                }
                _ => {}
            }
            index += 1;
        }
        let encoding = if percent_escapes >= MIN_ESCAPES {
            Encoding::Percent
        } else if backslash_escapes >= MIN_ESCAPES {
            Encoding::Escape
        } else {
            continue;
        };
        spans.push(EncodedSpan {
            start,
            end: index,
            encoding,
        });
    }
}

fn is_hex_pair(bytes: &[u8], at: usize) -> bool {
    matches!(bytes.get(at..at + 2), Some(pair) if pair.iter().all(u8::is_ascii_hexdigit))
}

/// True when at least 90% of `bytes` is printable ASCII or common whitespace: decoded text,
/// not an image or compressed data.
pub fn is_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    printable * 10 >= bytes.len() * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(String, &'static str)> {
        let mut found = Vec::new();
        find_spans(text.as_bytes(), &mut found);
        found
            .iter()
            .map(|span| (text[span.start..span.end].to_string(), span.encoding.name()))
            .collect()
    }

    #[test]
    fn finds_each_kind_of_span() {
        assert_eq!(
            spans("token: dG9rZW49Z2hwX2FiY2RlZmdoaWprbG1ub3A= end"),
            vec![("dG9rZW49Z2hwX2FiY2RlZmdoaWprbG1ub3A=".into(), "base64")]
        );
        assert_eq!(
            spans("x=746f6b656e3d6768705f6162636465666768"),
            vec![("746f6b656e3d6768705f6162636465666768".into(), "hex")]
        );
        assert_eq!(
            spans("u=a%3Db%26c%3Dd ok"),
            vec![("u=a%3Db%26c%3Dd".into(), "percent")]
        );
        assert_eq!(
            spans(r#""\u0067\u0068\u0070_abc""#),
            vec![(r"\u0067\u0068\u0070_abc".into(), "escape")]
        );
        assert!(spans("short dGVzdA== words").is_empty());
    }

    #[test]
    fn text_test_rejects_binary() {
        assert!(is_text(b"hello world\n"));
        assert!(!is_text(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0xff, 0xfe]));
    }
}
