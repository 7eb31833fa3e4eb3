//! The matcher: every rule compiled once into one keyword automaton plus lazily compiled
//! regexes, shared read-only by all threads. `scan` takes bytes and per-thread scratch space and
//! returns raw matches (rule index and secret span). This tree knows bytes only: no paths, no
//! git, no output formats.

mod checksum;
mod confirm;
mod entropy;
pub mod examples;
mod keywords;
mod placeholder;

use std::sync::OnceLock;

use regex::bytes::{CaptureLocations, Regex};

pub use entropy::shannon_entropy;
pub use placeholder::{looks_like_identifier, looks_like_placeholder};

use crate::error::MatcherBuildError;
use crate::rules::model::{Confidence, RuleSpec};
use crate::rules::validate::{compile_byte_class, compile_rule_regex};

/// One confirmed candidate: which rule, where the secret is, and how sure we are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawMatch {
    pub rule_index: usize,
    /// Byte span of the `secret` group within the scanned bytes.
    pub start: usize,
    pub end: usize,
    pub entropy: f64,
    pub confidence: Confidence,
    /// The secret is a value its provider publishes in its documentation (`documented_samples`):
    /// reported to suppression, which drops and counts it.
    pub documented_sample: bool,
}

/// Facts about providers that hold whichever rules a run enables (a run of only the generic
/// rules must still skip a publishable key): gathered from every loaded rule.
#[derive(Debug, Default, Clone)]
pub struct ProviderFacts {
    pub public_forms: Vec<String>,
    pub documented_samples: Vec<String>,
}

impl ProviderFacts {
    pub fn of<'r>(rules: impl IntoIterator<Item = &'r RuleSpec>) -> ProviderFacts {
        let mut facts = ProviderFacts::default();
        for rule in rules {
            facts.public_forms.extend(rule.public_forms.iter().cloned());
            facts
                .documented_samples
                .extend(rule.documented_samples.iter().cloned());
        }
        facts
    }
}

/// What a rule's confirmation needs that costs something to build.
struct CompiledParts {
    regex: Regex,
    secret_group: usize,
    /// `secret_must_contain`, as byte sets.
    must_contain: Vec<[bool; 256]>,
}

/// A rule's regex, compiled on first use: a pre-commit run over a small diff only pays for the
/// handful of rules whose keywords occur.
struct LazyRegex {
    compiled: OnceLock<Option<CompiledParts>>,
}

impl LazyRegex {
    /// `None` only if the rule does not compile, which validation rules out before a matcher
    /// is built; such a rule then never fires rather than aborting a scan.
    fn get(&self, rule: &RuleSpec) -> Option<&CompiledParts> {
        self.compiled
            .get_or_init(|| {
                let regex = compile_rule_regex(&rule.regex).ok()?;
                let secret_group = regex
                    .capture_names()
                    .position(|name| name == Some("secret"))?;
                let must_contain = rule
                    .secret_must_contain
                    .iter()
                    .map(|class| compile_byte_class(class))
                    .collect::<Result<_, _>>()
                    .ok()?;
                Some(CompiledParts {
                    regex,
                    secret_group,
                    must_contain,
                })
            })
            .as_ref()
    }
}

/// All rules, compiled. Cheap to build (no regex is compiled until needed).
pub struct Matcher {
    rules: Vec<RuleSpec>,
    regexes: Vec<LazyRegex>,
    keywords: keywords::KeywordIndex,
    locality: Locality,
    /// Values public by design (`RuleSpec::public_forms`), which generic rules skip.
    public_forms: regex::bytes::RegexSet,
    /// Values providers publish in their documentation (`RuleSpec::documented_samples`).
    documented_samples: std::collections::HashSet<Box<[u8]>>,
}

/// Which rules are line-local: no reach before or after the keyword, so a window never leaves
/// the keyword's line and what a line yields depends on its text alone (and on being the first
/// line, for a `^` that means "start of the blob"). History reuses their findings for lines an
/// earlier version of the file already had (`scan_lines`). The other rules ("spread": context
/// rules, PEM blocks, credential-file sections) are confirmed over the whole blob, from keyword
/// hits that are themselves line-local as long as no keyword holds a line break.
struct Locality {
    is_local: Vec<bool>,
    /// False when a keyword holds a line break: then nothing is line-local and no line reused.
    line_reuse: bool,
}

/// A keyword occurrence (one per rule listing the keyword).
pub use keywords::Hit as KeywordHit;

/// Bytes of keyword pass gathered before their hits are confirmed (see `match_range`): a
/// quarter megabyte of a keyword repeated every 8 bytes is 32,768 occurrences, times the rules
/// listing the keyword, at 24 bytes a hit.
const SEGMENT: usize = 256 * 1024;

/// The largest file a whole-file rule reads: files known by their name that hold a secret (a
/// vault password, a master key) are a few bytes to a few kilobytes.
pub const WHOLE_FILE_LIMIT: usize = 64 * 1024;

/// Spread rules' hits `scan_lines` sets aside to confirm together with those of known lines;
/// past this many (a blob dense with such keywords), later segments confirm their own, and
/// `spread_hits` no longer lists every hit (`spread_hits_complete` says so).
const MAX_SPREAD_ASIDE: usize = 65_536;

/// Per-thread working memory, reused blob after blob so the hot path does not allocate.
pub struct Scratch {
    hits: Vec<keywords::Hit>,
    /// Per-lane hit buffers of the interleaved keyword walk.
    lanes: [Vec<keywords::Hit>; keywords::LANES],
    /// `hits` regrouped by rule (counting sort), each group in start order.
    by_rule: Vec<keywords::Hit>,
    bucket_ends: Vec<usize>,
    locations: Vec<Option<CaptureLocations>>,
    matches: Vec<RawMatch>,
    /// Spans of spread rules' matches before overlaps were resolved (see `spread_spans`).
    spread_spans: Vec<(usize, usize)>,
    /// Spread rules' keyword hits of the last scan.
    spread_hits: Vec<keywords::Hit>,
    /// Per rule: left out of scans with this scratch until changed (`exclude_rules`).
    excluded: Vec<bool>,
    any_excluded: bool,
    /// The rules set in `excluded`, so the next call clears only those.
    excluded_list: Vec<usize>,
}

impl Matcher {
    /// A matcher knowing the provider facts of these rules.
    pub fn new(rules: Vec<RuleSpec>) -> Result<Matcher, MatcherBuildError> {
        let facts = ProviderFacts::of(&rules);
        Matcher::with_provider_facts(rules, &facts)
    }

    /// A matcher for some rules that knows the provider facts of more (all loaded rules, before
    /// `--rule`, `--exclude-rule` and `disabled_rules` chose these).
    pub fn with_provider_facts(
        rules: Vec<RuleSpec>,
        facts: &ProviderFacts,
    ) -> Result<Matcher, MatcherBuildError> {
        let documented_samples = facts
            .documented_samples
            .iter()
            .map(|sample| sample.as_bytes().into())
            .collect();
        let public_forms = regex::bytes::RegexSetBuilder::new(&facts.public_forms)
            .unicode(false)
            .build()
            .map_err(|error| MatcherBuildError {
                message: format!("public_forms: {error}"),
            })?;
        let keywords = keywords::KeywordIndex::build(&rules)?;
        let regexes = rules
            .iter()
            .map(|_| LazyRegex {
                compiled: OnceLock::new(),
            })
            .collect();
        let locality = Locality {
            // A whole-file rule's window is the file: never line-local.
            is_local: rules
                .iter()
                .map(|rule| {
                    rule.reach_before == 0 && rule.reach_after == 0 && !rule.keywords.is_empty()
                })
                .collect(),
            line_reuse: rules
                .iter()
                .all(|rule| rule.keywords.iter().all(|keyword| !keyword.contains('\n'))),
        };
        Ok(Matcher {
            rules,
            regexes,
            keywords,
            locality,
            public_forms,
            documented_samples,
        })
    }

    /// `scan` for a later version of a file whose other lines an earlier version had: the
    /// keyword pass reads only `runs` (whole lines, in order). Line-local rules are matched
    /// there; matches of line-local rules on the other lines are the caller's to add (then
    /// `resolve_overlaps`). Spread rules are confirmed over the whole blob from their hits in
    /// `runs` plus `known_spread_hits` (their hits on the other lines). Afterwards
    /// `spread_hits` holds the spread rules' hits found in `runs`.
    pub fn scan_lines<'s>(
        &self,
        haystack: &[u8],
        runs: &[std::ops::Range<usize>],
        known_spread_hits: &[KeywordHit],
        scratch: &'s mut Scratch,
    ) -> &'s [RawMatch] {
        scratch.matches.clear();
        scratch.spread_hits.clear();
        for run in runs {
            self.match_range(haystack, run.clone(), scratch, true);
        }
        // Spread rules' hits, from the runs and from known lines, confirmed together so their
        // windows merge as in a whole scan.
        let Scratch {
            hits,
            by_rule,
            bucket_ends,
            locations,
            matches,
            spread_hits,
            ..
        } = scratch;
        hits.clear();
        hits.extend_from_slice(spread_hits);
        hits.extend_from_slice(known_spread_hits);
        self.confirm_hits(haystack, hits, by_rule, bucket_ends, locations, matches);
        self.finish(scratch);
        &scratch.matches
    }

    /// Whether versions of a file may reuse what line-local rules found on lines they share.
    pub fn supports_line_reuse(&self) -> bool {
        self.locality.line_reuse
    }

    /// The spread rules' keyword hits `scan_lines` found in its runs.
    pub fn spread_hits<'s>(&self, scratch: &'s Scratch) -> &'s [KeywordHit] {
        &scratch.spread_hits
    }

    /// False when `scan_lines` met too many spread hits to list them all: what the blob's
    /// lines yielded is then not known line by line.
    pub fn spread_hits_complete(&self, scratch: &Scratch) -> bool {
        scratch.spread_hits.len() < MAX_SPREAD_ASIDE
    }

    /// Whether rule `index` is line-local (see `Locality`).
    pub fn is_line_local(&self, index: usize) -> bool {
        self.locality.is_local[index]
    }

    /// Spans of every spread rule's match in the last scan, before overlaps were resolved: the
    /// lines they touch are not line-local in what they yield.
    pub fn spread_spans<'s>(&self, scratch: &'s Scratch) -> &'s [(usize, usize)] {
        &scratch.spread_spans
    }

    pub fn rule(&self, index: usize) -> &RuleSpec {
        &self.rules[index]
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            hits: Vec::new(),
            lanes: Default::default(),
            by_rule: Vec::new(),
            bucket_ends: Vec::new(),
            locations: (0..self.rules.len()).map(|_| None).collect(),
            matches: Vec::new(),
            spread_spans: Vec::new(),
            spread_hits: Vec::new(),
            excluded: vec![false; self.rules.len()],
            any_excluded: false,
            excluded_list: Vec::new(),
        }
    }

    /// Leaves `rules` out of the following scans with `scratch` (and takes back any left out
    /// before): their keyword hits are dropped before confirmation, so a rule that does not
    /// apply to a file (its `paths` do not admit it) neither reports there nor wins an overlap
    /// against a rule that does.
    pub fn exclude_rules(&self, scratch: &mut Scratch, rules: impl Iterator<Item = usize>) {
        for rule in scratch.excluded_list.drain(..) {
            scratch.excluded[rule] = false;
        }
        for rule in rules {
            if let Some(flag) = scratch.excluded.get_mut(rule) {
                *flag = true;
                scratch.excluded_list.push(rule);
            }
        }
        scratch.any_excluded = !scratch.excluded_list.is_empty();
    }

    /// `scan`, plus rules that read the whole file (`whole_file`: indices of rules without
    /// keywords, which apply to files known by their name; the caller knows the name). A file
    /// larger than `WHOLE_FILE_LIMIT` is not read whole.
    pub fn scan_whole_file<'s>(
        &self,
        haystack: &[u8],
        whole_file: &[usize],
        scratch: &'s mut Scratch,
    ) -> &'s [RawMatch] {
        scratch.matches.clear();
        scratch.spread_hits.clear();
        self.match_range(haystack, 0..haystack.len(), scratch, false);
        if haystack.len() <= WHOLE_FILE_LIMIT {
            for &rule_index in whole_file {
                let Some(rule) = self.rules.get(rule_index) else {
                    continue;
                };
                let Some(parts) = self.regexes[rule_index].get(rule) else {
                    continue;
                };
                // The per-thread capture buffers `scan` uses: nothing allocated per file.
                let locations = scratch.locations[rule_index]
                    .get_or_insert_with(|| parts.regex.capture_locations());
                confirm::confirm_whole(
                    self.compiled(rule_index, rule, parts),
                    haystack,
                    locations,
                    &mut scratch.matches,
                );
            }
        }
        self.finish(scratch);
        &scratch.matches
    }

    /// What confirmation needs of one rule whose regex is compiled.
    fn compiled<'a>(
        &'a self,
        index: usize,
        spec: &'a RuleSpec,
        parts: &'a CompiledParts,
    ) -> confirm::CompiledRule<'a> {
        confirm::CompiledRule {
            index,
            spec,
            regex: &parts.regex,
            secret_group: parts.secret_group,
            must_contain: &parts.must_contain,
            public_forms: &self.public_forms,
            documented_samples: &self.documented_samples,
        }
    }

    /// Rules that read whole files (no keywords; they apply by path).
    pub fn is_whole_file(&self, index: usize) -> bool {
        self.rules
            .get(index)
            .is_some_and(|rule| rule.keywords.is_empty())
    }

    /// Finds every secret in `haystack`. Matches come back sorted by position, with overlaps
    /// between rules resolved in favour of the more specific rule.
    pub fn scan<'s>(&self, haystack: &[u8], scratch: &'s mut Scratch) -> &'s [RawMatch] {
        self.scan_whole_file(haystack, &[], scratch)
    }

    /// The keyword pass and regex confirmation over `range`, a segment at a time: hits are
    /// gathered and confirmed per `SEGMENT`, so their memory stays bounded however many
    /// keywords a blob holds (a 40 MB line of `token=a;` once took 1.8 GB of hits). Segments end
    /// at a line break where one is near, and each walk starts a keyword's length early so a
    /// keyword across a cut is seen once. Matches are appended; with `set_spread_aside` the
    /// spread rules' hits are not confirmed but moved to `spread_hits`.
    fn match_range(
        &self,
        haystack: &[u8],
        range: std::ops::Range<usize>,
        scratch: &mut Scratch,
        set_spread_aside: bool,
    ) {
        let Scratch {
            hits,
            lanes,
            by_rule,
            bucket_ends,
            locations,
            matches,
            spread_hits,
            excluded,
            any_excluded,
            ..
        } = scratch;
        let overlap = self.keywords.longest_keyword().saturating_sub(1);
        let mut segment_start = range.start;
        while segment_start < range.end {
            let mut segment_end = (segment_start + SEGMENT).min(range.end);
            if segment_end < range.end {
                let tail_from = segment_end - SEGMENT / 4;
                if let Some(at) = memchr::memrchr(b'\n', &haystack[tail_from..segment_end]) {
                    segment_end = tail_from + at + 1;
                }
            }
            let walk_from = segment_start.saturating_sub(overlap).max(range.start);
            self.keywords
                .find_hits(&haystack[walk_from..segment_end], hits, lanes);
            hits.retain_mut(|hit| {
                hit.start += walk_from;
                hit.end += walk_from;
                // Hits ending at or before the cut were the previous segment's.
                hit.end > segment_start && !(*any_excluded && excluded[hit.rule as usize])
            });
            if set_spread_aside && spread_hits.len() < MAX_SPREAD_ASIDE {
                let is_local = &self.locality.is_local;
                spread_hits.extend(hits.iter().filter(|hit| !is_local[hit.rule as usize]));
                hits.retain(|hit| is_local[hit.rule as usize]);
            }
            self.confirm_hits(haystack, hits, by_rule, bucket_ends, locations, matches);
            segment_start = segment_end;
        }
    }

    /// After confirmation: notes the spread rules' matches, then resolves overlaps (which
    /// also drops the same match found from two segments).
    fn finish(&self, scratch: &mut Scratch) {
        let Scratch {
            matches,
            spread_spans,
            ..
        } = scratch;
        spread_spans.clear();
        spread_spans.extend(
            matches
                .iter()
                .filter(|found| !self.locality.is_local[found.rule_index])
                .map(|found| (found.start, found.end)),
        );
        resolve_overlaps(matches, &self.rules);
    }

    /// Regex confirmation of keyword hits (any order), appended to `matches`.
    fn confirm_hits(
        &self,
        haystack: &[u8],
        hits: &[keywords::Hit],
        by_rule: &mut Vec<keywords::Hit>,
        bucket_ends: &mut Vec<usize>,
        locations: &mut [Option<CaptureLocations>],
        matches: &mut Vec<RawMatch>,
    ) {
        if hits.is_empty() {
            return;
        }
        bucket_by_rule(hits, by_rule, bucket_ends, self.rules.len());
        let hits = &*by_rule;
        let mut group_start = 0;
        while group_start < hits.len() {
            let rule_index = hits[group_start].rule as usize;
            let group_end = group_start
                + hits[group_start..]
                    .iter()
                    .take_while(|hit| hit.rule as usize == rule_index)
                    .count();
            let rule = &self.rules[rule_index];
            if let Some(parts) = self.regexes[rule_index].get(rule) {
                let locs =
                    locations[rule_index].get_or_insert_with(|| parts.regex.capture_locations());
                confirm::confirm_rule(
                    self.compiled(rule_index, rule, parts),
                    haystack,
                    &hits[group_start..group_end],
                    locs,
                    matches,
                );
            }
            group_start = group_end;
        }
    }

    /// Resolves overlaps in a mix of matches (kept from an earlier version and new ones) the
    /// way `scan` does.
    pub fn resolve_overlaps(&self, matches: &mut Vec<RawMatch>) {
        resolve_overlaps(matches, &self.rules);
    }
}

/// Groups hits by rule, ordered by start within each rule. Many hits: a counting sort (hits
/// arrive in position order, so each group comes out nearly sorted by start and the final
/// per-group sort is close to linear); a comparison sort of all hits by (rule, start) was a
/// sixth of the matcher's time on keyword-dense text. Few hits: that comparison sort, since the
/// counting sort's passes over every rule's bucket cost more than sorting a handful of hits; in
/// history, where only the lines each version adds are matched, most calls have a handful.
fn bucket_by_rule(
    hits: &[keywords::Hit],
    by_rule: &mut Vec<keywords::Hit>,
    bucket_ends: &mut Vec<usize>,
    rule_count: usize,
) {
    if hits.len() < rule_count / 4 {
        by_rule.clear();
        by_rule.extend_from_slice(hits);
        by_rule.sort_unstable_by_key(|hit| (hit.rule, hit.start));
        return;
    }
    bucket_ends.clear();
    bucket_ends.resize(rule_count + 1, 0);
    for hit in hits {
        bucket_ends[hit.rule as usize + 1] += 1;
    }
    for index in 1..bucket_ends.len() {
        bucket_ends[index] += bucket_ends[index - 1];
    }
    by_rule.clear();
    by_rule.resize(
        hits.len(),
        keywords::Hit {
            rule: 0,
            start: 0,
            end: 0,
        },
    );
    // `bucket_ends[rule]` is now where the rule's group starts; advance it while filling.
    for hit in hits {
        let slot = &mut bucket_ends[hit.rule as usize];
        by_rule[*slot] = *hit;
        *slot += 1;
    }
    let mut group_start = 0;
    for &group_end in bucket_ends.iter().take(rule_count) {
        by_rule[group_start..group_end].sort_unstable_by_key(|hit| hit.start);
        group_start = group_end;
    }
}

/// Two rules matching the same bytes describe one credential: keep the more specific rule
/// (higher confidence, then higher severity, then the longer secret, then the earlier rule).
fn resolve_overlaps(matches: &mut Vec<RawMatch>, rules: &[RuleSpec]) {
    if matches.len() < 2 {
        return;
    }
    matches.sort_unstable_by_key(|m| (m.start, std::cmp::Reverse(m.end), m.rule_index));
    let rank = |m: &RawMatch| {
        (
            m.confidence,
            rules[m.rule_index].severity,
            m.end - m.start,
            std::cmp::Reverse(m.rule_index),
        )
    };
    let mut kept: usize = 0;
    for next in 1..matches.len() {
        let candidate = matches[next];
        let last = matches[kept];
        if candidate.start < last.end {
            if rank(&candidate) > rank(&last) {
                matches[kept] = candidate;
            }
        } else {
            kept += 1;
            matches[kept] = candidate;
        }
    }
    matches.truncate(kept + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_grouped_by_rule_then_start_whether_few_or_many() {
        let rule_count = 40;
        // Hits in position order, as the keyword pass yields them, rules interleaved; a few
        // (comparison sort) and many (counting sort).
        for count in [3usize, 9, 200] {
            let hits: Vec<keywords::Hit> = (0..count)
                .map(|n| keywords::Hit {
                    rule: ((n * 7 + 3) % rule_count) as u32,
                    start: n * 5 + (n % 3),
                    end: n * 5 + 8,
                })
                .collect();
            let mut expected: Vec<(u32, usize)> =
                hits.iter().map(|hit| (hit.rule, hit.start)).collect();
            expected.sort_unstable();
            let (mut by_rule, mut bucket_ends) = (Vec::new(), Vec::new());
            bucket_by_rule(&hits, &mut by_rule, &mut bucket_ends, rule_count);
            let got: Vec<(u32, usize)> = by_rule.iter().map(|hit| (hit.rule, hit.start)).collect();
            assert_eq!(got, expected, "{count} hits");
        }
    }

    /// A rule from its TOML keys (id, name, provider and remediation filled in).
    fn rule(id: &str, extra: &str) -> RuleSpec {
        let text = format!(
            "id = {id:?}\nname = \"n\"\nprovider = \"p\"\nremediation = \"r\"\n\
             placeholder_filter = false\n{extra}"
        );
        toml::from_str(&text).expect("test rule parses")
    }

    /// (rule id, secret) of every match.
    fn found(matcher: &Matcher, haystack: &str) -> Vec<(String, String)> {
        let mut scratch = matcher.scratch();
        matcher
            .scan(haystack.as_bytes(), &mut scratch)
            .iter()
            .map(|found| {
                (
                    matcher.rule(found.rule_index).id.clone(),
                    haystack[found.start..found.end].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn a_window_is_the_keyword_line_unless_the_rule_reaches_further() {
        let line_only = rule(
            "line-only",
            "severity = \"high\"\nkeywords = [\"acme\"]\n\
             regex = '''acme[^\\n]*\\n?key=(?P<secret>[a-z0-9]{12})'''\n",
        );
        let reaching = rule(
            "reaching",
            "severity = \"high\"\nkeywords = [\"zeta\"]\nreach_after = 40\n\
             regex = '''zeta\\s*\\nkey=(?P<secret>[a-z0-9]{12})'''\n",
        );
        let matcher = Matcher::new(vec![line_only, reaching]).expect("rules build");
        // The secret on the line after the keyword: only the rule with a reach sees it.
        assert_eq!(found(&matcher, "acme\nkey=k3j5h7g9f1d2\n"), []);
        assert_eq!(
            found(&matcher, "zeta\nkey=k3j5h7g9f1d2\n"),
            [("reaching".to_string(), "k3j5h7g9f1d2".to_string())]
        );
    }

    #[test]
    fn on_a_line_without_breaks_a_window_stops_a_kibibyte_past_the_keyword() {
        let spec = rule(
            "far",
            "severity = \"high\"\nkeywords = [\"acme\"]\n\
             regex = '''acme[ ]*:[ ]*(?P<secret>[a-z0-9]{12})'''\n",
        );
        let matcher = Matcher::new(vec![spec]).expect("rules build");
        let near = format!("acme:{}k3j5h7g9f1d2", " ".repeat(100));
        assert_eq!(found(&matcher, &near).len(), 1);
        let beyond = format!("acme:{}k3j5h7g9f1d2", " ".repeat(confirm::LINE_REACH + 10));
        assert_eq!(found(&matcher, &beyond), []);
    }

    #[test]
    fn overlapping_matches_keep_the_more_specific_rule() {
        let generic = |id: &str, confidence: &str, severity: &str| {
            rule(
                id,
                &format!(
                    "severity = {severity:?}\nconfidence = {confidence:?}\nkeywords = [\"key\"]\n\
                     regex = '''key=(?P<secret>[A-Za-z0-9_]{{8,40}})'''\n"
                ),
            )
        };
        let specific = rule(
            "specific",
            "severity = \"medium\"\nconfidence = \"high\"\nkeywords = [\"key\"]\n\
             regex = '''key=(?P<secret>ab_[A-Za-z0-9]{10})'''\n",
        );
        let line = "key=ab_k3J5h7G9f1";
        // Confidence beats severity and length.
        let matcher = Matcher::new(vec![
            generic("generic", "low", "critical"),
            specific.clone(),
        ])
        .expect("rules build");
        assert_eq!(
            found(&matcher, line),
            [("specific".to_string(), "ab_k3J5h7G9f1".to_string())]
        );
        // Same confidence: severity decides.
        let matcher = Matcher::new(vec![
            generic("generic", "high", "critical"),
            specific.clone(),
        ])
        .expect("rules build");
        assert_eq!(found(&matcher, line)[0].0, "generic");
        // All equal: the longer secret, then the earlier rule.
        let matcher = Matcher::new(vec![
            generic("first", "high", "medium"),
            generic("second", "high", "medium"),
        ])
        .expect("rules build");
        assert_eq!(found(&matcher, line)[0].0, "first");
        // Matches that do not overlap are all kept.
        let matcher = Matcher::new(vec![specific]).expect("rules build");
        assert_eq!(
            found(&matcher, "key=ab_k3J5h7G9f1 key=ab_p0O9i8U7y6").len(),
            2
        );
    }
}
