//! Rules: their TOML model, loading (embedded, `--rules`, config) and validation. Knows nothing
//! of files being scanned or of output.

pub mod format;
pub mod loader;
pub mod model;
pub mod validate;

pub use loader::{load_builtin, load_path, LoadedRule};
pub use model::{ChecksumKind, Confidence, RuleSpec, Severity};
