//! The keyword pass: one Aho-Corasick DFA over every rule's keywords (ASCII case-insensitive),
//! turning a blob into (rule, position) hits. This is the only stage that touches every byte, so
//! keywords are deduplicated and the automaton is a DFA (see PERF.md: the prefilter can cost
//! more than inflating the blob).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::error::MatcherBuildError;
use crate::rules::model::RuleSpec;

/// A keyword occurrence, expanded to one entry per rule that lists the keyword.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
}

pub(crate) struct KeywordIndex {
    automaton: AhoCorasick,
    /// For each distinct keyword (automaton pattern id), the rules that list it.
    rules_for_keyword: Vec<Vec<u32>>,
}

impl KeywordIndex {
    pub fn build(rules: &[RuleSpec]) -> Result<KeywordIndex, MatcherBuildError> {
        let mut keywords: Vec<Vec<u8>> = Vec::new();
        let mut rules_for_keyword: Vec<Vec<u32>> = Vec::new();
        let mut position: std::collections::HashMap<Vec<u8>, usize> =
            std::collections::HashMap::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            for keyword in &rule.keywords {
                let folded = keyword.as_bytes().to_ascii_lowercase();
                let slot = *position.entry(folded.clone()).or_insert_with(|| {
                    keywords.push(folded);
                    rules_for_keyword.push(Vec::new());
                    keywords.len() - 1
                });
                let rule_id = rule_index as u32;
                if !rules_for_keyword[slot].contains(&rule_id) {
                    rules_for_keyword[slot].push(rule_id);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)
            .or_else(|_| {
                // A very large keyword set can exceed the DFA's size limit; the contiguous NFA
                // is slower but has no such limit.
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
            })
            .map_err(|error| MatcherBuildError {
                message: error.to_string(),
            })?;
        Ok(KeywordIndex {
            automaton,
            rules_for_keyword,
        })
    }

    /// Fills `hits` (cleared first) with every keyword occurrence, overlapping ones included.
    pub fn find_hits(&self, haystack: &[u8], hits: &mut Vec<Hit>) {
        hits.clear();
        for found in self.automaton.find_overlapping_iter(haystack) {
            for &rule in &self.rules_for_keyword[found.pattern().as_usize()] {
                hits.push(Hit {
                    rule,
                    start: found.start(),
                    end: found.end(),
                });
            }
        }
    }
}
