//! Structural checks on one rule (id, keywords, regex, remediation, examples present) and the
//! compilation of its regex and byte classes, shared by the matcher and `rules check`. The
//! behavioural check of examples runs the real matcher, so it lives in `matcher::examples`
//! (rules know nothing of matching; the matcher imports rules, never the reverse).

use regex::bytes::Regex;

pub use crate::error::RuleProblem;
use crate::rules::model::{HttpCheck, RuleSpec, SignSpec};

/// Shortest keyword we accept: shorter ones fire on nearly every file and swamp the regex stage.
pub const MIN_KEYWORD_LEN: usize = 3;
/// Upper bound on `reach_before`/`reach_after`, so one rule cannot make a window the whole blob.
pub const MAX_REACH: usize = 65_536;

/// Checks one rule completely, including its regex; `Err` is a sentence naming the problem.
pub fn validate_spec(spec: &RuleSpec) -> Result<(), RuleProblem> {
    validate_structure(spec)?;
    for class in &spec.secret_must_contain {
        compile_byte_class(class)?;
    }
    for form in &spec.public_forms {
        compile_rule_regex(form).map_err(|problem| RuleProblem::InBlock {
            block: "public_forms",
            problem: Box::new(problem),
        })?;
    }
    let regex = compile_rule_regex(&spec.regex)?;
    if regex.capture_names().flatten().all(|name| name != "secret") {
        return Err("regex has no named group `secret`".into());
    }
    Ok(())
}

/// Checks everything but the regex (cheap: no compilation).
pub fn validate_structure(spec: &RuleSpec) -> Result<(), RuleProblem> {
    if !is_kebab_case(&spec.id) {
        return Err("id must be kebab-case (lowercase letters and digits joined by '-')".into());
    }
    if spec.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    if spec.provider.trim().is_empty() {
        return Err("provider is empty".into());
    }
    if spec.keywords.is_empty() && spec.paths.is_empty() {
        return Err("needs at least one keyword (or `paths`, for a file known by its name)".into());
    }
    for glob in &spec.paths {
        if let Err(error) = globset::Glob::new(glob) {
            return Err(format!("paths entry {glob:?} is not a glob: {}", error.kind()).into());
        }
    }
    if let Some(short) = spec
        .keywords
        .iter()
        .find(|keyword| keyword.len() < MIN_KEYWORD_LEN)
    {
        return Err(format!("keyword {short:?} is shorter than {MIN_KEYWORD_LEN} bytes").into());
    }
    if spec.remediation.trim().is_empty() {
        return Err("remediation is empty".into());
    }
    if let Some(entropy) = spec.entropy {
        if !(0.0..=8.0).contains(&entropy) {
            return Err(format!("entropy {entropy} is outside 0..=8 bits per byte").into());
        }
    }
    if spec.reach_before > MAX_REACH || spec.reach_after > MAX_REACH {
        return Err(format!("reach_before/reach_after may be at most {MAX_REACH}").into());
    }
    if let Some(check) = &spec.validate {
        validate_http_check(check).map_err(|problem| RuleProblem::InBlock {
            block: "validate",
            problem: Box::new(problem),
        })?;
    }
    if let Some(check) = &spec.revoke {
        validate_http_check(check).map_err(|problem| RuleProblem::InBlock {
            block: "revoke",
            problem: Box::new(problem),
        })?;
    }
    Ok(())
}

/// The template name under which `sign = { scheme = "google-jwt-bearer", ... }` offers its
/// signed assertion.
pub const GOOGLE_ASSERTION: &str = "assertion";

/// HTTP methods a validator or revocation may use.
pub const HTTP_METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Checks a `[rule.validate]` or `[rule.revoke]` block: the secret can only go over HTTPS to a
/// host the block lists, and every template names something that exists.
pub fn validate_http_check(check: &HttpCheck) -> Result<(), RuleProblem> {
    if check.hosts.is_empty() {
        return Err("hosts is empty: list the provider hosts the secret may be sent to".into());
    }
    for host in &check.hosts {
        let name = host.strip_prefix("*.").unwrap_or(host);
        if !is_dns_name(name) {
            return Err(format!("host {host:?} is not a lowercase DNS name").into());
        }
        if name.len() != host.len() && !name.contains('.') {
            return Err(format!(
                "host {host:?} admits a whole top-level domain: give the provider's own domain \
                 (`*.example.com`)"
            )
            .into());
        }
    }
    if !HTTP_METHODS.contains(&check.method.as_str()) {
        return Err(format!(
            "method {:?} is not one of {}",
            check.method,
            HTTP_METHODS.join(", ")
        )
        .into());
    }
    for url in std::iter::once(&check.url).chain(&check.fallback_urls) {
        if let Some((name, suffix)) = templated_host(url) {
            if !check.context.contains_key(name) {
                return Err(format!(
                    "url {url:?}: the host may only come from a `context` value, and {name:?} is \
                     not one"
                )
                .into());
            }
            let admitted = match suffix {
                Some(suffix) => check
                    .hosts
                    .iter()
                    .any(|allowed| allowed.strip_prefix("*.") == Some(suffix)),
                None => check.hosts.iter().any(|allowed| allowed.starts_with("*.")),
            };
            if !admitted {
                return Err(format!(
                    "url {url:?}: a host from context needs a `*.` entry in hosts {:?} that \
                     admits it",
                    check.hosts
                )
                .into());
            }
            continue;
        }
        let host = url_host(url).ok_or_else(|| {
            RuleProblem::from(format!(
                "url {url:?} must start with https:// and a literal host (or `{{{{name}}}}.` and a \
                 literal domain)"
            ))
        })?;
        if !check.hosts.iter().any(|allowed| allowed == host) {
            return Err(format!("url host {host:?} is not in hosts {:?}", check.hosts).into());
        }
    }
    for (name, pattern) in &check.context {
        if name == "secret" || !is_template_name(name) || check.parts.contains_key(name) {
            return Err(format!(
                "context name {name:?} must be lowercase letters, digits and '_', and not \
                 `secret` or a name in parts"
            )
            .into());
        }
        let regex = compile_rule_regex(pattern)?;
        if regex.is_match(b"") {
            return Err(format!("context {name:?} matches the empty string").into());
        }
    }
    if check.body.is_some() && !check.form.is_empty() {
        return Err("give body or form, not both".into());
    }
    for (name, rule_id) in &check.parts {
        if name == "secret" || !is_template_name(name) {
            return Err(format!(
                "part name {name:?} must be lowercase letters, digits and '_' (and not `secret`)"
            )
            .into());
        }
        if !is_kebab_case(rule_id) {
            return Err(format!("part {name:?} names rule {rule_id:?}, not a rule id").into());
        }
    }
    let mut templates = check.first_request_templates();
    templates.extend(check.fallback_urls.iter().map(String::as_str));
    // The JWT bearer grant offers its signed assertion to the other templates.
    let offered =
        matches!(check.sign, Some(SignSpec::GoogleJwtBearer { .. })).then_some(GOOGLE_ASSERTION);
    let mut uses_secret = false;
    for template in templates {
        for name in template_names(template)? {
            if name == "secret" {
                uses_secret = true;
            } else if !check.parts.contains_key(name)
                && !check.context.contains_key(name)
                && offered != Some(name)
            {
                return Err(format!(
                    "template {{{{{name}}}}} is neither `secret` nor a name in parts or context"
                )
                .into());
            }
        }
    }
    if !uses_secret {
        return Err("no template uses {{secret}}".into());
    }
    for condition in std::iter::once(&check.success).chain(check.failure.as_ref()) {
        for status in &condition.status {
            if !(100..=599).contains(status) {
                return Err(format!("status {status} is not an HTTP status").into());
            }
        }
        for pointer in condition.json.keys() {
            if !pointer.starts_with('/') {
                return Err(
                    format!("json key {pointer:?} must be a JSON pointer (`/field`)").into(),
                );
            }
        }
    }
    for (label, place) in &check.identity {
        let pointer = place.starts_with('/');
        let element = place.len() > 2 && place.starts_with('<') && place.ends_with('>');
        // `header:Name` (the validation engine's `HEADER_PLACE`): a response header.
        let header = place.strip_prefix("header:").is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if !pointer && !element && !header {
            return Err(format!(
                "identity {label:?} must be a JSON pointer (`/login`), an XML element (`<Arn>`) \
                 or a response header (`header:X-OAuth-Scopes`)"
            )
            .into());
        }
    }
    Ok(())
}

/// A lowercase DNS name: labels of letters, digits and `-`, separated by dots.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// (`name`, `suffix`) for an `https://{{name}}.suffix/...` URL template, a customer's own host
/// under the provider's domain; (`name`, `None`) for `https://{{name}}/...`, a whole host
/// taken from the file, which `hosts` must then admit when the request is built.
pub fn templated_host(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = url.strip_prefix("https://{{")?;
    let end = rest.find("}}")?;
    let name = &rest[..end];
    let after = &rest[end + 2..];
    let host_rest = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
    if !is_template_name(name) {
        return None;
    }
    match host_rest.strip_prefix('.') {
        None if host_rest.is_empty() => Some((name, None)),
        Some(suffix) if is_dns_name(suffix) => Some((name, Some(suffix))),
        _ => None,
    }
}

/// Whether `host` (a URL's host after substitution) is one `hosts` admits: equal to an entry,
/// or one or more labels followed by the domain of a `*.` entry.
pub fn host_allowed(hosts: &[String], host: &str) -> bool {
    hosts
        .iter()
        .any(|allowed| match allowed.strip_prefix("*.") {
            None => allowed == host,
            Some(domain) => host
                .strip_suffix(domain)
                .and_then(|labels| labels.strip_suffix('.'))
                .is_some_and(is_dns_name),
        })
}

/// The literal host of an `https://` URL, if it has one (no template in the host).
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    valid.then_some(host)
}

/// The names used in `{{name}}` templates, in order.
pub fn template_names(template: &str) -> Result<Vec<&str>, RuleProblem> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| {
            RuleProblem::from(format!("unclosed `{{{{` in template {template:?}"))
        })?;
        let name = &after[..end];
        if !is_template_name(name) {
            return Err(format!("{{{{{name}}}}} is not a template name").into());
        }
        names.push(name);
        rest = &after[end + 2..];
    }
    Ok(names)
}

fn is_template_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Compiles a rule's regex the one way the matcher does.
///
/// Unicode mode is off: secrets are ASCII, classes such as `\w`, `\s` and `[^"']` then match
/// bytes (also invalid UTF-8) instead of compiling to large UTF-8 automata. With it on, the
/// 300-odd rule regexes took 0.8 s and 230 MiB to compile on a tree that fires all of them.
pub fn compile_rule_regex(pattern: &str) -> Result<Regex, RuleProblem> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 * 1024 * 1024)
        .build()
        .map_err(|source| RuleProblem::Regex { source })
}

/// The set of bytes a `secret_must_contain` entry stands for: one bracketed regex class.
pub fn compile_byte_class(class: &str) -> Result<[bool; 256], RuleProblem> {
    let bracketed = class.len() >= 3 && class.starts_with('[') && class.ends_with(']');
    if !bracketed {
        return Err(format!(
            "secret_must_contain entry {class:?} must be one bracketed class such as \"[0-9]\""
        )
        .into());
    }
    let regex =
        compile_rule_regex(&format!("^{class}$")).map_err(|problem| RuleProblem::ByteClass {
            class: class.to_string(),
            problem: Box::new(problem),
        })?;
    let mut set = [false; 256];
    for byte in 0..=255u8 {
        set[usize::from(byte)] = regex.is_match(&[byte]);
    }
    if !set.contains(&true) {
        return Err(format!("secret_must_contain entry {class:?} matches no byte").into());
    }
    Ok(set)
}

fn is_kebab_case(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}
