//! Offline verification of check digits that token formats carry. A token whose check digits
//! are wrong was never issued by the provider (typo, truncation, or a made-up example), so the
//! candidate is dropped; one whose digits verify is reported at high confidence.

use base64::Engine;

use crate::rules::model::ChecksumKind;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub fn verify(kind: ChecksumKind, secret: &[u8]) -> bool {
    match kind {
        ChecksumKind::Crc32Base62 => crc32_base62(secret),
        ChecksumKind::JwtHeader => jwt_header(secret),
    }
}

/// GitHub's and npm's format: PREFIX_ + body + 6 base62 digits of CRC32(body), zero-padded.
fn crc32_base62(secret: &[u8]) -> bool {
    const CHECK_LEN: usize = 6;
    if secret.len() <= CHECK_LEN {
        return false;
    }
    let (head, check) = secret.split_at(secret.len() - CHECK_LEN);
    let body = head
        .iter()
        .rposition(|&b| b == b'_')
        .map_or(head, |underscore| &head[underscore + 1..]);
    if body.is_empty() {
        return false;
    }
    encode_base62_padded(crc32fast::hash(body)) == check
}

fn encode_base62_padded(mut value: u32) -> [u8; 6] {
    let mut digits = [b'0'; 6];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
}

/// A JWT's first segment must decode to a JSON object naming its algorithm. Tokens that are
/// public by design or famous documentation samples are rejected too: a Supabase `anon` key
/// ships in every client, and the jwt.io sample (`"sub": "1234567890", "name": "John Doe"`)
/// is in thousands of READMEs.
fn jwt_header(secret: &[u8]) -> bool {
    let mut segments = secret.split(|&b| b == b'.');
    let header = segments.next().unwrap_or_default();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let Ok(decoded) = engine.decode(header) else {
        return false;
    };
    let has_alg = matches!(
        serde_json::from_slice::<serde_json::Value>(&decoded),
        Ok(serde_json::Value::Object(fields)) if fields.contains_key("alg")
    );
    if !has_alg {
        return false;
    }
    let payload = segments
        .next()
        .and_then(|payload| engine.decode(payload).ok())
        .and_then(|payload| serde_json::from_slice::<serde_json::Value>(&payload).ok());
    match payload {
        Some(claims) => !is_public_or_sample_jwt(&claims),
        None => true,
    }
}

fn is_public_or_sample_jwt(claims: &serde_json::Value) -> bool {
    let text = |key: &str| claims.get(key).and_then(serde_json::Value::as_str);
    let supabase_anon = text("role") == Some("anon");
    let jwt_io_sample = text("sub") == Some("1234567890") && text("name") == Some("John Doe");
    supabase_anon || jwt_io_sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_matches_published_breakdown() {
        // The body/check split GitHub describes: 30 random characters, 6 check digits.
        let body = b"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        assert_eq!(&encode_base62_padded(crc32fast::hash(body)), b"0mLq17");
        let mut token = b"ghp_".to_vec();
        token.extend_from_slice(body);
        token.extend_from_slice(b"0mLq17");
        assert!(crc32_base62(&token));
        *token.last_mut().unwrap() = b'8';
        assert!(!crc32_base62(&token));
    }

    #[test]
    fn jwt_header_needs_alg() {
        assert!(jwt_header(b"eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        assert!(!jwt_header(b"eyJmb28iOjF9.e30.sig"));
        assert!(!jwt_header(b"not-base64!.e30.sig"));
        // {"role":"anon"} and the jwt.io sample payload.
        assert!(!jwt_header(
            b"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig"
        ));
        assert!(!jwt_header(
            b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.sig"
        ));
        assert!(jwt_header(
            b"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig"
        ));
    }
}
