//! Rejects values that are obviously not real credentials: documentation placeholders,
//! template variables, masked values and keyboard-walk strings. Deliberately conservative: each
//! pattern is rare in random tokens (a six-character run of one byte occurs in a random base62
//! token about once in 10^7).

/// Lower-case substrings that mark a value as a placeholder or a template reference.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"xxxx",
    b"changeme",
    b"change_me",
    b"placeholder",
    b"your_",
    b"your-",
    b"dummy",
    b"sample",
    b"redacted",
    b"${",
    b"{{",
    b"<",
    b">",
    b"****",
];

/// A run this long of one byte, or of bytes counting up or down by one, is not random.
const MAX_RUN: usize = 6;

pub fn looks_like_placeholder(secret: &[u8]) -> bool {
    contains_placeholder_word(secret) || has_long_run(secret) || has_percent_variable(secret)
}

/// `%NAME%`: a Windows environment variable or a template slot (`%ACCESS_TOKEN%`). The name is
/// upper-case letters, digits and `_`, starts with a letter or `_` and is at least three
/// characters, so percent-encoding (`%2F`, `%AB%CD`) and random secrets whose alphabet holds
/// `%` and lower-case letters (Django's `%m8oo%`) never look like one.
fn has_percent_variable(secret: &[u8]) -> bool {
    let mut rest = secret;
    while let Some(start) = memchr::memchr(b'%', rest) {
        let after = &rest[start + 1..];
        let name_len = after
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        let starts_like_a_name = after
            .first()
            .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_');
        if starts_like_a_name && name_len >= 3 && after.get(name_len) == Some(&b'%') {
            return true;
        }
        rest = after;
    }
    false
}

/// For generic (low-confidence) rules only: a type name (`Ed25519PrivateKey`, `ApiToken`,
/// `SecretString`) where a value was expected, as in `private_key: Ed25519PrivateKey`, a type
/// annotation. Letters and digits only, starting upper-case, ending in a word that names a
/// credential type.
pub fn looks_like_type_name(secret: &[u8]) -> bool {
    const TYPE_SUFFIXES: &[&[u8]] = &[
        b"Key",
        b"Token",
        b"Secret",
        b"Password",
        b"Credential",
        b"Credentials",
        b"String",
        b"Type",
        b"Provider",
        b"Config",
    ];
    secret.first().is_some_and(u8::is_ascii_uppercase)
        && secret.iter().all(u8::is_ascii_alphanumeric)
        && secret.iter().any(u8::is_ascii_lowercase)
        && TYPE_SUFFIXES
            .iter()
            .any(|suffix| secret.len() > suffix.len() && secret.ends_with(suffix))
}

/// For generic (low-confidence) rules only: values built from lowercase words and numbers
/// joined by separators (`record_config-1234`, `queue.status`) are identifiers, config keys or
/// enum values, not credentials. A passphrase of plain words joined by `-` with no number is
/// kept: it may be a real password.
pub fn looks_like_identifier(secret: &[u8]) -> bool {
    let is_separator = |b: u8| matches!(b, b'_' | b'-' | b'.' | b'/' | b':');
    let mut segments = 0;
    let mut digit_segment = false;
    let mut identifier_separator = false;
    for segment in secret.split(|&b| is_separator(b)) {
        if segment.is_empty() {
            continue;
        }
        segments += 1;
        if segment.iter().all(u8::is_ascii_digit) {
            digit_segment = true;
        } else if !segment.iter().all(u8::is_ascii_lowercase) {
            return false;
        }
    }
    for &b in secret {
        if matches!(b, b'_' | b'.' | b'/' | b':') {
            identifier_separator = true;
        }
    }
    segments >= 2 && (digit_segment || identifier_separator)
}

fn contains_placeholder_word(secret: &[u8]) -> bool {
    PLACEHOLDER_WORDS.iter().any(|word| {
        secret
            .windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word))
    })
}

fn has_long_run(secret: &[u8]) -> bool {
    let (mut same, mut up, mut down) = (1usize, 1usize, 1usize);
    for pair in secret.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        same = if a == b { same + 1 } else { 1 };
        up = if b == a.wrapping_add(1) { up + 1 } else { 1 };
        down = if b == a.wrapping_sub(1) { down + 1 } else { 1 };
        if same >= MAX_RUN || up >= MAX_RUN || down >= MAX_RUN {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::looks_like_placeholder;

    #[test]
    fn rejects_documentation_placeholders() {
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "${GITHUB_TOKEN}",
            "<your-token>",
            "{{ secrets.TOKEN }}",
            "changeme",
            "sk_live_000000000000",
            "abcdefghij",
            "9876543210",
            "****",
        ] {
            assert!(looks_like_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn identifiers_are_not_generic_secrets() {
        use super::looks_like_identifier;
        for value in [
            "record_config-1234",
            "queue.status",
            "connect-4547",
            "app/config/main",
        ] {
            assert!(looks_like_identifier(value.as_bytes()), "{value}");
        }
        for value in [
            "correct-horse-battery-staple",
            "hunter2",
            "Xk9-pQ2_zz81",
            "s3cr3t_Pa55",
        ] {
            assert!(!looks_like_identifier(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn template_slots_and_type_names_are_not_values() {
        use super::looks_like_type_name;
        assert!(looks_like_placeholder(b"%ACCESS_TOKEN%"));
        assert!(looks_like_placeholder(b"Bearer %API_KEY%"));
        assert!(!looks_like_placeholder(
            b"cd8h=&jln&!+h=5nhd(%m8oo%52&kbig0y"
        ));
        assert!(!looks_like_placeholder(b"p%2Fss%3Dw0rd%21x"));
        assert!(!looks_like_placeholder(b"Zq81%ABCmXv0"));
        assert!(looks_like_type_name(b"Ed25519PrivateKey"));
        assert!(looks_like_type_name(b"SecretString"));
        assert!(!looks_like_type_name(b"Kq81mXv0LpWwKey9"));
        assert!(!looks_like_type_name(b"s3cr3tKey"));
        assert!(!looks_like_type_name(b"Key"));
    }

    #[test]
    fn keeps_random_tokens() {
        for value in [
            "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17",
            "wJalrXUtnFEMIK7MDENGbPxRfiCY3k9q",
        ] {
            assert!(!looks_like_placeholder(value.as_bytes()), "{value}");
        }
    }
}
