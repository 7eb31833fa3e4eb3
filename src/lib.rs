//! leakhound finds hardcoded credentials in working trees, staged changes and git history.
//!
//! Data flows one way: `source` produces blobs, `matcher` finds raw matches in bytes, `scan`
//! turns them into `Finding`s and applies `suppress`, `report` writes them. `cli` owns argv and
//! exit codes.

pub mod cli;
pub mod config;
pub mod decode;
pub mod diagnostics;
pub mod error;
pub mod finding;
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
