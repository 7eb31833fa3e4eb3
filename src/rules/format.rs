//! The canonical form of a rule file (`leakhound rules fmt`): every `[[rule]]` lists its keys in
//! one order, the one README's "Writing a rule" shows, so a reviewer finds the regex and the
//! filters in the same place in every rule; the short words (`id`, `provider`, `severity`,
//! `confidence`, `checksum`) are basic strings; `regex` and `public_forms` are literal strings
//! (`'''...'''`), so a backslash reads as it does in the regex documentation. Comments travel with
//! the key they sit above. Everything else (other quoting, arrays, sub-tables) is left as written.

use toml_edit::{DocumentMut, Item, Table, Value};

/// The order of a rule's keys. `validate` and `revoke` are sub-tables and stay last.
pub const KEY_ORDER: &[&str] = &[
    "id",
    "name",
    "provider",
    "severity",
    "confidence",
    "keyword_set",
    "keywords",
    "paths",
    "regex",
    "entropy",
    "checksum",
    "reach_before",
    "reach_after",
    "placeholder_filter",
    "secret_must_contain",
    "public_forms",
    "documented_samples",
    "remediation",
    "examples",
    "negative_examples",
    "validate",
    "revoke",
];

/// Keys whose values are single words, written as basic strings.
const BASIC_STRING_KEYS: &[&str] = &[
    "id",
    "provider",
    "severity",
    "confidence",
    "keyword_set",
    "checksum",
];

/// Keys whose values are regexes, written as literal strings.
const REGEX_KEYS: &[&str] = &["regex", "public_forms"];

/// Why a file could not be put in canonical form.
#[derive(Debug, thiserror::Error)]
#[error("{line}:{column}: rule file does not parse: {message}")]
pub struct FormatError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The file in canonical form (the same text when it already is).
pub fn canonical(text: &str) -> Result<String, FormatError> {
    let mut document: DocumentMut = text.parse().map_err(|error: toml_edit::TomlError| {
        let (line, column) = error
            .span()
            .map_or((1, 1), |span| crate::error::line_column(text, span.start));
        FormatError {
            line,
            column,
            message: error.message().to_string(),
        }
    })?;
    if let Some(rules) = document
        .get_mut("rule")
        .and_then(Item::as_array_of_tables_mut)
    {
        for rule in rules.iter_mut() {
            canonical_rule(rule);
        }
    }
    Ok(document.to_string())
}

fn rank(key: &str) -> usize {
    KEY_ORDER
        .iter()
        .position(|known| *known == key)
        .unwrap_or(KEY_ORDER.len())
}

fn canonical_rule(rule: &mut Table) {
    rule.sort_values_by(|first, _, second, _| rank(first.get()).cmp(&rank(second.get())));
    for key in BASIC_STRING_KEYS {
        if let Some(item) = rule.get_mut(key) {
            if let Some(value) = item.as_value_mut() {
                respell(value, basic);
            }
        }
    }
    for key in REGEX_KEYS {
        match rule.get_mut(key).and_then(Item::as_value_mut) {
            Some(Value::Array(array)) => {
                for value in array.iter_mut() {
                    respell(value, literal);
                }
            }
            Some(value) => respell(value, literal),
            None => {}
        }
    }
}

/// Replaces a string's spelling, keeping its surrounding whitespace and comments; a spelling
/// that cannot hold the text (`None`) leaves it as written.
fn respell(value: &mut Value, spell: fn(&str) -> Option<String>) {
    let Value::String(text) = value else {
        return;
    };
    let Some(spelled) = spell(text.value()) else {
        return;
    };
    let already = text
        .as_repr()
        .and_then(|repr| repr.as_raw().as_str())
        .is_some_and(|raw| raw == spelled);
    if already {
        return;
    }
    let Ok(Value::String(mut replacement)) = spelled.parse::<Value>() else {
        return;
    };
    *replacement.decor_mut() = text.decor().clone();
    *text = replacement;
}

fn basic(text: &str) -> Option<String> {
    let plain = text
        .chars()
        .all(|c| c != '"' && c != '\\' && !c.is_control());
    plain.then(|| format!("\"{text}\""))
}

fn literal(text: &str) -> Option<String> {
    (!text.contains("'''") && !text.contains('\n') && !text.ends_with('\''))
        .then(|| format!("'''{text}'''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ordered_and_comments_follow_their_key() {
        let scrambled = "# Acme\n\n[[rule]]\nid = 'acme-key'\nname = \"Acme key\"\n\
            provider = 'Acme'\nseverity = \"high\"\nkeywords = [\"acme_\"]\n\
            regex = \"acme_(?P<secret>[a-z]{8})\\\\b\"\n\
            # why this floor\nentropy = 3.0\nsecret_must_contain = [\"[a-z]\"]\n\
            remediation = \"Revoke it.\"\nexamples = ['a']\nnegative_examples = ['b']\n\
            reach_after = 10\n\n[rule.validate]\nhosts = [\"api.acme.example\"]\n";
        let expected = "# Acme\n\n[[rule]]\nid = \"acme-key\"\nname = \"Acme key\"\n\
            provider = \"Acme\"\nseverity = \"high\"\nkeywords = [\"acme_\"]\n\
            regex = '''acme_(?P<secret>[a-z]{8})\\b'''\n\
            # why this floor\nentropy = 3.0\nreach_after = 10\nsecret_must_contain = [\"[a-z]\"]\n\
            remediation = \"Revoke it.\"\nexamples = ['a']\nnegative_examples = ['b']\n\
            \n[rule.validate]\nhosts = [\"api.acme.example\"]\n";
        let formatted = canonical(scrambled).expect("parses");
        assert_eq!(formatted, expected);
        assert_eq!(canonical(expected).expect("parses"), expected);
        // The same data either way.
        let before: toml::Table = toml::from_str(scrambled).expect("valid TOML");
        let after: toml::Table = toml::from_str(&formatted).expect("valid TOML");
        assert_eq!(before, after);
    }

    #[test]
    fn every_builtin_rule_file_is_in_canonical_form() {
        for (name, text) in crate::rules::loader::EMBEDDED_RULE_FILES {
            let formatted = canonical(text).expect("built-in rule files parse");
            assert!(
                formatted == *text,
                "rules/{name} is not in canonical form: run `leakhound rules fmt rules/`"
            );
        }
    }
}
