//! leakhound finds hardcoded credentials in working trees, staged changes and git history.
//!
//! Data flows one way: `source` produces blobs, `matcher` finds raw matches in bytes, `scan`
//! turns them into `Finding`s (asking `suppress` per match) and groups them per credential,
//! `pipeline` runs the per-run stages (redaction, baseline, validation), `report` writes them.
//! `cli` plans the run from argv and maps the outcome to an exit code (docs/ARCHITECTURE.md).

pub mod cli;
pub mod config;
pub mod decode;
pub mod diagnostics;
pub mod error;
pub mod finding;
pub(crate) mod hashing;
pub mod matcher;
pub mod notebook;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod suppress;
pub mod validation;
