//! The decoders: each writes into a caller's buffer (reused across spans) and reports whether
//! the result is worth scanning (text). Large spans are probed first: when the first kilobyte
//! does not decode to text (a base64 image), the rest is never decoded.

use base64::Engine;

use super::{is_text, EncodedSpan, Encoding};

/// Bytes decoded from the start of a span to decide whether it is text at all.
const PROBE: usize = 1024;
/// Largest encoded span decoded in full.
const MAX_SPAN: usize = 4 * 1024 * 1024;

/// Decodes `span` of `bytes` into `out` (cleared first). Returns false when it does not decode
/// or does not decode to text.
pub fn decode(bytes: &[u8], span: EncodedSpan, out: &mut Vec<u8>) -> bool {
    out.clear();
    let encoded = &bytes[span.start..span.end.min(span.start + MAX_SPAN)];
    match span.encoding {
        Encoding::Base64 => {
            let probe_len = encoded.len().min(PROBE) / 4 * 4;
            if encoded.len() > PROBE {
                if !base64_into(&encoded[..probe_len], out) || !is_text(out) {
                    return false;
                }
                out.clear();
            }
            base64_into(encoded, out) && is_text(out)
        }
        Encoding::Hex => {
            for pair in encoded.chunks_exact(2) {
                match (hex_value(pair[0]), hex_value(pair[1])) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => return false,
                }
                if out.len() == PROBE && !is_text(out) {
                    return false;
                }
            }
            is_text(out)
        }
        Encoding::Percent => {
            let mut index = 0;
            while index < encoded.len() {
                let byte = encoded[index];
                if byte == b'%' && index + 2 < encoded.len() + 1 {
                    if let (Some(high), Some(low)) = (
                        encoded.get(index + 1).copied().and_then(hex_value),
                        encoded.get(index + 2).copied().and_then(hex_value),
                    ) {
                        out.push(high << 4 | low);
                        index += 3;
                        continue;
                    }
                }
                out.push(if byte == b'+' { b' ' } else { byte });
                index += 1;
            }
            is_text(out) && out.as_slice() != encoded
        }
        Encoding::Escape => {
            let mut index = 0;
            while index < encoded.len() {
                if encoded[index] == b'\\' {
                    let digits = match encoded.get(index + 1) {
                        Some(b'u') => 4,
                        Some(b'x') => 2,
                        _ => 0,
                    };
                    if digits > 0 {
                        if let Some(value) = encoded
                            .get(index + 2..index + 2 + digits)
                            .and_then(parse_hex)
                        {
                            let mut utf8 = [0u8; 4];
                            let character = char::from_u32(value).unwrap_or('\u{fffd}');
                            out.extend_from_slice(character.encode_utf8(&mut utf8).as_bytes());
                            index += 2 + digits;
                            continue;
                        }
                    }
                }
                out.push(encoded[index]);
                index += 1;
            }
            is_text(out)
        }
    }
}

fn base64_into(encoded: &[u8], out: &mut Vec<u8>) -> bool {
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let url_safe = encoded.iter().any(|&b| b == b'-' || b == b'_');
    let alphabet = if url_safe {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let engine = base64::engine::GeneralPurpose::new(alphabet, config);
    // A run whose length is 1 mod 4 cannot be base64; trim the odd character rather than fail.
    let trimmed_len = {
        let unpadded = encoded
            .iter()
            .rposition(|&b| b != b'=')
            .map_or(0, |i| i + 1);
        if unpadded % 4 == 1 {
            unpadded - 1
        } else {
            encoded.len()
        }
    };
    engine.decode_vec(&encoded[..trimmed_len], out).is_ok()
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

fn parse_hex(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |value, &digit| {
        hex_value(digit).map(|nibble| value << 4 | u32::from(nibble))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::find_spans;

    fn decode_all(text: &str) -> Vec<String> {
        let mut spans = Vec::new();
        find_spans(text.as_bytes(), &mut spans);
        let mut out = Vec::new();
        let mut decoded = Vec::new();
        for span in spans {
            if decode(text.as_bytes(), span, &mut out) {
                decoded.push(String::from_utf8_lossy(&out).into_owned());
            }
        }
        decoded
    }

    #[test]
    fn decodes_text_and_skips_binary() {
        assert_eq!(
            decode_all("v: dG9rZW49Z2hwX2FiY2RlZmdoaWprbG1ub3A="),
            vec!["token=ghp_abcdefghijklmnop"]
        );
        assert_eq!(
            decode_all("746f6b656e3d6768705f6162636465666768"),
            vec!["token=ghp_abcdefgh"]
        );
        assert_eq!(decode_all("a%3Db%26c%3Dd"), vec!["a=b&c=d"]);
        assert_eq!(decode_all(r"\u0067\u0068\u0070_x"), vec!["ghp_x"]);
        // 40 hex digits of a git SHA decode to binary: not scanned.
        assert!(decode_all("3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39").is_empty());
    }
}
