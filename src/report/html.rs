//! `html`: one self-contained page for people reading an audit. There are no external scripts,
//! styles, fonts or images, so the page works offline.
//!
//! Its own Content-Security-Policy allows only the inline style and script it carries, each
//! pinned by SHA-256. A page saved somewhere else, or a finding's text that tried to inject
//! markup, can run nothing else. Every row is rendered on the server. The script only sorts
//! and filters the table, so the report reads the same without it.
//!
//! The page shows:
//! - totals by severity, provider, status and validation;
//! - when the credentials were introduced, by month;
//! - every finding with its redacted secret, a link to the commit where the repository URL
//!   allows one, and the remediation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use base64::Engine as _;

use super::{escape_markup as escape, short_commit, RunNotes};
use crate::finding::{Finding, SecretStatus};

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d1d1f; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: #6e6e73; } .banner { background: #fff4ce; border: 1px solid #e0c050; padding: 8px 12px; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid #d2d2d7; border-radius: 8px; padding: 10px 14px; min-width: 160px; }
.card b { display: block; font-size: 20px; }
.card table td { padding: 1px 8px 1px 0; }
.bars { display: flex; align-items: flex-end; gap: 3px; height: 120px; border-bottom: 1px solid #d2d2d7; overflow-x: auto; }
.bar { display: flex; flex-direction: column-reverse; width: 18px; flex: none; }
.bar span { display: block; } .bar .present { background: #d70015; } .bar .removed { background: #8e8e93; }
.axis { display: flex; gap: 3px; font-size: 10px; color: #6e6e73; overflow-x: auto; }
.axis span { width: 18px; flex: none; writing-mode: vertical-rl; transform: rotate(180deg); height: 48px; }
.controls { display: flex; gap: 8px; margin: 8px 0; } .controls input { flex: 1; padding: 6px; }
table.findings { border-collapse: collapse; width: 100%; }
table.findings th { text-align: left; background: #f5f5f7; cursor: pointer; position: sticky; top: 0; }
table.findings th, table.findings td { border-bottom: 1px solid #e5e5ea; padding: 6px 8px; vertical-align: top; }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11px; padding: 2px 6px; border-radius: 4px; color: #fff; }
.sev-critical { background: #a1001f; } .sev-high { background: #d70015; } .sev-medium { background: #c93400; } .sev-low { background: #8e8e93; }
code { font: 12px ui-monospace, monospace; background: #f5f5f7; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
details summary { cursor: pointer; color: #0066cc; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('findings');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById('filter');
  var severity = document.getElementById('severity');
  var shown = document.getElementById('shown');
  function apply() {
    var text = filter.value.toLowerCase();
    var level = severity.value;
    var count = 0;
    rows.forEach(function (row) {
      var visible = (!text || row.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!level || row.getAttribute('data-severity') === level);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + ' of ' + rows.length + ' shown';
  }
  var direction = {};
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
    cell.addEventListener('click', function () {
      direction[column] = -(direction[column] || -1);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-key') || a.cells[column].textContent;
        var y = b.cells[column].getAttribute('data-key') || b.cells[column].textContent;
        return x.localeCompare(y, undefined, { numeric: true }) * direction[column];
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-h]'), function (bar) {
    bar.style.height = (Number(bar.getAttribute('data-h')) * 1.2) + 'px';
  });
  filter.addEventListener('input', apply);
  severity.addEventListener('change', apply);
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

pub fn write(findings: &[Finding], notes: &RunNotes, out: &mut dyn Write) -> std::io::Result<()> {
    let mut page = String::with_capacity(4096 + findings.len() * 1024);
    let policy = format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src data:; base-uri 'none'; \
         form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>leakhound report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&policy)
    );
    let repositories: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter_map(|finding| finding.repository.as_deref())
        .collect();
    let _ = writeln!(
        page,
        "<h1>leakhound report</h1>\n<p class=\"muted\">{} finding{}{}</p>",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        if repositories.is_empty() {
            String::new()
        } else {
            format!(" in {} repositories", repositories.len())
        }
    );
    if let Some(incomplete) = &notes.incomplete {
        let _ = writeln!(
            page,
            "<p class=\"banner\"><b>Scan incomplete.</b> Not scanned: {}</p>",
            escape(incomplete)
        );
    }
    totals(&mut page, findings);
    timeline(&mut page, findings);
    table(&mut page, findings);
    let _ = write!(page, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out.write_all(page.as_bytes())
}

/// The CSP source expression pinning `text` (what a browser hashes: the element's content).
fn csp_hash(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

fn totals(page: &mut String, findings: &[Finding]) {
    let mut severity: BTreeMap<u8, (&str, usize)> = BTreeMap::new();
    let mut provider: BTreeMap<&str, usize> = BTreeMap::new();
    let mut status: BTreeMap<&str, usize> = BTreeMap::new();
    let mut validation: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in findings {
        let level = finding.rule.severity;
        severity
            .entry(severity_rank(level.as_str()))
            .or_insert((level.as_str(), 0))
            .1 += 1;
        *provider.entry(finding.rule.provider.as_str()).or_default() += 1;
        *status.entry(status_name(finding)).or_default() += 1;
        if let Some(checked) = &finding.validation {
            *validation.entry(checked.status.as_str()).or_default() += 1;
        }
    }
    page.push_str("<h2>Totals</h2>\n<div class=\"cards\">\n");
    let card = |page: &mut String, title: &str, rows: Vec<(String, usize)>| {
        let _ = write!(page, "<div class=\"card\">{}<table>", escape(title));
        for (label, count) in rows {
            let _ = write!(
                page,
                "<tr><td>{}</td><td><b>{count}</b></td></tr>",
                escape(&label)
            );
        }
        page.push_str("</table></div>\n");
    };
    card(
        page,
        "By severity",
        severity
            .values()
            .map(|(name, count)| (name.to_string(), *count))
            .collect(),
    );
    let mut providers: Vec<(String, usize)> = provider
        .into_iter()
        .map(|(name, count)| (name.to_string(), count))
        .collect();
    providers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    providers.truncate(10);
    card(page, "By provider (top 10)", providers);
    card(
        page,
        "By status",
        status
            .into_iter()
            .map(|(name, count)| (name.to_string(), count))
            .collect(),
    );
    if !validation.is_empty() {
        card(
            page,
            "By validation",
            validation
                .into_iter()
                .map(|(name, count)| (name.to_string(), count))
                .collect(),
        );
    }
    page.push_str("</div>\n");
}

/// Findings introduced per month (history findings carry the introducing commit's date),
/// stacked by whether the secret is still in HEAD.
fn timeline(page: &mut String, findings: &[Finding]) {
    let mut months: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for finding in findings {
        let Some(month) = finding.git.as_ref().and_then(|git| git.date.get(..7)) else {
            continue;
        };
        let entry = months.entry(month).or_default();
        if finding.status == Some(SecretStatus::Removed) {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    if months.is_empty() {
        return;
    }
    let highest = months
        .values()
        .map(|(present, removed)| present + removed)
        .max()
        .unwrap_or(1)
        .max(1);
    page.push_str(
        "<h2>Introduced, by month</h2>\n<p class=\"muted\">Red: still in HEAD; grey: removed \
         since (history keeps it).</p>\n<div class=\"bars\">",
    );
    for (month, (present, removed)) in &months {
        let _ = write!(
            page,
            "<div class=\"bar\" title=\"{}: {present} present, {removed} removed\">\
             <span class=\"present\" data-h=\"{}\"></span><span class=\"removed\" data-h=\"{}\"></span></div>",
            escape(month),
            present * 100 / highest,
            removed * 100 / highest
        );
    }
    page.push_str("</div>\n<div class=\"axis\">");
    for month in months.keys() {
        let _ = write!(page, "<span>{}</span>", escape(month));
    }
    page.push_str("</div>\n");
}

fn table(page: &mut String, findings: &[Finding]) {
    page.push_str(
        "<h2>Findings</h2>\n<div class=\"controls\"><input id=\"filter\" type=\"search\" \
         placeholder=\"Filter: rule, path, repository, commit…\">\
         <select id=\"severity\"><option value=\"\">all severities</option>\
         <option>critical</option><option>high</option><option>medium</option>\
         <option>low</option></select><span id=\"shown\" class=\"muted\"></span></div>\n\
         <table class=\"findings\" id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th>\
         <th>Where</th><th>Introduced</th><th>Status</th><th>Secret</th><th>What to do</th>\
         </tr></thead>\n<tbody>\n",
    );
    for finding in findings {
        let level = finding.rule.severity.as_str();
        let place = match &finding.repository {
            Some(repository) => format!("{repository} :: {}", finding.path),
            None => finding.path.clone(),
        };
        let _ = write!(
            page,
            "<tr data-severity=\"{level}\"><td data-key=\"{}\"><span class=\"sev sev-{level}\">{level}</span></td>\
             <td>{}<br><span class=\"muted\">{}</span></td><td data-key=\"{}\">{}:{}:{}",
            severity_rank(level),
            escape(&finding.rule.rule_id),
            escape(&finding.rule.provider),
            escape(&place),
            link_to_file(finding).map_or_else(
                || escape(&place),
                |url| format!("<a href=\"{}\">{}</a>", escape(&url), escape(&place))
            ),
            finding.line,
            finding.column
        );
        if !finding.occurrences.is_empty() {
            let _ = write!(
                page,
                "<br><span class=\"muted\">and {} other place{}</span>",
                finding.occurrences.len(),
                if finding.occurrences.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        page.push_str("</td><td>");
        if let Some(git) = &finding.git {
            let short = short_commit(&git.commit);
            let shown = match link_to_commit(finding) {
                Some(url) => format!(
                    "<a href=\"{}\"><code>{}</code></a>",
                    escape(&url),
                    escape(short)
                ),
                None => format!("<code>{}</code>", escape(short)),
            };
            let _ = write!(
                page,
                "{shown}<br><span class=\"muted\">{} {}</span>",
                escape(&git.date),
                escape(&git.author)
            );
        }
        let _ = write!(page, "</td><td>{}", status_name(finding));
        if let Some(checked) = &finding.validation {
            let _ = write!(page, "<br><b>{}</b>", checked.status.as_str());
        }
        let _ = writeln!(
            page,
            "</td><td><code>{}</code></td><td><details><summary>remediation</summary>{}</details></td></tr>",
            escape(&finding.secret),
            escape(&finding.rule.remediation)
        );
    }
    page.push_str("</tbody></table>\n");
}

fn status_name(finding: &Finding) -> &'static str {
    match finding.status {
        Some(SecretStatus::Present) => "present",
        Some(SecretStatus::Removed) => "removed",
        None => "in the scanned files",
    }
}

fn severity_rank(level: &str) -> u8 {
    match level {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    }
}

/// A web URL for the repository when it is a GitHub, GitLab or Bitbucket https URL.
fn web_base(finding: &Finding) -> Option<String> {
    let repository = finding.repository.as_deref()?;
    let rest = repository.strip_prefix("https://")?;
    let host = rest.split('/').next()?;
    if !(host.contains("github") || host.contains("gitlab") || host.contains("bitbucket")) {
        return None;
    }
    Some(format!(
        "https://{}",
        rest.trim_end_matches('/').trim_end_matches(".git")
    ))
}

fn link_to_commit(finding: &Finding) -> Option<String> {
    let base = web_base(finding)?;
    let commit = finding.commit()?;
    let separator = if base.contains("gitlab") {
        "/-/commit/"
    } else {
        "/commit/"
    };
    Some(format!("{base}{separator}{commit}"))
}

fn link_to_file(finding: &Finding) -> Option<String> {
    let base = web_base(finding)?;
    let commit = finding.commit()?;
    let separator = if base.contains("gitlab") {
        "/-/blob/"
    } else {
        "/blob/"
    };
    Some(format!(
        "{base}{separator}{commit}/{}#L{}",
        finding.path, finding.line
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_pins_the_inline_code() {
        assert!(csp_hash(SCRIPT).starts_with("sha256-"));
        assert_ne!(csp_hash(SCRIPT), csp_hash(STYLE));
    }
}
