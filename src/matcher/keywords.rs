//! The keyword pass: one Aho-Corasick DFA over every rule's keywords (ASCII case-insensitive),
//! turning a blob into (rule, position) hits. This is the only stage that touches every byte, so
//! keywords are deduplicated and the automaton is a DFA (the prefilter can cost more than
//! inflating the blob; see docs/ARCHITECTURE.md).
//!
//! A DFA walk is one dependent table load per byte: it runs at the latency of an L1 load
//! (~540 MB/s here), not at the machine's throughput. So a long haystack is cut into `LANES`
//! segments walked in lockstep, each step advancing every lane by one byte: the loads are
//! independent and overlap. Each lane starts `max keyword length - 1` bytes before its segment
//! so a keyword straddling a cut is still seen whole, and reports only hits that end inside its
//! own segment, so nothing is reported twice.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, Anchored, MatchKind, StartKind};

use crate::error::MatcherBuildError;
use crate::rules::model::RuleSpec;

/// Segments walked in lockstep. History scan of the 40,000-commit synthetic repository
/// (hyperfine, same session): 2 lanes 2.77 s, 4 lanes 2.64 s, 8 lanes 2.74 s; one lane 3.34 s.
pub(crate) const LANES: usize = 4;
/// Shorter haystacks are walked as one lane: the split is not worth it.
const MIN_INTERLEAVED_LEN: usize = 4096;

/// A keyword occurrence, expanded to one entry per rule that lists the keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub rule: u32,
    pub start: usize,
    pub end: usize,
}

enum Engine {
    /// The DFA and its unanchored start state.
    Dfa(Box<DFA>, StateID),
    /// A keyword set too large for the DFA's size limit: the contiguous NFA is slower but has
    /// no such limit.
    Nfa(AhoCorasick),
}

pub(crate) struct KeywordIndex {
    engine: Engine,
    /// For each distinct keyword (automaton pattern id), the rules that list it.
    rules_for_keyword: Vec<Vec<u32>>,
    longest_keyword: usize,
}

/// One lane: where it starts walking, where its own segment starts (hits ending at or before
/// it belong to the previous lane) and where it stops.
#[derive(Clone, Copy)]
struct Lane {
    walk_from: usize,
    segment_start: usize,
    end: usize,
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
        let longest_keyword = keywords.iter().map(Vec::len).max().unwrap_or(0);
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            // The walk below never consults a prefilter: with one, start states become
            // "special" and would only cost a branch.
            .prefilter(false)
            .build(&keywords);
        let dfa = dfa.ok().and_then(|dfa| {
            let start = dfa.start_state(Anchored::No).ok()?;
            Some((dfa, start))
        });
        let engine = match dfa {
            Some((dfa, start)) => Engine::Dfa(Box::new(dfa), start),
            None => Engine::Nfa(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
                    .map_err(|error| MatcherBuildError {
                        message: error.to_string(),
                    })?,
            ),
        };
        Ok(KeywordIndex {
            engine,
            rules_for_keyword,
            longest_keyword,
        })
    }

    pub fn longest_keyword(&self) -> usize {
        self.longest_keyword
    }

    /// Fills `hits` (cleared first) with every keyword occurrence, overlapping ones included,
    /// in order of their end. `lanes` is per-thread scratch space.
    pub fn find_hits(&self, haystack: &[u8], hits: &mut Vec<Hit>, lanes: &mut [Vec<Hit>; LANES]) {
        hits.clear();
        let (dfa, start) = match &self.engine {
            Engine::Dfa(dfa, start) => (dfa, *start),
            Engine::Nfa(automaton) => {
                for found in automaton.find_overlapping_iter(haystack) {
                    self.push_hits(found.pattern().as_usize(), found.start(), found.end(), hits);
                }
                return;
            }
        };
        let overlap = self.longest_keyword.saturating_sub(1);
        let segment = haystack.len() / LANES;
        if haystack.len() < MIN_INTERLEAVED_LEN || segment <= overlap {
            let whole = Lane {
                walk_from: 0,
                segment_start: 0,
                end: haystack.len(),
            };
            self.walk_one(dfa, haystack, whole, start, hits);
            return;
        }
        let lane = |index: usize| {
            let segment_start = index * segment;
            Lane {
                walk_from: segment_start.saturating_sub(overlap),
                segment_start,
                end: if index + 1 == LANES {
                    haystack.len()
                } else {
                    segment_start + segment
                },
            }
        };
        let plan: [Lane; LANES] = std::array::from_fn(lane);
        for buffer in lanes.iter_mut() {
            buffer.clear();
        }
        // Lockstep over the length every lane has (the first lane's), then each lane alone.
        let common = plan[0].end - plan[0].walk_from;
        let mut states = [start; LANES];
        for step in 0..common {
            for (index, state) in states.iter_mut().enumerate() {
                let at = plan[index].walk_from + step;
                *state = dfa.next_state(Anchored::No, *state, haystack[at]);
                if dfa.is_special(*state) && dfa.is_match(*state) && at >= plan[index].segment_start
                {
                    self.push_match(dfa, *state, at + 1, &mut lanes[index]);
                }
            }
        }
        for (index, buffer) in lanes.iter_mut().enumerate() {
            let rest = Lane {
                walk_from: plan[index].walk_from + common,
                ..plan[index]
            };
            self.walk_one(dfa, haystack, rest, states[index], buffer);
            hits.append(buffer);
        }
    }

    /// Walks `lane` from `state` alone, reporting hits that end inside its segment.
    fn walk_one(
        &self,
        dfa: &DFA,
        haystack: &[u8],
        lane: Lane,
        mut state: StateID,
        out: &mut Vec<Hit>,
    ) {
        for (at, &byte) in haystack
            .iter()
            .enumerate()
            .take(lane.end)
            .skip(lane.walk_from)
        {
            state = dfa.next_state(Anchored::No, state, byte);
            if dfa.is_special(state) && dfa.is_match(state) && at >= lane.segment_start {
                self.push_match(dfa, state, at + 1, out);
            }
        }
    }

    /// Every keyword that ends at `end` in match state `state`.
    fn push_match(&self, dfa: &DFA, state: StateID, end: usize, out: &mut Vec<Hit>) {
        for index in 0..dfa.match_len(state) {
            let pattern = dfa.match_pattern(state, index);
            let start = end - dfa.pattern_len(pattern);
            self.push_hits(pattern.as_usize(), start, end, out);
        }
    }

    fn push_hits(&self, pattern: usize, start: usize, end: usize, out: &mut Vec<Hit>) {
        for &rule in &self.rules_for_keyword[pattern] {
            out.push(Hit { rule, start, end });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, keywords: &[&str]) -> RuleSpec {
        let text = format!(
            "id = {id:?}\nname = \"n\"\nprovider = \"p\"\nseverity = \"low\"\n\
             keywords = {keywords:?}\nregex = '(?P<secret>x)'\nremediation = \"r\"\n"
        );
        toml::from_str(&text).expect("test rule parses")
    }

    /// The reference: aho-corasick's own overlapping search over the same keywords.
    fn reference(rules: &[RuleSpec], haystack: &[u8]) -> Vec<Hit> {
        let mut keywords: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<u32> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for keyword in &rule.keywords {
                keywords.push(keyword.to_ascii_lowercase().into_bytes());
                owners.push(index as u32);
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .unwrap();
        let mut hits: Vec<Hit> = automaton
            .find_overlapping_iter(haystack)
            .map(|found| Hit {
                rule: owners[found.pattern().as_usize()],
                start: found.start(),
                end: found.end(),
            })
            .collect();
        hits.sort();
        hits
    }

    #[test]
    fn interleaved_walk_finds_exactly_what_a_plain_search_finds() {
        let rules = vec![
            rule("a", &["token", "ghp_"]),
            rule("b", &["api_key", "key"]),
            rule("c", &["BEGIN RSA PRIVATE KEY", "ghp_"]),
        ];
        let index = KeywordIndex::build(&rules).unwrap();
        let mut lanes: [Vec<Hit>; LANES] = Default::default();
        let mut hits = Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 6] = [
            b"Token",
            b"ghp_",
            b"API_KEY",
            b"begin rsa private key",
            b"xy",
            b"\n",
        ];
        for round in 0..300 {
            let length = match round % 3 {
                0 => (next() % 64) as usize,
                1 => 4096 + (next() % 64) as usize,
                _ => (next() % 40_000) as usize,
            };
            let mut haystack = Vec::with_capacity(length + 32);
            while haystack.len() < length {
                if next() % 4 == 0 {
                    haystack.extend_from_slice(pieces[(next() % 6) as usize]);
                } else {
                    haystack.push(b'a' + (next() % 26) as u8);
                }
            }
            // Keywords straddling every lane cut.
            let segment = haystack.len() / LANES;
            for cut in 1..LANES {
                let at = (cut * segment).saturating_sub(3);
                if at + 7 <= haystack.len() {
                    haystack[at..at + 7].copy_from_slice(b"api_key");
                }
            }
            index.find_hits(&haystack, &mut hits, &mut lanes);
            let mut found = hits.clone();
            found.sort();
            // Equal as sorted lists: a hit reported twice (by two lanes) fails too.
            assert_eq!(found, reference(&rules, &haystack), "round {round}");
        }
    }
}
