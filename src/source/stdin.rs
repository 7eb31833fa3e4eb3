//! `leakhound scan -`: standard input read once into one blob.

use std::io::Read;

use super::{Admission, BlobMeta, BlobVisitor, SkipReason};
use crate::diagnostics::Diagnostics;
use crate::source::Provenance;

/// The path findings from stdin are reported under.
pub const STDIN_PATH: &str = "<stdin>";

/// Standard input, read once (up to the size limit) into one blob.
pub struct Stdin {
    pub max_size: u64,
    pub admission: super::AdmissionOptions,
}

impl super::Source for Stdin {
    fn produce<V, F>(&self, diagnostics: &Diagnostics, make_visitor: F) -> super::Produced
    where
        V: BlobVisitor + Send,
        F: Fn() -> V + Sync,
    {
        let mut visitor = make_visitor();
        read(self, diagnostics, &mut visitor);
        super::Produced::default()
    }
}

fn read(stdin: &Stdin, diagnostics: &Diagnostics, visitor: &mut dyn BlobVisitor) {
    let max_size = stdin.max_size;
    let mut bytes = Vec::new();
    let mut limited = std::io::stdin().lock().take(max_size.saturating_add(1));
    if let Err(error) = limited.read_to_end(&mut bytes) {
        diagnostics.warn(format!("{STDIN_PATH}: cannot read: {error}"));
        visitor.skipped(SkipReason::Unreadable, 0);
        return;
    }
    if bytes.len() as u64 > max_size {
        diagnostics.warn(format!(
            "{STDIN_PATH}: larger than --max-file-size ({max_size} bytes), skipped"
        ));
        visitor.skipped(SkipReason::Oversize, bytes.len() as u64);
        return;
    }
    Admission::new(stdin.admission).visit(
        &bytes,
        None,
        BlobMeta {
            path: STDIN_PATH,
            provenance: Provenance::Stdin,
            versions: Default::default(),
        },
        visitor,
        &mut |message| diagnostics.warn(message),
    );
}
