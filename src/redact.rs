//! The last stage before a report: every secret the run reports is masked wherever text from
//! the scanned content is shown (snippets, commit messages), in every form it could be spelled
//! in. The per-blob snippet already masks the matched spans; this catches the copies the matcher
//! did not report as spans: a second copy of a password on the same line (`PGPASSWORD=P psql
//! postgres://u:P@h`), the AWS secret on its key id's line, a token quoted in a commit message,
//! and the hex, base64 or percent-encoded spelling of any of them.

use std::collections::HashMap;

use base64::Engine;

use crate::finding::{redact, Finding};

/// Encoded forms shorter than this are not masked on their own: a 4-character base64 fragment
/// appears in ordinary text by chance, and the raw form is always masked whatever its length.
const MIN_ENCODED_FORM: usize = 8;

/// Forms at least this long are found by their first `KEY_LEN` bytes: one hash lookup per
/// position of the text, however many secrets the run reported (an automaton over 500,000
/// forms, for a file with 58,000 findings, took seconds and gigabytes to build).
const KEY_LEN: usize = 8;

/// Every spelling of every reported secret, found in time linear in the text.
pub struct Redactor {
    /// Every form (duplicates are harmless: a match takes the longest).
    forms: Vec<Vec<u8>>,
    /// Forms of `KEY_LEN` bytes or more, by their first `KEY_LEN` bytes.
    by_key: HashMap<u64, Vec<u32>, crate::hashing::BuildMixHasher>,
    /// Shorter forms (short raw secrets), by content, and the lengths that occur.
    short: HashMap<Vec<u8>, u32>,
    short_lengths: Vec<usize>,
}

impl Redactor {
    /// Masks the raw bytes of `secrets` and their encoded spellings.
    pub fn new<'s>(secrets: impl IntoIterator<Item = &'s [u8]>) -> Redactor {
        let mut forms: Vec<Vec<u8>> = Vec::new();
        let mut raw: Vec<&[u8]> = secrets
            .into_iter()
            .filter(|secret| !secret.is_empty())
            .collect();
        raw.sort_unstable();
        raw.dedup();
        for secret in raw {
            forms.push(secret.to_vec());
            encoded_forms(secret, &mut forms);
        }
        let mut by_key: HashMap<u64, Vec<u32>, crate::hashing::BuildMixHasher> = HashMap::default();
        let mut short = HashMap::new();
        let mut short_lengths = Vec::new();
        for (index, form) in forms.iter().enumerate() {
            if form.len() >= KEY_LEN {
                by_key.entry(key(form)).or_default().push(index as u32);
            } else {
                short.insert(form.clone(), index as u32);
                if !short_lengths.contains(&form.len()) {
                    short_lengths.push(form.len());
                }
            }
        }
        // Longest first: a secret that contains another reported secret is masked whole.
        short_lengths.sort_unstable_by(|a, b| b.cmp(a));
        Redactor {
            forms,
            by_key,
            short,
            short_lengths,
        }
    }

    /// The redactor for a set of findings: their raw secrets.
    pub fn for_findings(findings: &[Finding]) -> Redactor {
        Redactor::new(findings.iter().map(|finding| finding.raw_secret.bytes()))
    }

    /// The longest form starting at `at`, if any.
    fn longest_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let rest = &bytes[at..];
        if rest.len() >= KEY_LEN {
            if let Some(candidates) = self.by_key.get(&key(rest)) {
                let best = candidates
                    .iter()
                    .filter(|&&index| rest.starts_with(&self.forms[index as usize]))
                    .max_by_key(|&&index| self.forms[index as usize].len());
                if let Some(&best) = best {
                    return Some(best);
                }
            }
        }
        self.short_lengths
            .iter()
            .filter(|&&length| length <= rest.len())
            .find_map(|&length| self.short.get(&rest[..length]).copied())
    }

    /// `text` with every known spelling of every secret replaced by its redacted form.
    pub fn apply(&self, text: &str) -> String {
        if self.forms.is_empty() {
            return text.to_string();
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut position = 0;
        let mut at = 0;
        while at < bytes.len() {
            let Some(found) = self.longest_at(bytes, at) else {
                at += 1;
                continue;
            };
            // Forms are matched as bytes; a match that splits a UTF-8 character is widened to
            // whole characters so the output stays valid text and nothing of it shows.
            let mut start = at;
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = at + self.forms[found as usize].len();
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if start < position {
                start = position;
            }
            out.push_str(&text[position..start]);
            out.push_str(&redact(&self.forms[found as usize]));
            position = end;
            at = end;
        }
        out.push_str(&text[position..]);
        out
    }
}

/// The first `KEY_LEN` bytes as a number.
fn key(bytes: &[u8]) -> u64 {
    let mut first = [0u8; KEY_LEN];
    first.copy_from_slice(&bytes[..KEY_LEN]);
    u64::from_le_bytes(first)
}

/// Masks every reported secret in every finding's snippet and commit message (unless the user
/// asked to see secrets).
pub fn redact_findings(findings: &mut [Finding], show_secrets: bool) {
    if show_secrets || findings.is_empty() {
        return;
    }
    let redactor = Redactor::for_findings(findings);
    for finding in findings.iter_mut() {
        finding.snippet = redactor.apply(&finding.snippet);
        if let Some(git) = &mut finding.git {
            git.message = redactor.apply(&git.message);
        }
    }
}

/// How a secret can be spelled in text that a decoder would turn back into it: hex (either
/// case), base64 and base64url at each of the three alignments a secret can take inside a longer
/// encoded string (only the characters that depend on the secret alone), percent-encoding.
fn encoded_forms(secret: &[u8], forms: &mut Vec<Vec<u8>>) {
    const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let mut keep = |form: Vec<u8>| {
        if form.len() >= MIN_ENCODED_FORM && form != secret {
            forms.push(form);
        }
    };
    for digits in [HEX_LOWER, HEX_UPPER] {
        let mut hex = Vec::with_capacity(secret.len() * 2);
        for &byte in secret {
            hex.push(digits[usize::from(byte >> 4)]);
            hex.push(digits[usize::from(byte & 15)]);
        }
        keep(hex);
    }
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for alignment in 0..3usize {
            let mut padded = vec![0u8; alignment];
            padded.extend_from_slice(secret);
            let encoded = engine.encode(&padded);
            // Characters before this mix the zero prefix into the secret's first byte.
            let skip = match alignment {
                0 => 0,
                1 => 2,
                _ => 3,
            };
            // A partial last group's final character mixes in whatever byte follows.
            let end = if padded.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len().saturating_sub(1)
            };
            if end > skip {
                keep(encoded.as_bytes()[skip..end].to_vec());
            }
        }
    }
    let mut percent = Vec::with_capacity(secret.len() * 3);
    for &byte in secret {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            percent.push(byte);
        } else {
            percent.extend_from_slice(&[
                b'%',
                HEX_UPPER[usize::from(byte >> 4)],
                HEX_UPPER[usize::from(byte & 15)],
            ]);
        }
    }
    keep(percent);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"Zq8vLm2pQx7sWn4r";

    #[test]
    fn masks_every_copy_on_a_line() {
        let redactor = Redactor::new([SECRET]);
        let secret = std::str::from_utf8(SECRET).unwrap();
        let line = format!("PGPASSWORD={secret} psql postgres://u:{secret}@db/x");
        assert_eq!(
            redactor.apply(&line),
            "PGPASSWORD=Zq8v**** psql postgres://u:Zq8v****@db/x"
        );
    }

    #[test]
    fn masks_encoded_spellings_at_any_alignment() {
        let redactor = Redactor::new([SECRET]);
        let engine = base64::engine::general_purpose::STANDARD;
        for prefix in ["", "a", "ab", "abc"] {
            let mut plain = prefix.as_bytes().to_vec();
            plain.extend_from_slice(SECRET);
            plain.extend_from_slice(b"!tail");
            let encoded = engine.encode(&plain);
            let shown = redactor.apply(&format!("blob={encoded}"));
            assert!(!shown.contains(&encoded), "{prefix:?}: {shown}");
            let core = &encoded[4..encoded.len() - 8];
            assert!(!shown.contains(core), "{prefix:?}: {shown}");
        }
        let hex: String = SECRET.iter().map(|byte| format!("{byte:02X}")).collect();
        assert!(!redactor.apply(&hex).contains(&hex));
        let percent = Redactor::new([b"p@ss word!".as_slice()]);
        assert_eq!(percent.apply("u=x&p=p%40ss%20word%21"), "u=x&p=p%40****");
    }

    #[test]
    fn leaves_other_text_and_multibyte_characters_alone() {
        let redactor = Redactor::new([b"\xc3\xa9t\xc3\xa9-secret-value".as_slice()]);
        assert_eq!(redactor.apply("nothing here: é"), "nothing here: é");
        assert_eq!(redactor.apply("x=été-secret-value;"), "x=été-****;");
        assert_eq!(Redactor::new([]).apply("plain"), "plain");
    }
}
