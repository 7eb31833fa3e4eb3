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
pub(crate) struct Hit {
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

/// A handful of rare keywords searched over whole blobs (the spread rules' keywords in history,
/// see `Matcher::scan_lines`). aho-corasick has no SIMD prefilter for case-insensitive search,
/// and a DFA walk reads every byte at ~500 MB/s; so the blob is lower-cased into a reused buffer
/// (vectorised, several GB/s) and searched case-sensitively with the packed (Teddy) searcher.
pub(crate) struct SparseKeywords {
    searcher: Option<aho_corasick::packed::Searcher>,
    /// Fallback where Teddy is unavailable (no SIMD, too many keywords).
    automaton: AhoCorasick,
    keywords: Vec<Vec<u8>>,
    rules_for_keyword: Vec<Vec<u32>>,
    /// For each keyword, the other keywords that are its prefixes: a leftmost-longest search
    /// reports only the longest keyword starting at a position.
    prefixes: Vec<Vec<usize>>,
}

impl SparseKeywords {
    pub fn build(rules: &[RuleSpec]) -> Result<SparseKeywords, MatcherBuildError> {
        let mut keywords: Vec<Vec<u8>> = Vec::new();
        let mut rules_for_keyword: Vec<Vec<u32>> = Vec::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            for keyword in &rule.keywords {
                let folded = keyword.as_bytes().to_ascii_lowercase();
                match keywords.iter().position(|known| *known == folded) {
                    Some(slot) => {
                        if !rules_for_keyword[slot].contains(&(rule_index as u32)) {
                            rules_for_keyword[slot].push(rule_index as u32);
                        }
                    }
                    None => {
                        keywords.push(folded);
                        rules_for_keyword.push(vec![rule_index as u32]);
                    }
                }
            }
        }
        let prefixes = keywords
            .iter()
            .map(|keyword| {
                (0..keywords.len())
                    .filter(|&other| {
                        keywords[other].len() < keyword.len()
                            && keyword.starts_with(&keywords[other])
                    })
                    .collect()
            })
            .collect();
        let searcher = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(&keywords)
            .build();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .map_err(|error| MatcherBuildError {
                message: error.to_string(),
            })?;
        Ok(SparseKeywords {
            searcher,
            automaton,
            keywords,
            rules_for_keyword,
            prefixes,
        })
    }

    /// Appends (does not clear) every keyword occurrence in `haystack` to `hits`; `lowered` is
    /// per-thread scratch space.
    pub fn find_hits(&self, haystack: &[u8], lowered: &mut Vec<u8>, hits: &mut Vec<Hit>) {
        lowered.clear();
        lowered.extend(haystack.iter().map(u8::to_ascii_lowercase));
        let push = |pattern: usize, start: usize, hits: &mut Vec<Hit>| {
            for &rule in &self.rules_for_keyword[pattern] {
                hits.push(Hit {
                    rule,
                    start,
                    end: start + self.keywords[pattern].len(),
                });
            }
        };
        let Some(searcher) = &self.searcher else {
            for found in self.automaton.find_overlapping_iter(lowered.as_slice()) {
                push(found.pattern().as_usize(), found.start(), hits);
            }
            return;
        };
        let mut from = 0;
        while from < lowered.len() {
            let Some(found) = searcher.find_in(
                lowered.as_slice(),
                aho_corasick::Span::from(from..lowered.len()),
            ) else {
                break;
            };
            let pattern = found.pattern().as_usize();
            push(pattern, found.start(), hits);
            for &shorter in &self.prefixes[pattern] {
                push(shorter, found.start(), hits);
            }
            // Overlapping occurrences start later: go on from the next byte, not the end.
            from = found.start() + 1;
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
