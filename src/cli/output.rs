//! Where a report goes. A regular file is written to a temporary file beside it and renamed
//! into place only when the report is complete, so an interrupted scan never leaves half a
//! report; a device or FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written as it is
//! and never replaced.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub enum Output {
    Stdout(std::io::Stdout),
    Special(File),
    Atomic(AtomicFile),
}

/// A report being written beside its destination. Created like any new file (mode 0666 less
/// the umask, so a report is as readable as the user's other files), given the mode of the file
/// it replaces, renamed over it when complete, and removed if the run ends before that.
pub struct AtomicFile {
    file: File,
    temp_path: PathBuf,
    destination: PathBuf,
    persisted: bool,
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

/// Where a report for `path` really goes: through symbolic links (a link is written through,
/// never replaced by a file), made absolute so two spellings of one file compare equal.
pub fn resolve_destination(path: &Path) -> Result<PathBuf> {
    let mut resolved =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    // A chain of links, each relative to its own directory; a loop is an error, not a hang.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&resolved) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = std::fs::read_link(&resolved)
                    .with_context(|| format!("cannot read the link {}", resolved.display()))?;
                let base = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
                resolved = std::path::absolute(base.join(target))
                    .with_context(|| format!("cannot resolve {}", path.display()))?;
            }
            _ => {
                // Canonical directory, so `out/../r.json` and `r.json` are one destination.
                if let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) {
                    if let Ok(parent) = std::fs::canonicalize(parent) {
                        resolved = parent.join(name);
                    }
                }
                return Ok(resolved);
            }
        }
    }
    bail!("{}: symbolic link loop", path.display())
}

impl Output {
    pub fn open(path: Option<&Path>) -> Result<Output> {
        let Some(path) = path else {
            return Ok(Output::Stdout(std::io::stdout()));
        };
        let destination = resolve_destination(path)?;
        match std::fs::metadata(&destination) {
            Ok(metadata) if metadata.is_dir() => {
                bail!("--output {}: is a directory", path.display())
            }
            Ok(metadata) if !metadata.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&destination)
                    .with_context(|| format!("cannot open --output {}", path.display()))?;
                Ok(Output::Special(file))
            }
            existing => {
                let directory = match destination.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
                let name = destination
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let (file, temp_path) = create_beside(directory, &name).with_context(|| {
                    format!("cannot create a report file in {}", directory.display())
                })?;
                if let Ok(metadata) = existing {
                    // Replacing a report keeps its mode (a 0600 report stays private).
                    file.set_permissions(metadata.permissions())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                Ok(Output::Atomic(AtomicFile {
                    file,
                    temp_path,
                    destination,
                    persisted: false,
                }))
            }
        }
    }

    pub fn is_terminal(&self) -> bool {
        match self {
            Output::Stdout(stdout) => std::io::IsTerminal::is_terminal(stdout),
            _ => false,
        }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(stdout) => stdout,
            Output::Special(file) => file,
            Output::Atomic(atomic) => &mut atomic.file,
        }
    }

    /// Flushes and, for a regular file, renames the finished report into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut stdout) => stdout.flush().context("cannot write the report"),
            Output::Special(mut file) => file.flush().context("cannot write the report"),
            Output::Atomic(mut atomic) => {
                atomic.file.flush().context("cannot write the report")?;
                atomic.file.sync_all().context("cannot write the report")?;
                std::fs::rename(&atomic.temp_path, &atomic.destination)
                    .with_context(|| format!("cannot write {}", atomic.destination.display()))?;
                atomic.persisted = true;
                Ok(())
            }
        }
    }
}

/// A new file beside the destination, with a name nothing else uses.
fn create_beside(directory: &Path, name: &str) -> std::io::Result<(File, PathBuf)> {
    let mut attempt = 0u32;
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let temp_path = directory.join(format!(
            ".{name}.leakhound-{}-{nanos}-{attempt}.tmp",
            std::process::id()
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((file, temp_path)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}
