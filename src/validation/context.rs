//! Values a validator needs from the file around a credential that are not credentials
//! themselves (`[rule.validate] context`): a customer's own host label, an account e-mail.
//! They are looked up while the file is in hand, because validation runs on findings, after the
//! file is gone; they ride on the finding unserialised and are never reported.

use std::collections::{BTreeMap, HashMap};

use regex::bytes::Regex;

use super::Validators;

/// The most matches of one context regex taken from one file.
const MAX_MATCHES: usize = 256;

/// Longer values are not hosts or e-mail addresses: left out.
const MAX_VALUE: usize = 256;

/// One compiled `context` entry.
pub struct ContextFinder {
    pub name: String,
    regex: Regex,
    /// The `value` group, where the regex has one.
    group: Option<usize>,
}

impl ContextFinder {
    /// Every value in `bytes`, with its offset, in order.
    pub fn all(&self, bytes: &[u8]) -> Matches {
        let mut found = Vec::new();
        let mut locations = self.regex.capture_locations();
        let mut at = 0;
        while at <= bytes.len() && found.len() < MAX_MATCHES {
            let Some(whole) = self.regex.captures_read_at(&mut locations, bytes, at) else {
                break;
            };
            at = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.end() + 1
            };
            let (start, end) = match self.group.and_then(|group| locations.get(group)) {
                Some(span) => span,
                None => (whole.start(), whole.end()),
            };
            if end > start && end - start <= MAX_VALUE {
                found.push((
                    start,
                    String::from_utf8_lossy(&bytes[start..end]).into_owned(),
                ));
            }
        }
        found
    }
}

/// One context entry's values in a file, with their offsets.
pub type Matches = Vec<(usize, String)>;

/// The value nearest to `offset` (ties: the earlier one).
pub fn nearest(found: &[(usize, String)], offset: usize) -> Option<&str> {
    found
        .iter()
        .min_by_key(|(at, _)| at.abs_diff(offset))
        .map(|(_, value)| value.as_str())
}

/// Every validator's `context` entries, compiled, by rule id. Empty without `--validate`.
#[derive(Default)]
pub struct ContextFinders {
    by_rule: HashMap<String, Vec<ContextFinder>>,
}

impl ContextFinders {
    /// Compiles the entries of every validator that has some. Rule loading has already
    /// checked them; an entry that does not compile is left out, so its validator reports the
    /// value as missing.
    pub fn new(validators: &Validators) -> ContextFinders {
        let mut by_rule = HashMap::new();
        for (rule_id, check) in validators {
            let finders: Vec<ContextFinder> = check
                .context
                .iter()
                .filter_map(|(name, pattern)| {
                    let regex = crate::rules::validate::compile_rule_regex(pattern).ok()?;
                    let group = regex.capture_names().position(|n| n == Some("value"));
                    Some(ContextFinder {
                        name: name.clone(),
                        regex,
                        group,
                    })
                })
                .collect();
            if !finders.is_empty() {
                by_rule.insert(rule_id.clone(), finders);
            }
        }
        ContextFinders { by_rule }
    }

    pub fn for_rule(&self, rule_id: &str) -> Option<&[ContextFinder]> {
        if self.by_rule.is_empty() {
            return None;
        }
        self.by_rule.get(rule_id).map(Vec::as_slice)
    }
}

/// The values for one finding at `offset`, from per-finder match lists.
pub fn values_near(
    finders: &[ContextFinder],
    found: &[Matches],
    offset: usize,
) -> BTreeMap<String, String> {
    finders
        .iter()
        .zip(found)
        .filter_map(|(finder, found)| {
            nearest(found, offset).map(|value| (finder.name.clone(), value.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_value_of_each_entry_is_taken() {
        let text = b"OKTA_ORG=https://acme-one.okta.com\nOKTA_API_TOKEN=x\nother=beta.okta.com\n";
        let finder = ContextFinder {
            name: "org".into(),
            regex: Regex::new(r"(?P<value>[a-z0-9-]+)\.okta\.com").unwrap(),
            group: Some(1),
        };
        let found = finder.all(text);
        assert_eq!(
            found,
            vec![(17, "acme-one".to_string()), (58, "beta".to_string())]
        );
        let values = values_near(
            std::slice::from_ref(&finder),
            std::slice::from_ref(&found),
            30,
        );
        assert_eq!(values.get("org").map(String::as_str), Some("acme-one"));
        assert_eq!(nearest(&found, 57), Some("beta"));
        assert_eq!(nearest(&[], 3), None);
    }
}
