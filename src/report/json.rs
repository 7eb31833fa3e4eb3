//! `json` (one array) and `jsonl` (one object per line): the Finding schema (README.md, "Findings").

use std::io::Write;

use crate::finding::Finding;

pub fn write_array(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    out.write_all(b"\n")
}

pub fn write_lines(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    for finding in findings {
        serde_json::to_writer(&mut *out, finding)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
