//! Inline allow markers on the secret's own line: ours (`leakhound:allow`, optionally
//! `leakhound:allow rule=ID`) and the ones teams already have from other scanners. A marker
//! covers its own line only, never the neighbours.

/// Markers other tools use, honoured so a team switching to leakhound keeps its allowances.
const PEER_MARKERS: &[&[u8]] = &[
    b"gitleaks:allow",
    b"pragma: allowlist secret",
    b"trufflehog:ignore",
    b"kingfisher:ignore",
];

const OUR_MARKER: &[u8] = b"leakhound:allow";

/// True when `line` carries a marker that allows a finding of `rule_id`.
pub fn line_allows(line: &[u8], rule_id: &str) -> bool {
    if PEER_MARKERS
        .iter()
        .any(|marker| memchr::memmem::find(line, marker).is_some())
    {
        return true;
    }
    let mut rest = line;
    while let Some(found) = memchr::memmem::find(rest, OUR_MARKER) {
        let after = &rest[found + OUR_MARKER.len()..];
        match scoped_rule(after) {
            None => return true,
            Some(scoped) if scoped == rule_id.as_bytes() => return true,
            Some(_) => {}
        }
        rest = after;
    }
    false
}

/// `rule=ID` directly after the marker (one space allowed), or None for an unscoped marker.
fn scoped_rule(after: &[u8]) -> Option<&[u8]> {
    let trimmed = after.strip_prefix(b" ").unwrap_or(after);
    let id = trimmed.strip_prefix(b"rule=")?;
    let len = id
        .iter()
        .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'-')
        .count();
    Some(&id[..len])
}

#[cfg(test)]
mod tests {
    use super::line_allows;

    #[test]
    fn markers_allow_their_line() {
        assert!(line_allows(b"x = 1 # leakhound:allow", "any-rule"));
        assert!(line_allows(b"x = 1 // gitleaks:allow", "any-rule"));
        assert!(line_allows(b"x = 1 # pragma: allowlist secret", "any-rule"));
        assert!(!line_allows(b"x = 1", "any-rule"));
    }

    #[test]
    fn scoped_marker_allows_only_its_rule() {
        let line = b"x = 1 # leakhound:allow rule=github-pat-classic";
        assert!(line_allows(line, "github-pat-classic"));
        assert!(!line_allows(line, "aws-access-key-id"));
    }
}
