//! Later versions of a file (git history): what each line yields for line-local rules depends on
//! its text alone (see `Matcher::scan_lines`), so lines an earlier version already had are not
//! matched again. A line is known when it sits in the bytes this version shares with the one
//! read just before it (its common prefix or suffix: history reads a file's versions oldest
//! first, so that is usually its parent version), or else when any earlier version of the file
//! had the same text (`LineCache`). Only the other lines go through the keyword pass and the
//! decoder; spread rules (context, PEM blocks) get the keyword hits of every line and are
//! confirmed over the whole blob, so they see exactly what a whole scan would.

use super::{Collector, Kept, LineCounter, Place};
use crate::matcher::{KeywordHit, RawMatch};
use crate::scan::lines::LineResult;
use crate::source::Blob;

/// Most findings and spread keyword hits a version may have to be remembered for the next.
const MAX_REMEMBERED: usize = 65_536;

/// What the collector keeps of the version it visited last, for the next one.
#[derive(Default)]
pub(super) struct PreviousVersion {
    /// Its length, to check that the previous bytes a source hands over are that version.
    len: Option<usize>,
    /// Where each of its lines starts (no entry for the empty "line" after a final break).
    line_starts: Vec<usize>,
    /// What each line yielded, by line (only lines that yielded something).
    results: Vec<(usize, LineResult)>,
    /// Lines a spread rule's match touched: what they yield depends on more than their text.
    tainted: Vec<usize>,
}

impl PreviousVersion {
    pub(super) fn forget(&mut self) {
        self.len = None;
    }
}

impl Collector<'_> {
    /// Visits one version of a file whose versions are read one after another. `previous` is
    /// the version visited just before, when it is one; `remember` says another version follows.
    pub(super) fn visit_version(
        &mut self,
        blob: &Blob<'_>,
        previous: Option<&[u8]>,
        remember: bool,
    ) {
        let bytes = blob.bytes;
        let len = bytes.len();
        let terminated_last = bytes.last() == Some(&b'\n');
        let previous = previous.filter(|previous| self.previous.len == Some(previous.len()));
        self.runs.clear();
        self.known.clear();
        self.line_starts.clear();
        let previous_starts = &self.previous.line_starts;
        let previous_count = if previous.is_some() {
            previous_starts.len()
        } else {
            0
        };
        // Lines shared with the version before, in the same place: its first `head` lines
        // (their line breaks inside the common prefix) and its lines from `tail` on (inside the
        // common suffix, the line break before them included, so never its first line, where
        // `^` meant the start of the blob). Only the lines between are looked at one by one.
        let (head, tail, middle) = match previous {
            Some(previous) => {
                let prefix = common_prefix(bytes, previous);
                let room = len.min(previous.len()) - prefix;
                let suffix = common_suffix(bytes, previous, room);
                let head = previous_starts
                    .get(1..)
                    .map_or(0, |later| later.partition_point(|&start| start <= prefix));
                let tail = previous_starts
                    .partition_point(|&start| start <= previous.len() - suffix)
                    .max(1)
                    .max(head);
                let middle_end = match previous_starts.get(tail) {
                    Some(&start) => start + len - previous.len(),
                    None => len,
                };
                // The last line never counts as shared at the head, so line `head` exists unless
                // the version before was empty.
                let middle_start = previous_starts.get(head).copied().unwrap_or(0);
                (head, tail, middle_start..middle_end)
            }
            None => (0, 0, 0..len),
        };
        self.line_starts.extend_from_slice(&previous_starts[..head]);
        if middle.start < middle.end {
            self.line_starts.push(middle.start);
            self.line_starts.extend(
                memchr::memchr_iter(b'\n', &bytes[middle.clone()])
                    .map(|at| middle.start + at + 1)
                    .filter(|&start| start < middle.end),
            );
        }
        let middle_lines = head..self.line_starts.len();
        let shift = len.wrapping_sub(previous.map_or(0, <[u8]>::len));
        self.line_starts.extend(
            previous_starts[tail.min(previous_count)..previous_count]
                .iter()
                .map(|&start| start.wrapping_add(shift)),
        );
        let count = self.line_starts.len();
        let tail_offset = middle_lines.end as isize - tail as isize;

        // What the shared lines yielded, except lines a spread match touched (matched again).
        let tainted = &self.previous.tainted;
        if previous.is_some() {
            for &(line, result) in &self.previous.results {
                let index = if line < head {
                    line
                } else if line >= tail {
                    (line as isize + tail_offset) as usize
                } else {
                    continue;
                };
                if tainted.binary_search(&line).is_err() {
                    self.known.push((index, self.line_starts[index], result));
                }
            }
        }
        let line_end = |starts: &[usize], index: usize| match starts.get(index + 1) {
            Some(next) => next - 1,
            None if terminated_last => len - 1,
            None => len,
        };
        let add_run = |runs: &mut Vec<std::ops::Range<usize>>, starts: &[usize], index| {
            let start = starts[index];
            let end = line_end(starts, index);
            let run_end = if index + 1 < count || terminated_last {
                end + 1
            } else {
                end
            };
            match runs.last_mut() {
                Some(run) if run.end == start => run.end = run_end,
                _ => runs.push(start..run_end),
            }
        };
        if previous.is_some() {
            for &line in tainted.iter().filter(|&&line| line < head) {
                add_run(&mut self.runs, &self.line_starts, line);
            }
        }
        for index in middle_lines {
            let start = self.line_starts[index];
            let end = line_end(&self.line_starts, index);
            if index > 0 && (index + 1 < count || terminated_last) {
                if let Some(results) = self.lines.lookup(&bytes[start..end]) {
                    self.known
                        .extend(results.iter().map(|result| (index, start, *result)));
                    continue;
                }
            }
            add_run(&mut self.runs, &self.line_starts, index);
        }
        if previous.is_some() {
            for &line in tainted.iter().filter(|&&line| line >= tail) {
                let index = (line as isize + tail_offset) as usize;
                add_run(&mut self.runs, &self.line_starts, index);
            }
        }

        // Keyword hits of spread rules on known lines (and their suppressions, counted as a
        // whole scan would count them), then the keyword pass over the rest.
        self.spread_hits.clear();
        for &(_, line_start, result) in &self.known {
            match result {
                LineResult::SpreadHit(hit) => self.spread_hits.push(KeywordHit {
                    rule: hit.rule,
                    start: hit.start + line_start,
                    end: hit.end + line_start,
                }),
                LineResult::Suppressed(reason) => {
                    *self.summary.suppressed.entry(reason).or_default() += 1;
                }
                LineResult::Match { .. } | LineResult::Decoded { .. } => {}
            }
        }
        let reused_hits = self.spread_hits.len();
        let mut matches: Vec<RawMatch> = self
            .matcher
            .scan_lines(bytes, &self.runs, &self.spread_hits, &mut self.scratch)
            .to_vec();
        self.spread_hits
            .extend_from_slice(self.matcher.spread_hits(&self.scratch));
        let spread_hits_complete = self.matcher.spread_hits_complete(&self.scratch);
        self.spread.clear();
        self.spread
            .extend_from_slice(self.matcher.spread_spans(&self.scratch));
        self.summary.bytes_matched += self.runs.iter().map(|run| run.len() as u64).sum::<u64>();

        // Reused matches in this blob's offsets, sorted, with their findings and lines.
        let mut reused: Vec<(RawMatch, usize, usize)> = Vec::new();
        for &(index, line_start, result) in &self.known {
            if let LineResult::Match { found, finding } = result {
                let mut moved = found;
                moved.start += line_start;
                moved.end += line_start;
                reused.push((moved, finding, index));
            }
        }
        reused.sort_unstable_by_key(|(found, _, _)| (found.start, found.end, found.rule_index));
        matches.extend(reused.iter().map(|(found, _, _)| *found));
        self.matcher.resolve_overlaps(&mut matches);
        self.spans
            .extend(matches.iter().map(|found| (found.start, found.end)));
        let mut lines = LineCounter::new(bytes);
        for found in &matches {
            let earlier = reused
                .binary_search_by_key(&(found.start, found.end, found.rule_index), |(m, _, _)| {
                    (m.start, m.end, m.rule_index)
                })
                .ok()
                .map(|at| (reused[at].1, reused[at].2));
            match earlier {
                Some((finding, index)) => self.reuse_finding(blob, finding, index, Some(*found)),
                None => {
                    let (line, column) = lines.position(found.start);
                    let place = Place {
                        content: bytes,
                        start: found.start,
                        end: found.end,
                        line,
                        column,
                        decoded: &[],
                    };
                    self.record(blob, found, place);
                }
            }
        }
        for at in 0..self.known.len() {
            if let (index, _, LineResult::Decoded { finding }) = self.known[at] {
                self.reuse_finding(blob, finding, index, None);
            }
        }
        let runs = std::mem::take(&mut self.runs);
        for run in &runs {
            self.scan_encoded(blob, run.clone());
        }
        self.runs = runs;
        // A version dense with keywords is not worth remembering line by line: the next one
        // is matched whole instead, and memory stays bounded.
        if remember
            && spread_hits_complete
            && self.spread_hits.len() + self.current_kept.len() <= MAX_REMEMBERED
        {
            self.remember_version(bytes, reused_hits);
        } else {
            self.previous.forget();
        }
    }

    /// Copies `finding` (of an earlier version, same line text) onto line `index` of this blob.
    fn reuse_finding(
        &mut self,
        blob: &Blob<'_>,
        finding: usize,
        index: usize,
        found: Option<RawMatch>,
    ) {
        let mut copy = self.findings[finding].clone();
        copy.line = index + 1;
        copy.provenance = blob.provenance;
        self.current_kept.push(Kept {
            finding: self.findings.len(),
            found,
            start: self.line_starts[index] + copy.column.saturating_sub(1),
        });
        self.findings.push(copy);
    }

    /// Keeps what each line of this version yielded for the next version, and remembers the
    /// lines no earlier version had in the line cache. `reused_hits` spread hits at the start of
    /// `spread_hits` came from known lines (they are in `known` already).
    fn remember_version(&mut self, bytes: &[u8], reused_hits: usize) {
        let line_of =
            |starts: &[usize], offset: usize| starts.partition_point(|&s| s <= offset) - 1;
        let mut results = std::mem::take(&mut self.previous.results);
        results.clear();
        for kept in &self.current_kept {
            let line = line_of(&self.line_starts, kept.start);
            let result = match kept.found {
                Some(found) if !self.matcher.is_line_local(found.rule_index) => continue,
                Some(mut found) => {
                    let line_start = self.line_starts[line];
                    found.start -= line_start;
                    found.end -= line_start;
                    LineResult::Match {
                        found,
                        finding: kept.finding,
                    }
                }
                None => LineResult::Decoded {
                    finding: kept.finding,
                },
            };
            results.push((line, result));
        }
        for &(index, _, result) in &self.known {
            if let LineResult::SpreadHit(_) | LineResult::Suppressed(_) = result {
                results.push((index, result));
            }
        }
        for &(start, reason) in &self.suppressed_here {
            results.push((
                line_of(&self.line_starts, start),
                LineResult::Suppressed(reason),
            ));
        }
        for hit in &self.spread_hits[reused_hits..] {
            let line = line_of(&self.line_starts, hit.start);
            let line_start = self.line_starts[line];
            results.push((
                line,
                LineResult::SpreadHit(KeywordHit {
                    rule: hit.rule,
                    start: hit.start - line_start,
                    end: hit.end - line_start,
                }),
            ));
        }
        results.sort_by_key(|(line, _)| *line);
        let mut tainted = std::mem::take(&mut self.previous.tainted);
        tainted.clear();
        for &(start, end) in &self.spread {
            let first = line_of(&self.line_starts, start);
            let last = line_of(&self.line_starts, end.saturating_sub(1).max(start));
            tainted.extend(first..=last);
        }
        tainted.sort_unstable();
        tainted.dedup();

        // New lines go into the cache with what they yielded.
        let mut cursor = 0;
        let mut line_results: Vec<LineResult> = Vec::new();
        for run in &self.runs {
            let mut index = line_of(&self.line_starts, run.start);
            while index < self.line_starts.len() && self.line_starts[index] < run.end {
                let start = self.line_starts[index];
                let Some(newline) = memchr::memchr(b'\n', &bytes[start..]).map(|at| start + at)
                else {
                    break;
                };
                while cursor < results.len() && results[cursor].0 < index {
                    cursor += 1;
                }
                line_results.clear();
                let mut at = cursor;
                while at < results.len() && results[at].0 == index {
                    line_results.push(results[at].1);
                    at += 1;
                }
                if index > 0 && tainted.binary_search(&index).is_err() {
                    self.lines.insert(&bytes[start..newline], &line_results);
                }
                index += 1;
            }
        }
        let line_starts = std::mem::replace(
            &mut self.line_starts,
            std::mem::take(&mut self.previous.line_starts),
        );
        self.previous = PreviousVersion {
            len: Some(bytes.len()),
            line_starts,
            results,
            tainted,
        };
    }
}

/// Length of the longest common prefix, compared 32 bytes at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 32;
    let whole = a
        .chunks_exact(CHUNK)
        .zip(b.chunks_exact(CHUNK))
        .take_while(|(x, y)| x == y)
        .count()
        * CHUNK;
    whole
        + a[whole..]
            .iter()
            .zip(&b[whole..])
            .take_while(|(x, y)| x == y)
            .count()
}

/// Length of the longest common suffix, at most `limit` bytes.
fn common_suffix(a: &[u8], b: &[u8], limit: usize) -> usize {
    const CHUNK: usize = 32;
    let (a, b) = (&a[a.len() - limit..], &b[b.len() - limit..]);
    let whole = a
        .rchunks_exact(CHUNK)
        .zip(b.rchunks_exact(CHUNK))
        .take_while(|(x, y)| x == y)
        .count()
        * CHUNK;
    whole
        + a[..a.len() - whole]
            .iter()
            .rev()
            .zip(b[..b.len() - whole].iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_and_suffix_are_exact_at_every_length() {
        let base: Vec<u8> = (0..200u8).collect();
        for cut in [0, 1, 31, 32, 33, 64, 150, 199] {
            let mut other = base.clone();
            other[cut] ^= 0xff;
            assert_eq!(common_prefix(&base, &other), cut);
            assert_eq!(
                common_suffix(&base, &other, base.len()),
                base.len() - cut - 1
            );
        }
        assert_eq!(common_prefix(&base, &base[..100]), 100);
        assert_eq!(common_suffix(&base, &base[100..], 100), 100);
    }
}
