//! Jupyter notebooks: which cell a byte offset falls in, so a finding in a `.ipynb` can name
//! its cell as well as its line. A small scanner over the JSON text (strings and nesting only),
//! not a parse: it works on a notebook with a broken tail and costs one pass over the bytes.

/// Byte offsets where each element of the top-level `"cells"` array starts, in order.
pub fn cell_starts(json: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut string_start = 0;
    let mut last_key: &[u8] = b"";
    // Depth at which the "cells" array's elements sit, once we are inside it.
    let mut cells_depth: Option<usize> = None;
    let mut expecting_cells = false;
    for (index, &byte) in json.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
                last_key = &json[string_start..index];
            }
            continue;
        }
        match byte {
            b'"' => {
                in_string = true;
                string_start = index + 1;
            }
            b':' => expecting_cells = depth == 1 && last_key == b"cells",
            b'[' | b'{' => {
                if byte == b'[' && expecting_cells {
                    cells_depth = Some(depth + 1);
                } else if Some(depth) == cells_depth && byte == b'{' {
                    starts.push(index);
                }
                expecting_cells = false;
                depth += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if Some(depth + 1) == cells_depth && byte == b']' {
                    cells_depth = None;
                }
            }
            _ => {}
        }
    }
    starts
}

/// The 0-based index of the cell holding `offset`, given `cell_starts`.
pub fn cell_at(starts: &[usize], offset: usize) -> Option<usize> {
    starts
        .partition_point(|&start| start <= offset)
        .checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cell_of_an_offset() {
        let notebook = br#"{"cells": [{"cell_type": "code", "source": ["a = \"}{\"\n"]},
 {"cell_type": "code", "source": ["token = 1\n"]}], "metadata": {"cells": [{}]}}"#;
        let starts = cell_starts(notebook);
        assert_eq!(starts.len(), 2);
        let token = notebook.windows(5).position(|w| w == b"token").unwrap();
        assert_eq!(cell_at(&starts, token), Some(1));
        assert_eq!(cell_at(&starts, 0), None);
    }
}
