//! The per-thread collector: runs the matcher over each blob (and over text decoded from
//! encoded spans in it), applies line-level suppressions, and turns matches into findings.
//! One per walker thread, merged into the shared result once, when the thread finishes.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::{Collected, Progress, ScanSettings, Summary};
use crate::decode::{self, EncodedSpan, Encoding};
use crate::finding::{self, Finding, LineCounter, RuleInfo, SourceKind};
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::source::{Blob, BlobVisitor, SkipReason};
use crate::suppress::{inline, SuppressReason};

use super::lines::{LineCache, LineResult};

pub(crate) struct Collector<'a> {
    matcher: &'a Matcher,
    settings: &'a ScanSettings,
    scratch: Scratch,
    /// Every secret span in the current blob, for redacting snippets.
    spans: Vec<(usize, usize)>,
    /// (rule, secret hash, line) of the raw findings in the current blob: a secret found both
    /// raw and encoded on one line is one finding.
    raw_on_lines: Vec<(usize, [u8; 32], usize)>,
    /// Cell offsets of the current blob when it is a notebook with findings.
    cell_starts: Option<Vec<usize>>,
    /// Decoding buffers, one per depth, reused blob after blob.
    decoded: Vec<Vec<u8>>,
    encoded_spans: Vec<Vec<EncodedSpan>>,
    findings: Vec<Finding>,
    /// UTF-16 columns of the current blob's findings, counted incrementally.
    utf16_columns: finding::Utf16Columns,
    /// `RuleInfo` per rule index, shared by this collector's findings.
    rule_infos: Vec<Option<Arc<RuleInfo>>>,
    summary: Summary,
    progress: &'a Progress,
    collected: &'a Mutex<Collected>,
    /// The findings recorded for the blob being visited, with where they are.
    current_kept: Vec<Kept>,
    /// Lines of earlier versions of the file being read, and what they yielded.
    lines: LineCache,
    /// Per-blob buffers of the line pass: line starts, runs of lines to match, lines whose
    /// findings are reused.
    line_starts: Vec<usize>,
    runs: Vec<std::ops::Range<usize>>,
    known: Vec<(usize, usize, LineResult)>,
    /// Spread rules' match spans in the current blob (`Matcher::spread_spans`), taken before
    /// decoding reuses the scratch space.
    spread: Vec<(usize, usize)>,
}

/// A finding recorded for the current blob and where it is, to remember it with its line.
#[derive(Clone, Copy)]
struct Kept {
    /// Index into `Collector::findings`.
    finding: usize,
    /// For a match in the blob itself, the match. `None` for a secret found in decoded text.
    found: Option<RawMatch>,
    /// Start of the reported span (the secret, or the encoded span).
    start: usize,
}

/// Where a match is reported and what it was found in.
struct Place<'b> {
    /// The bytes the secret came from (the blob itself, or decoded text).
    content: &'b [u8],
    /// The span in the blob reported as its location (the secret, or the encoded span).
    start: usize,
    end: usize,
    line: usize,
    column: usize,
    decoded: &'b [Encoding],
}

impl<'a> Collector<'a> {
    pub(crate) fn new(
        matcher: &'a Matcher,
        settings: &'a ScanSettings,
        progress: &'a Progress,
        collected: &'a Mutex<Collected>,
    ) -> Self {
        Collector {
            matcher,
            settings,
            scratch: matcher.scratch(),
            spans: Vec::new(),
            raw_on_lines: Vec::new(),
            cell_starts: None,
            decoded: Vec::new(),
            encoded_spans: Vec::new(),
            findings: Vec::new(),
            rule_infos: Vec::new(),
            utf16_columns: finding::Utf16Columns::default(),
            summary: Summary::default(),
            progress,
            collected,
            current_kept: Vec::new(),
            lines: LineCache::default(),
            line_starts: Vec::new(),
            runs: Vec::new(),
            known: Vec::new(),
            spread: Vec::new(),
        }
    }

    fn suppress(&mut self, reason: SuppressReason) -> bool {
        *self.summary.suppressed.entry(reason).or_default() += 1;
        !self.settings.no_suppress
    }

    /// Applies suppressions to one match and records the finding it becomes.
    fn record(&mut self, blob: &Blob<'_>, found: &RawMatch, place: Place<'_>) {
        let rule = self.matcher.rule(found.rule_index);
        let secret = &place.content[found.start..found.end];
        if let Some(min) = self.settings.min_severity {
            if rule.severity < min && self.suppress(SuppressReason::BelowMinSeverity) {
                return;
            }
        }
        if let Some(min) = self.settings.min_confidence {
            if found.confidence < min && self.suppress(SuppressReason::BelowMinConfidence) {
                return;
            }
        }
        if inline::line_allows(line_of(blob.bytes, place.start), &rule.id)
            && self.suppress(SuppressReason::InlineMarker)
        {
            return;
        }
        // Git blobs have many paths: their path allowlist is applied per appearance.
        let path_for_allowlist = match blob.source {
            SourceKind::Git | SourceKind::CommitMessage => None,
            _ => Some(blob.path),
        };
        if let Some(reason) = self
            .settings
            .allowlist
            .check(&rule.id, path_for_allowlist, secret)
        {
            if self.suppress(reason) {
                return;
            }
        }
        let hash = finding::secret_hash(&rule.id, secret);
        if place.decoded.is_empty() {
            self.raw_on_lines.push((found.rule_index, hash, place.line));
        } else if self
            .raw_on_lines
            .contains(&(found.rule_index, hash, place.line))
        {
            return;
        }
        let shown = if self.settings.show_secrets {
            String::from_utf8_lossy(secret).into_owned()
        } else {
            finding::redact(secret)
        };
        let cell = self.notebook_cell(blob, place.start);
        let rule_info = self.rule_info(found.rule_index);
        self.current_kept.push(Kept {
            finding: self.findings.len(),
            found: place.decoded.is_empty().then_some(*found),
            start: place.start,
        });
        self.findings.push(Finding {
            rule: rule_info,
            confidence: found.confidence,
            path: blob.path.to_string(),
            line: place.line,
            column: place.column,
            column_utf16: self.utf16_columns.column(
                blob.bytes,
                place.start + 1 - place.column,
                place.start,
            ),
            cell,
            snippet: finding::snippet(
                blob.bytes,
                place.start,
                place.end,
                &self.spans,
                self.settings.show_secrets,
            ),
            secret: shown,
            entropy: (found.entropy * 100.0).round() / 100.0,
            fingerprint: finding::fingerprint(&rule.id, &hash),
            commit: None,
            author: None,
            email: None,
            date: None,
            commit_message: None,
            status: None,
            validation: None,
            occurrences: Vec::new(),
            decoded: place.decoded.to_vec(),
            source: blob.source,
            secret_hash: hash,
            raw_secret: finding::RawSecret::new(secret),
            origin: blob.origin,
        });
    }

    /// The shared `RuleInfo` of a rule, made on its first finding in this collector.
    fn rule_info(&mut self, rule_index: usize) -> Arc<RuleInfo> {
        if self.rule_infos.len() <= rule_index {
            self.rule_infos.resize(rule_index + 1, None);
        }
        self.rule_infos[rule_index]
            .get_or_insert_with(|| Arc::new(RuleInfo::of(self.matcher.rule(rule_index))))
            .clone()
    }

    /// For `.ipynb` blobs, the cell holding `offset` (cell starts computed once per blob).
    fn notebook_cell(&mut self, blob: &Blob<'_>, offset: usize) -> Option<usize> {
        if !blob.path.ends_with(".ipynb") {
            return None;
        }
        let starts = self
            .cell_starts
            .get_or_insert_with(|| crate::notebook::cell_starts(blob.bytes));
        crate::notebook::cell_at(starts, offset)
    }

    /// Decodes encoded spans of `blob` (and, up to the configured depth, spans inside what
    /// they decode to) and reports secrets found there at the encoded span's location.
    /// Only spans inside `lines` (whole lines: encoded spans never cross a line break) are
    /// looked at.
    fn scan_encoded(&mut self, blob: &Blob<'_>, lines: std::ops::Range<usize>) {
        let depth = self.settings.decode_depth;
        if depth == 0 {
            return;
        }
        while self.decoded.len() < depth {
            self.decoded.push(Vec::new());
            self.encoded_spans.push(Vec::new());
        }
        let mut top_spans = std::mem::take(&mut self.encoded_spans[0]);
        decode::find_spans(&blob.bytes[lines.clone()], &mut top_spans);
        for span in &mut top_spans {
            span.start += lines.start;
            span.end += lines.start;
        }
        if top_spans.is_empty() {
            self.encoded_spans[0] = top_spans;
            return;
        }
        // Encoded spans are redacted in snippets too: they spell out a secret.
        let raw_spans = self.spans.len();
        let mut lines = LineCounter::new(blob.bytes);
        let mut chain: Vec<Encoding> = Vec::with_capacity(depth);
        for span in &top_spans {
            let (line, column) = lines.position(span.start);
            chain.clear();
            self.decode_into(blob, *span, None, 0, line, column, &mut chain);
        }
        self.spans.truncate(raw_spans);
        self.encoded_spans[0] = top_spans;
    }

    /// Decodes `span` of the blob (level 0) or of the text decoded at `level - 1`, scans it,
    /// and recurses while the depth allows.
    #[allow(clippy::too_many_arguments)]
    fn decode_into(
        &mut self,
        blob: &Blob<'_>,
        span: EncodedSpan,
        top: Option<EncodedSpan>,
        level: usize,
        line: usize,
        column: usize,
        chain: &mut Vec<Encoding>,
    ) {
        let mut buffer = std::mem::take(&mut self.decoded[level]);
        let ok = {
            let source: &[u8] = match level {
                0 => blob.bytes,
                _ => &self.decoded[level - 1],
            };
            decode::decode(source, span, &mut buffer)
        };
        if !ok {
            self.decoded[level] = buffer;
            return;
        }
        self.summary.decoded_spans += 1;
        let reported = top.unwrap_or(span);
        chain.push(span.encoding);
        let matches = self.matcher.scan(&buffer, &mut self.scratch).to_vec();
        if !matches.is_empty() {
            if !self.spans.contains(&(reported.start, reported.end)) {
                let at = self
                    .spans
                    .partition_point(|&(start, _)| start < reported.start);
                self.spans.insert(at, (reported.start, reported.end));
            }
            for found in &matches {
                let place = Place {
                    content: &buffer,
                    start: reported.start,
                    end: reported.end,
                    line,
                    column,
                    decoded: chain,
                };
                self.record(blob, found, place);
            }
        }
        if level + 1 < self.settings.decode_depth {
            let mut inner = std::mem::take(&mut self.encoded_spans[level + 1]);
            decode::find_spans(&buffer, &mut inner);
            self.decoded[level] = buffer;
            for inner_span in &inner {
                self.decode_into(
                    blob,
                    *inner_span,
                    Some(reported),
                    level + 1,
                    line,
                    column,
                    chain,
                );
            }
            self.encoded_spans[level + 1] = inner;
        } else {
            self.decoded[level] = buffer;
        }
        chain.pop();
    }
}

impl Collector<'_> {
    /// `visit` for a later version of a file: lines an earlier version had are not matched
    /// again for line-local rules, their findings are copied (with this version's line number);
    /// the rest is matched and decoded as usual, and spread rules see the whole blob.
    /// Overlaps between copied and new matches are resolved as one scan would resolve them.
    fn visit_known_lines(&mut self, blob: &Blob<'_>) {
        let bytes = blob.bytes;
        self.line_starts.clear();
        self.runs.clear();
        self.known.clear();
        let mut start = 0;
        while start <= bytes.len() {
            let newline = memchr::memchr(b'\n', &bytes[start..]).map(|at| start + at);
            let end = newline.unwrap_or(bytes.len());
            let index = self.line_starts.len();
            self.line_starts.push(start);
            // The first line is matched every time (`^` means the blob's start there), and so
            // is an unterminated last line.
            let cached = match newline {
                Some(_) if index > 0 => self.lines.lookup(&bytes[start..end]),
                _ => None,
            };
            match cached {
                Some(results) => self
                    .known
                    .extend(results.iter().map(|result| (index, start, *result))),
                None => {
                    let run_end = newline.map_or(end, |at| at + 1);
                    match self.runs.last_mut() {
                        Some(run) if run.end == start => run.end = run_end,
                        _ => self.runs.push(start..run_end),
                    }
                }
            }
            match newline {
                Some(at) => start = at + 1,
                None => break,
            }
        }
        let mut matches: Vec<RawMatch> = self
            .matcher
            .scan_lines(bytes, &self.runs, &mut self.scratch)
            .to_vec();
        self.spread.clear();
        self.spread
            .extend_from_slice(self.matcher.spread_spans(&self.scratch));
        self.summary.bytes_matched += self.runs.iter().map(|run| run.len() as u64).sum::<u64>();
        // Reused matches in this blob's offsets, sorted, with their findings.
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
        copy.origin = blob.origin;
        self.current_kept.push(Kept {
            finding: self.findings.len(),
            found,
            start: self.line_starts[index] + copy.column.saturating_sub(1),
        });
        self.findings.push(copy);
    }

    /// Remembers the lines of this blob that no earlier version had, with their findings, for
    /// the versions that follow. Lines touched by a spread rule's match are left out: what
    /// they yield depends on more than their text.
    fn remember_lines(&mut self, blob: &Blob<'_>, all_lines_new: bool) {
        let bytes = blob.bytes;
        if all_lines_new {
            self.line_starts.clear();
            self.line_starts.push(0);
            self.line_starts
                .extend(memchr::memchr_iter(b'\n', bytes).map(|at| at + 1));
            if self.line_starts.last() == Some(&bytes.len()) {
                self.line_starts.pop();
            }
        }
        let line_of =
            |starts: &[usize], offset: usize| starts.partition_point(|&s| s <= offset) - 1;
        // (line, result) for this blob's findings, by line.
        let mut by_line: Vec<(usize, LineResult)> = self
            .current_kept
            .iter()
            .filter(|kept| {
                kept.found
                    .is_none_or(|found| self.matcher.is_line_local(found.rule_index))
            })
            .map(|kept| {
                let line = line_of(&self.line_starts, kept.start);
                let result = match kept.found {
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
                (line, result)
            })
            .collect();
        by_line.sort_by_key(|(line, _)| *line);
        let mut tainted: Vec<usize> = Vec::new();
        for &(start, end) in &self.spread {
            let first = line_of(&self.line_starts, start);
            let last = line_of(&self.line_starts, end.saturating_sub(1).max(start));
            tainted.extend(first..=last);
        }
        tainted.sort_unstable();
        let mut results: Vec<LineResult> = Vec::new();
        let mut next_result = 0;
        let mut runs = self.runs.iter().peekable();
        for (index, &start) in self.line_starts.iter().enumerate() {
            let Some(newline) = memchr::memchr(b'\n', &bytes[start..]).map(|at| start + at) else {
                break;
            };
            results.clear();
            while next_result < by_line.len() && by_line[next_result].0 < index {
                next_result += 1;
            }
            while next_result < by_line.len() && by_line[next_result].0 == index {
                results.push(by_line[next_result].1);
                next_result += 1;
            }
            // Only lines matched in this blob are new to the cache.
            let is_new = all_lines_new || {
                while runs.peek().is_some_and(|run| run.end <= start) {
                    runs.next();
                }
                runs.peek().is_some_and(|run| run.start <= start)
            };
            if index == 0 || !is_new || tainted.binary_search(&index).is_ok() {
                continue;
            }
            self.lines.insert(&bytes[start..newline], &results);
        }
    }
}

impl BlobVisitor for Collector<'_> {
    fn visit(&mut self, blob: Blob<'_>) {
        self.summary.files += 1;
        self.summary.bytes += blob.bytes.len() as u64;
        self.progress.files.fetch_add(1, Ordering::Relaxed);
        self.progress
            .bytes
            .fetch_add(blob.bytes.len() as u64, Ordering::Relaxed);
        self.spans.clear();
        self.raw_on_lines.clear();
        self.cell_starts = None;
        self.utf16_columns = finding::Utf16Columns::default();
        self.current_kept.clear();
        // Notebook cell numbers depend on everything before a finding: no reuse there.
        let reuse = self.settings.novelty && !blob.path.ends_with(".ipynb");
        if !reuse || !blob.versions.follows_earlier {
            self.lines.clear();
        }
        if reuse && blob.versions.follows_earlier && !self.lines.is_empty() {
            self.visit_known_lines(&blob);
            if blob.versions.more_follow {
                self.remember_lines(&blob, false);
            }
            return;
        }
        self.summary.bytes_matched += blob.bytes.len() as u64;
        let matches = self.matcher.scan(blob.bytes, &mut self.scratch).to_vec();
        self.spread.clear();
        self.spread
            .extend_from_slice(self.matcher.spread_spans(&self.scratch));
        self.spans
            .extend(matches.iter().map(|found| (found.start, found.end)));
        let mut lines = LineCounter::new(blob.bytes);
        for found in &matches {
            let (line, column) = lines.position(found.start);
            let place = Place {
                content: blob.bytes,
                start: found.start,
                end: found.end,
                line,
                column,
                decoded: &[],
            };
            self.record(&blob, found, place);
        }
        self.scan_encoded(&blob, 0..blob.bytes.len());
        if reuse && blob.versions.more_follow {
            self.remember_lines(&blob, true);
        }
    }

    fn archive_expanded(&mut self, expanded: &crate::source::archive::Expanded) {
        self.summary.archives_opened += expanded.archives;
        self.summary.archive_items_unscanned += expanded.unscanned;
    }

    fn skipped(&mut self, reason: SkipReason, _bytes: u64) {
        match reason {
            SkipReason::Binary => self.summary.skipped_binary += 1,
            SkipReason::Oversize => self.summary.skipped_oversize += 1,
            SkipReason::Unreadable => self.summary.skipped_unreadable += 1,
            SkipReason::Missing => {
                self.summary.skipped_unreadable += 1;
                self.summary.missing_objects += 1;
            }
        }
    }
}

impl Drop for Collector<'_> {
    fn drop(&mut self) {
        let mut collected = self
            .collected
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        collected.findings.append(&mut self.findings);
        collected.summary.absorb(&self.summary);
    }
}

/// How far from the secret an inline marker is looked for on very long (minified) lines, so
/// many findings on one huge line stay linear.
const MARKER_REACH: usize = 4096;

/// The line holding `offset` (for inline markers), without its line break, cut to
/// `MARKER_REACH` bytes on either side of `offset`.
fn line_of(haystack: &[u8], offset: usize) -> &[u8] {
    let floor = offset.saturating_sub(MARKER_REACH);
    let ceiling = (offset + MARKER_REACH).min(haystack.len());
    let start = memchr::memrchr(b'\n', &haystack[floor..offset]).map_or(floor, |i| floor + i + 1);
    let end = memchr::memchr(b'\n', &haystack[offset..ceiling]).map_or(ceiling, |i| offset + i);
    &haystack[start..end]
}
