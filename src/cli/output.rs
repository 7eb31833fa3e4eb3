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
    Atomic {
        temp: tempfile::NamedTempFile,
        destination: PathBuf,
    },
}

impl Output {
    pub fn open(path: Option<&Path>) -> Result<Output> {
        let Some(path) = path else {
            return Ok(Output::Stdout(std::io::stdout()));
        };
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => {
                bail!("--output {}: is a directory", path.display())
            }
            Ok(metadata) if !metadata.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot open --output {}", path.display()))?;
                Ok(Output::Special(file))
            }
            _ => {
                let directory = match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent,
                    _ => Path::new("."),
                };
                let temp = tempfile::Builder::new()
                    .prefix(".leakhound-report-")
                    .tempfile_in(directory)
                    .with_context(|| {
                        format!("cannot create a report file in {}", directory.display())
                    })?;
                Ok(Output::Atomic {
                    temp,
                    destination: path.to_path_buf(),
                })
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
            Output::Atomic { temp, .. } => temp.as_file_mut(),
        }
    }

    /// Flushes and, for a regular file, renames the finished report into place.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut stdout) => stdout.flush().context("cannot write the report"),
            Output::Special(mut file) => file.flush().context("cannot write the report"),
            Output::Atomic { temp, destination } => {
                temp.as_file()
                    .sync_all()
                    .context("cannot write the report")?;
                temp.persist(&destination).map_err(|error| {
                    anyhow::anyhow!("cannot write {}: {}", destination.display(), error.error)
                })?;
                Ok(())
            }
        }
    }
}
