//! Pre-commit scans: the staged files from `source::staged`, scanned on the calling thread
//! (a commit touches a handful of files; threads would cost more than they save), keeping only
//! findings on lines the change adds.

use super::{run_with_progress_then, Collector, ScanOutcome, ScanSettings};
use crate::diagnostics::Diagnostics;
use crate::matcher::Matcher;
use crate::source::staged::{self, StagedError};
use crate::source::Provenance;
use crate::source::{Admission, BlobMeta, BlobVisitor, SkipReason};

pub fn scan_staged(
    matcher: &Matcher,
    directory: &std::path::Path,
    max_file_size: u64,
    admission: crate::source::AdmissionOptions,
    settings: &ScanSettings,
    diagnostics: &Diagnostics,
) -> Result<ScanOutcome, StagedError> {
    let staged = staged::staged_files(directory, max_file_size, diagnostics)?;
    let files = staged.files;
    let outcome = run_with_progress_then(
        settings,
        diagnostics,
        |progress, collected| {
            let mut collector = Collector::new(matcher, settings, progress, collected);
            let mut admission = Admission::new(admission);
            for _ in 0..staged.oversize {
                collector.skipped(SkipReason::Oversize, 0);
            }
            for _ in 0..staged.unreadable {
                collector.skipped(SkipReason::Unreadable, 0);
            }
            for (origin, file) in files.iter().enumerate() {
                admission.visit(
                    &file.bytes,
                    None,
                    BlobMeta {
                        path: &file.path,
                        provenance: Provenance::Staged { file: origin },
                        versions: Default::default(),
                    },
                    &mut collector,
                    &mut |message| diagnostics.warn(message),
                );
            }
        },
        |mut findings, _summary| {
            findings.retain(|finding| {
                files
                    .get(match finding.provenance {
                        Provenance::Staged { file } => file,
                        _ => usize::MAX,
                    })
                    .and_then(|file| file.added_lines.as_ref())
                    .is_none_or(|added| added.contains(&finding.line))
            });
            super::group_by_credential(findings)
        },
    );
    Ok(outcome)
}
