//! The last stage before a report: every secret the run reports is masked wherever text from
//! the scanned content is shown (snippets, commit messages), in every form it could be spelled
//! in. The per-blob snippet already masks the matched spans; this catches the copies the matcher
//! did not report as spans: a second copy of a password on the same line (`PGPASSWORD=P psql
//! postgres://u:P@h`), the AWS secret on its key id's line, a token quoted in a commit message,
//! and the hex, base64 or percent-encoded spelling of any of them.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine;

use crate::finding::{redact, Finding};

/// Encoded forms shorter than this are not masked on their own: a 4-character base64 fragment
/// appears in ordinary text by chance, and the raw form is always masked whatever its length.
const MIN_ENCODED_FORM: usize = 8;

/// Every spelling of every reported secret, matched in one pass.
pub struct Redactor {
    searcher: Option<AhoCorasick>,
    replacements: Vec<String>,
}

impl Redactor {
    /// Masks the raw bytes of `secrets` and their encoded spellings.
    pub fn new<'s>(secrets: impl IntoIterator<Item = &'s [u8]>) -> Redactor {
        let mut forms: Vec<Vec<u8>> = Vec::new();
        for secret in secrets {
            if secret.is_empty() {
                continue;
            }
            forms.push(secret.to_vec());
            for form in encoded_forms(secret) {
                if form.len() >= MIN_ENCODED_FORM && form != secret {
                    forms.push(form);
                }
            }
        }
        forms.sort();
        forms.dedup();
        let replacements = forms.iter().map(|form| redact(form)).collect();
        // Leftmost-longest: a secret that contains another reported secret is masked whole.
        let searcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .ok()
            .filter(|_| !forms.is_empty());
        Redactor {
            searcher,
            replacements,
        }
    }

    /// The redactor for a set of findings: their raw secrets.
    pub fn for_findings(findings: &[Finding]) -> Redactor {
        Redactor::new(findings.iter().map(|finding| finding.raw_secret.bytes()))
    }

    /// `text` with every known spelling of every secret replaced by its redacted form.
    pub fn apply(&self, text: &str) -> String {
        let Some(searcher) = &self.searcher else {
            return text.to_string();
        };
        let mut out = String::with_capacity(text.len());
        let mut position = 0;
        for found in searcher.find_iter(text.as_bytes()) {
            // Forms are matched as bytes; a match that splits a UTF-8 character is widened to
            // whole characters so the output stays valid text and nothing of it shows.
            let mut start = found.start();
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            if start < position {
                continue;
            }
            let mut end = found.end();
            while !text.is_char_boundary(end) {
                end += 1;
            }
            out.push_str(&text[position..start]);
            out.push_str(&self.replacements[found.pattern().as_usize()]);
            position = end;
        }
        out.push_str(&text[position..]);
        out
    }
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
        if let Some(message) = &finding.commit_message {
            finding.commit_message = Some(redactor.apply(message));
        }
    }
}

/// How a secret can be spelled in text that a decoder would turn back into it: hex (either
/// case), base64 and base64url at each of the three alignments a secret can take inside a longer
/// encoded string (only the characters that depend on the secret alone), percent-encoding.
fn encoded_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = Vec::with_capacity(9);
    let hex: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
    forms.push(hex.to_ascii_uppercase().into_bytes());
    forms.push(hex.into_bytes());
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
            let keep = if padded.len() % 3 == 0 {
                encoded.len()
            } else {
                encoded.len().saturating_sub(1)
            };
            if keep > skip {
                forms.push(encoded.as_bytes()[skip..keep].to_vec());
            }
        }
    }
    let mut percent = Vec::with_capacity(secret.len() * 3);
    for &byte in secret {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            percent.push(byte);
        } else {
            percent.extend_from_slice(format!("%{byte:02X}").as_bytes());
        }
    }
    forms.push(percent);
    forms
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
