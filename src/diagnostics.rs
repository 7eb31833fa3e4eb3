//! Warnings: one place that prints them to stderr (above the progress bar, sanitised) and
//! counts them for the summary. A warning never stops a run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use indicatif::ProgressBar;

#[derive(Default)]
pub struct Diagnostics {
    warnings: AtomicU64,
    quiet: bool,
    progress: Mutex<Option<ProgressBar>>,
}

impl Diagnostics {
    pub fn new(quiet: bool) -> Self {
        Diagnostics {
            warnings: AtomicU64::new(0),
            quiet,
            progress: Mutex::new(None),
        }
    }

    /// While a progress bar is drawn, warnings are printed above it instead of through it.
    pub fn attach_progress(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.progress.lock() {
            *slot = bar;
        }
    }

    /// Prints `leakhound: warning: <message>` and counts it. Rare by nature, so the lock
    /// around the progress bar is not on any hot path.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.warnings.fetch_add(1, Ordering::Relaxed);
        if self.quiet {
            return;
        }
        let line = format!("leakhound: warning: {}", sanitize(&message.to_string()));
        match self.progress.lock().ok().and_then(|slot| slot.clone()) {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Prints an informational note (not counted as a warning).
    pub fn note(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("leakhound: {}", sanitize(&message.to_string()));
        }
    }

    pub fn warning_count(&self) -> u64 {
        self.warnings.load(Ordering::Relaxed)
    }
}

/// Replaces control characters (terminal escapes in hostile file names or commit messages)
/// with visible escapes before the text reaches a terminal.
pub fn sanitize(text: &str) -> String {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            clean.extend(c.escape_default());
        } else {
            clean.push(c);
        }
    }
    clean
}
