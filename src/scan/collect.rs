//! The per-thread collector: runs the matcher over each blob (and over text decoded from
//! encoded spans in it), applies line-level suppressions, and turns matches into findings.
//! One per walker thread, merged into the shared result once, when the thread finishes.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::{Collected, Progress, ScanSettings, Summary};
use crate::decode::{self, EncodedSpan, Encoding};
use crate::finding::{self, Finding, LineCounter, RuleInfo};
use crate::matcher::{Matcher, RawMatch, Scratch};
use crate::source::{Blob, BlobVisitor, Provenance, SkipReason};
use crate::suppress::{MatchFacts, SuppressReason};

use super::lines::{LineCache, LineResult};

mod versions;

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
    /// Spread rules' keyword hits in the current blob (known lines' first).
    spread_hits: Vec<crate::matcher::KeywordHit>,
    /// What the last version visited yielded, line by line, for the next version.
    previous: versions::PreviousVersion,
    /// Suppressions in the current blob that depend on their line alone (offset, reason), and
    /// where the match being recorded is (when it is such a match).
    suppressed_here: Vec<(usize, SuppressReason)>,
    suppressing_at: Option<usize>,
    /// Rules with `paths` that the current blob's path admits, those of them that read the
    /// whole file, and scratch space for the glob match.
    admitted: Vec<usize>,
    whole_file: Vec<usize>,
    scope_hits: Vec<usize>,
    /// Per rule with validator context, in this file: each context entry's matches.
    context_found: Vec<(usize, Vec<crate::validation::context::Matches>)>,
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
            spread_hits: Vec::new(),
            previous: versions::PreviousVersion::default(),
            suppressed_here: Vec::new(),
            suppressing_at: None,
            admitted: Vec::new(),
            whole_file: Vec::new(),
            scope_hits: Vec::new(),
            context_found: Vec::new(),
        }
    }

    fn suppress(&mut self, reason: SuppressReason) -> bool {
        *self.summary.suppressed.entry(reason).or_default() += 1;
        if let Some(at) = self.suppressing_at {
            self.suppressed_here.push((at, reason));
        }
        self.settings.suppressor.drops()
    }

    /// Applies suppressions to one match and records the finding it becomes.
    fn record(&mut self, blob: &Blob<'_>, found: &RawMatch, place: Place<'_>) {
        // A rule with `paths` does not apply to other files: not a finding, not a suppression.
        if self.settings.scopes.is_scoped(found.rule_index)
            && self.admitted.binary_search(&found.rule_index).is_err()
        {
            return;
        }
        // A suppression on a line that later versions reuse is counted again for each of them.
        self.suppressing_at = (!place.decoded.is_empty()
            || self.matcher.is_line_local(found.rule_index))
        .then_some(place.start);
        let rule = self.matcher.rule(found.rule_index);
        let secret = &place.content[found.start..found.end];
        let facts = MatchFacts {
            rule_id: &rule.id,
            severity: rule.severity,
            confidence: found.confidence,
            line: line_of(blob.bytes, place.start),
            // Git blobs have many paths: their path allowlist is applied per appearance.
            path: match blob.provenance {
                Provenance::Git { .. } | Provenance::CommitMessage { .. } => None,
                _ => Some(blob.path),
            },
            secret,
            documented_sample: found.documented_sample,
        };
        if let Some(reason) = self.settings.suppressor.per_match(&facts) {
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
        // A binary file's view: the place is the file's, found through the run it lies in.
        let in_file = blob.strings.and_then(|view| view.place(place.start));
        let (line, column) = in_file.map_or((place.line, place.column), |at| (at.line, at.column));
        let rule_info = self.rule_info(found.rule_index);
        let context = self.context_values(blob, found.rule_index, place.start);
        self.current_kept.push(Kept {
            finding: self.findings.len(),
            found: place.decoded.is_empty().then_some(*found),
            start: place.start,
        });
        self.findings.push(Finding {
            repository: None,
            rule: rule_info,
            confidence: found.confidence,
            path: blob.path.to_string(),
            line,
            column,
            column_utf16: if in_file.is_some() {
                // Printable runs are ASCII: code units and bytes agree.
                column
            } else {
                self.utf16_columns
                    .column(blob.bytes, place.start + 1 - place.column, place.start)
            },
            cell,
            offset: in_file.map(|at| at.offset),
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
            git: None,
            status: None,
            validation: None,
            occurrences: Vec::new(),
            decoded: place.decoded.to_vec(),
            provenance: blob.provenance,
            secret_hash: hash,
            raw_secret: finding::RawSecret::new(secret),
            context,
        });
    }

    /// What the rule's validator needs from this file (`--validate` only): each context
    /// regex runs once per file and rule, and each finding takes the nearest match.
    fn context_values(
        &mut self,
        blob: &Blob<'_>,
        rule_index: usize,
        offset: usize,
    ) -> std::collections::BTreeMap<String, String> {
        let settings = self.settings;
        let Some(finders) = settings
            .validation_context
            .for_rule(&self.matcher.rule(rule_index).id)
        else {
            return Default::default();
        };
        let position = match self
            .context_found
            .iter()
            .position(|(rule, _)| *rule == rule_index)
        {
            Some(position) => position,
            None => {
                let found = finders
                    .iter()
                    .map(|finder| finder.all(blob.bytes))
                    .collect();
                self.context_found.push((rule_index, found));
                self.context_found.len() - 1
            }
        };
        crate::validation::context::values_near(finders, &self.context_found[position].1, offset)
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
        self.context_found.clear();
        self.utf16_columns = finding::Utf16Columns::default();
        self.current_kept.clear();
        self.suppressed_here.clear();
        let scopes = &self.settings.scopes;
        scopes.admit(blob.path, &mut self.scope_hits, &mut self.admitted);
        if !scopes.is_empty() {
            self.matcher
                .exclude_rules(&mut self.scratch, scopes.not_admitted(&self.admitted));
        }
        self.whole_file.clear();
        self.whole_file.extend(
            self.admitted
                .iter()
                .copied()
                .filter(|&rule| self.matcher.is_whole_file(rule)),
        );
        // Notebook cell numbers depend on everything before a finding: no reuse there; a
        // whole-file rule reads the whole file every time.
        let reuse = self.settings.novelty
            && self.matcher.supports_line_reuse()
            && !blob.path.ends_with(".ipynb")
            && self.whole_file.is_empty();
        let previous = blob.versions.previous.filter(|_| reuse);
        if previous.is_none() {
            self.lines.clear();
        }
        if reuse && (previous.is_some() || blob.versions.more_follow) {
            self.visit_version(&blob, previous, blob.versions.more_follow);
            return;
        }
        self.previous.forget();
        self.summary.bytes_matched += blob.bytes.len() as u64;
        let matches = if self.whole_file.is_empty() {
            self.matcher.scan(blob.bytes, &mut self.scratch).to_vec()
        } else {
            self.matcher
                .scan_whole_file(blob.bytes, &self.whole_file, &mut self.scratch)
                .to_vec()
        };
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
    }

    fn binary_read_as_strings(&mut self, _bytes: u64) {
        self.previous.forget();
        self.summary.binary_as_strings += 1;
    }

    fn wants_raw_binary(&mut self, path: &str) -> bool {
        let scopes = &self.settings.scopes;
        if scopes.is_empty() {
            return false;
        }
        scopes.admit(path, &mut self.scope_hits, &mut self.admitted);
        self.admitted
            .iter()
            .any(|&rule| self.matcher.is_whole_file(rule))
    }

    fn archive_expanded(&mut self, expanded: &crate::source::archive::Expanded) {
        self.previous.forget();
        self.summary.archives_opened += expanded.archives;
        self.summary.archive_items_unscanned += expanded.unscanned;
    }

    fn skipped(&mut self, reason: SkipReason, _bytes: u64) {
        self.previous.forget();
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
