//! Encoded content: finds spans that look like base64 (standard or URL-safe), hex,
//! percent-encoding or `\uXXXX`/`\xXX` escapes, and decodes them when the result is text.
//! Bytes in, bytes out: it knows nothing of rules, paths or findings. The scanner runs the
//! matcher over what comes out and reports any secret at the encoded span's location.

mod decoders;

pub use decoders::decode;

/// How a span is encoded; findings carry the chain in `decoded`, serialised by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
///
/// Runs shorter than `MIN_HEX.min(MIN_BASE64)` never matter, so the scan probes the byte where
/// a long-enough run starting here would have to reach, and skips the whole stretch when that
/// byte cannot belong to a run (source code is mostly short identifiers): most bytes are never
/// looked at.
fn find_alphabet_runs(bytes: &[u8], spans: &mut Vec<EncodedSpan>) {
    const MIN_RUN: usize = if MIN_BASE64 < MIN_HEX {
        MIN_BASE64
    } else {
        MIN_HEX
    };
    let in_run = |byte: u8| CLASSES[byte as usize] & (BASE64_STANDARD | BASE64_URL) != 0;
    let mut index = 0;
    while index + MIN_RUN <= bytes.len() {
        let probe = index + MIN_RUN - 1;
        if !in_run(bytes[probe]) {
            index = probe + 1;
            continue;
        }
        // Walk back from the probe to where this run starts (not before `index`).
        let mut run_start = probe;
        while run_start > index && in_run(bytes[run_start - 1]) {
            run_start -= 1;
        }
        if probe + 1 - run_start < MIN_RUN && {
            // Too short so far; it qualifies only if it continues long enough past the probe.
            let needed = run_start + MIN_RUN;
            !bytes[probe + 1..needed.min(bytes.len())]
                .iter()
                .all(|&byte| in_run(byte))
                || needed > bytes.len()
        } {
            // Restart just past the first byte that breaks it.
            let breaker = bytes[probe + 1..]
                .iter()
                .position(|&byte| !in_run(byte))
                .map_or(bytes.len(), |offset| probe + 1 + offset);
            index = breaker + 1;
            continue;
        }
        // The run's end, with the tightest loop there is: long base64 images are most of the
        // bytes this pass ever touches.
        let mut end = probe + 1;
        while end < bytes.len() && in_run(bytes[end]) {
            end += 1;
        }
        // Its character mix, from its first few kilobytes.
        let (mut standard, mut url, mut hex) = (true, true, true);
        let (mut upper, mut lower, mut digit) = (false, false, false);
        for &byte in &bytes[run_start..end.min(run_start + 4096)] {
            let class = CLASSES[byte as usize];
            standard &= class & BASE64_STANDARD != 0;
            url &= class & BASE64_URL != 0;
            hex &= class & HEX_DIGIT != 0;
            upper |= byte.is_ascii_uppercase();
            lower |= byte.is_ascii_lowercase();
            digit |= byte.is_ascii_digit();
        }
        if !standard && !url {
            // Mixes `+`/`/` with `-`/`_`: not one base64 alphabet.
            index = end + 1;
            continue;
        }
        let mut padded_end = end;
        while padded_end < bytes.len() && padded_end - end < 2 && bytes[padded_end] == b'=' {
            padded_end += 1;
        }
        let run_len = end - run_start;
        if hex && run_len >= MIN_HEX && run_len.is_multiple_of(2) {
            spans.push(EncodedSpan {
                start: run_start,
                end,
                encoding: Encoding::Hex,
            });
        } else if !hex && run_len >= MIN_BASE64 && upper && lower && digit {
            // Base64 of text mixes cases and digits; identifiers (snake_case, CamelCase
            // without digits) do not, and are not worth decoding.
            spans.push(EncodedSpan {
                start: run_start,
                end: padded_end,
                encoding: Encoding::Base64,
            });
        }
        index = padded_end.max(end) + 1;
    }
}

/// Values (runs of visible characters without quotes or separators) holding enough `%XX` or
/// `\uXXXX`/`\xXX` escapes to be encoded text. Only the bytes around a `%` or `\` are
/// examined; everything else is skipped at memchr speed.
fn find_escaped_values(bytes: &[u8], spans: &mut Vec<EncodedSpan>) {
    let in_value = |byte: u8| CLASSES[byte as usize] & ESCAPE_BODY != 0;
    let mut index = 0;
    while let Some(offset) = memchr::memchr2(b'%', b'\\', &bytes[index..]) {
        let at = index + offset;
        let mut start = at;
        while start > 0 && in_value(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at;
        while end < bytes.len() && in_value(bytes[end]) {
            end += 1;
        }
        let (mut percent_escapes, mut backslash_escapes) = (0, 0);
        let mut cursor = at;
        while let Some(next) = memchr::memchr2(b'%', b'\\', &bytes[cursor..end]) {
            let position = cursor + next;
            match bytes[position] {
                b'%' if is_hex_pair(bytes, position + 1) => percent_escapes += 1,
                b'\\' if matches!(bytes.get(position + 1), Some(b'u' | b'x')) => {
                    backslash_escapes += 1
                }
                _ => {}
            }
            cursor = position + 1;
        }
        let encoding = if percent_escapes >= MIN_ESCAPES {
            Some(Encoding::Percent)
        } else if backslash_escapes >= MIN_ESCAPES {
            Some(Encoding::Escape)
        } else {
            None
        };
        if let Some(encoding) = encoding {
            spans.push(EncodedSpan {
                start,
                end,
                encoding,
            });
        }
        index = end.max(at + 1);
        if index >= bytes.len() {
            break;
        }
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
