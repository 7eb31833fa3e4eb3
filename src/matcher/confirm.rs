//! The regex stage: for one rule, run its regex only over windows around that rule's keyword
//! hits, never over the whole blob. A window is the hit's line (stretched by the rule's
//! `reach_before`/`reach_after`), capped at `LINE_REACH` bytes beyond the reach on very long
//! lines, so a minified 200 MB line costs time linear in its length. Overlapping windows are
//! merged, so each byte is searched at most once per rule.

use memchr::{memchr, memrchr};
use regex::bytes::{CaptureLocations, Regex};

use super::keywords::Hit;
use super::{checksum, entropy, placeholder, RawMatch};
use crate::rules::model::{Confidence, RuleSpec};

/// How far past the reach a window may extend when no line break is found: long enough for
/// any token plus its assignment, short enough to keep minified files linear.
pub(crate) const LINE_REACH: usize = 1024;

pub(crate) struct CompiledRule<'a> {
    pub index: usize,
    pub spec: &'a RuleSpec,
    pub regex: &'a Regex,
    pub secret_group: usize,
    pub must_contain: &'a [[bool; 256]],
    /// Every loaded rule's `public_forms`, for low-confidence rules.
    pub public_forms: &'a regex::bytes::RegexSet,
    /// Every loaded rule's `documented_samples`.
    pub documented_samples: &'a std::collections::HashSet<Box<[u8]>>,
}

/// A window being grown: `[start, end)`; `end_is_line_end` says whether `end` sits on a line
/// break (or the end of the blob), so later hits inside it need no more searching.
struct Window {
    start: usize,
    end: usize,
    end_is_line_end: bool,
}

/// Confirms one rule's hits (sorted by start) and appends accepted matches to `out`.
pub(crate) fn confirm_rule(
    rule: CompiledRule<'_>,
    haystack: &[u8],
    hits: &[Hit],
    locations: &mut CaptureLocations,
    out: &mut Vec<RawMatch>,
) {
    let reach_before = rule.spec.reach_before;
    let reach_after = rule.spec.reach_after;
    let mut current: Option<Window> = None;
    for hit in hits {
        let anchor_start = hit.start.saturating_sub(reach_before);
        let anchor_end = (hit.end + reach_after).min(haystack.len());
        let ceiling = (hit.end + reach_after + LINE_REACH).min(haystack.len());
        if let Some(window) = current.as_mut() {
            if anchor_start <= window.end {
                if anchor_end > window.end || !window.end_is_line_end {
                    let from = anchor_end.max(window.end);
                    if from < ceiling || anchor_end > window.end {
                        let (end, at_line_end) = line_end(haystack, from, ceiling);
                        if end > window.end {
                            window.end = end;
                            window.end_is_line_end = at_line_end;
                        }
                    }
                }
                continue;
            }
            search_window(&rule, haystack, window, locations, out);
        }
        let floor = hit.start.saturating_sub(reach_before + LINE_REACH);
        let start = line_start(haystack, floor, anchor_start);
        let (end, end_is_line_end) = line_end(haystack, anchor_end, ceiling);
        current = Some(Window {
            start,
            end,
            end_is_line_end,
        });
    }
    if let Some(window) = current {
        search_window(&rule, haystack, &window, locations, out);
    }
}

/// Confirms a rule over all of `haystack` as one window: rules that apply to whole files known
/// by their name, which have no keyword to start from.
pub(crate) fn confirm_whole(
    rule: CompiledRule<'_>,
    haystack: &[u8],
    locations: &mut CaptureLocations,
    out: &mut Vec<RawMatch>,
) {
    let window = Window {
        start: 0,
        end: haystack.len(),
        end_is_line_end: true,
    };
    search_window(&rule, haystack, &window, locations, out);
}

/// Start of the line holding `anchor`, but no earlier than `floor`.
fn line_start(haystack: &[u8], floor: usize, anchor: usize) -> usize {
    memrchr(b'\n', &haystack[floor..anchor]).map_or(floor, |offset| floor + offset + 1)
}

/// End (exclusive, at the line break) of the line holding `anchor - 1`, but no later than
/// `ceiling`; the flag says whether a real line end (or the blob's end) was reached.
fn line_end(haystack: &[u8], anchor: usize, ceiling: usize) -> (usize, bool) {
    if anchor >= ceiling {
        return (ceiling, ceiling == haystack.len());
    }
    match memchr(b'\n', &haystack[anchor..ceiling]) {
        Some(offset) => (anchor + offset, true),
        None => (ceiling, ceiling == haystack.len()),
    }
}

fn search_window(
    rule: &CompiledRule<'_>,
    haystack: &[u8],
    window: &Window,
    locations: &mut CaptureLocations,
    out: &mut Vec<RawMatch>,
) {
    // Searching `haystack[..end]` from `start` (rather than a sub-slice) lets `\b` and `^`
    // see the byte before the window, so a cut never fakes a word boundary at the start.
    let bounded = &haystack[..window.end];
    let mut position = window.start;
    while position <= window.end {
        let Some(found) = rule.regex.captures_read_at(locations, bounded, position) else {
            break;
        };
        if let Some((start, end)) = locations.get(rule.secret_group) {
            if let Some(accepted) = accept(rule, &haystack[start..end], start, end) {
                out.push(accepted);
            }
        }
        position = if found.end() > found.start() {
            found.end()
        } else {
            found.end() + 1
        };
    }
}

/// The filters: entropy floor, placeholder words and patterns, check digits.
fn accept(rule: &CompiledRule<'_>, secret: &[u8], start: usize, end: usize) -> Option<RawMatch> {
    if secret.is_empty() {
        return None;
    }
    // Before the filters: a documented sample is dropped by suppression, where it is counted
    // (the placeholder filter would drop AWS's `...EXAMPLE` keys silently).
    if !rule.documented_samples.is_empty() && rule.documented_samples.contains(secret) {
        return Some(RawMatch {
            rule_index: rule.index,
            start,
            end,
            entropy: entropy::shannon_entropy(secret),
            confidence: rule.spec.confidence,
            documented_sample: true,
        });
    }
    let holds_each_class = rule
        .must_contain
        .iter()
        .all(|class| secret.iter().any(|&byte| class[usize::from(byte)]));
    if !holds_each_class {
        return None;
    }
    let entropy = entropy::shannon_entropy(secret);
    if let Some(floor) = rule.spec.entropy {
        if entropy < floor {
            return None;
        }
    }
    if rule.spec.placeholder_filter && placeholder::looks_like_placeholder(secret) {
        return None;
    }
    if rule.spec.confidence == Confidence::Low
        && (placeholder::looks_like_identifier(secret)
            || placeholder::looks_like_type_name(secret)
            || rule.public_forms.is_match(secret))
    {
        return None;
    }
    let mut confidence = rule.spec.confidence;
    if let Some(kind) = rule.spec.checksum {
        if !checksum::verify(kind, secret) {
            return None;
        }
        // Check digits that verify are as strong a signal as a format gives.
        confidence = Confidence::High;
    }
    Some(RawMatch {
        rule_index: rule.index,
        start,
        end,
        entropy,
        confidence,
        documented_sample: false,
    })
}
