//! Turns a rule's `[rule.validate]`/`[rule.revoke]` block and a credential into the request to
//! send, and the provider's answer into a status. No I/O here: `http` sends.

use std::collections::BTreeMap;

use crate::rules::model::{HttpCheck, ResponseCondition, SignSpec};
use crate::validation::sigv4;
use crate::validation::ValidationStatus;

/// The credential's parts by template name: `secret` and each entry of the block's `parts`.
pub type Values = BTreeMap<String, String>;

/// A request ready to send to the provider's real host.
#[derive(Debug, Clone)]
pub struct Built {
    pub method: String,
    /// The real `https://` URL (the test endpoint map may later send it elsewhere).
    pub url: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Builds the request; `Err` says why this credential cannot be put in it (a byte a header
/// cannot carry), never quoting the credential.
pub fn build(check: &HttpCheck, values: &Values, amz_date: &str) -> Result<Built, String> {
    build_for(check, &check.url, values, amz_date)
}

/// `build` with another of the check's URL templates (`url` or one of `fallback_urls`).
pub fn build_for(
    check: &HttpCheck,
    url_template: &str,
    values: &Values,
    amz_date: &str,
) -> Result<Built, String> {
    // The JWT bearer grant's signed assertion is offered to the templates below.
    let signed_values;
    let values = match &check.sign {
        Some(SignSpec::GoogleJwtBearer {
            client_email,
            private_key,
            key_id,
            scope,
        }) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs());
            let assertion = super::google_jwt::assertion(
                &substitute(client_email, values, Escape::None)?,
                &substitute(private_key, values, Escape::None)?,
                &substitute(key_id, values, Escape::None)?,
                scope,
                now,
            )?;
            signed_values = {
                let mut extended = values.clone();
                extended.insert(
                    crate::rules::validate::GOOGLE_ASSERTION.to_string(),
                    assertion,
                );
                extended
            };
            &signed_values
        }
        _ => values,
    };
    let (url, host) = url_and_host(check, url_template, values)?;
    let mut headers = Vec::new();
    for (name, template) in &check.headers {
        headers.push((name.clone(), substitute(template, values, Escape::Header)?));
    }
    if let Some(auth) = &check.basic_auth {
        let user = substitute(&auth.username, values, Escape::Header)?;
        let password = substitute(&auth.password, values, Escape::Header)?;
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    let mut body = Vec::new();
    if let Some(template) = &check.body {
        body = substitute(template, values, Escape::None)?.into_bytes();
    } else if !check.form.is_empty() {
        let mut fields = Vec::new();
        for (name, template) in &check.form {
            fields.push(format!(
                "{}={}",
                percent_encode(name),
                substitute(template, values, Escape::Url)?
            ));
        }
        body = fields.join("&").into_bytes();
        if !has_header(&headers, "content-type") {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
    }
    if let Some(SignSpec::AwsSigV4 {
        service,
        region,
        access_key_id,
        secret_access_key,
    }) = &check.sign
    {
        let access_key_id = substitute(access_key_id, values, Escape::Header)?;
        let secret_access_key = substitute(secret_access_key, values, Escape::None)?;
        let after_host = &url["https://".len() + host.len()..];
        let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
        let signed = sigv4::sign(&sigv4::SignInput {
            method: &check.method,
            host: &host,
            path,
            query,
            headers: &headers,
            body: &body,
            service,
            region,
            access_key_id: &access_key_id,
            secret_access_key: &secret_access_key,
            amz_date,
        });
        headers.extend(signed);
    }
    Ok(Built {
        method: check.method.clone(),
        url,
        host,
        headers,
        body,
    })
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers
        .iter()
        .any(|(present, _)| present.eq_ignore_ascii_case(name))
}

#[derive(Clone, Copy)]
enum Escape {
    /// Percent-encode everything but unreserved characters (URL and form values).
    Url,
    /// Refuse control characters (a header cannot carry CR or LF).
    Header,
    None,
}

/// The URL a template gives with `values`, and its host, which `hosts` must admit. A host taken
/// from the file (`{{org}}.okta.com`) is lower-cased, as DNS names compare.
fn url_and_host(
    check: &HttpCheck,
    url_template: &str,
    values: &Values,
) -> Result<(String, String), String> {
    let mut url = substitute(url_template, values, Escape::Url)?;
    let host = crate::rules::validate::url_host(&url)
        .ok_or("the URL has no literal https host")?
        .to_ascii_lowercase();
    url.replace_range("https://".len().."https://".len() + host.len(), &host);
    if !crate::rules::validate::host_allowed(&check.hosts, &host) {
        return Err(format!("{host} is not one of the rule's hosts"));
    }
    Ok((url, host))
}

/// The host a job's first URL goes to, for per-host bounds; empty when it cannot be built.
pub fn job_host(check: &HttpCheck, values: &Values) -> String {
    url_and_host(check, &check.url, values)
        .map(|(_, host)| host)
        .unwrap_or_default()
}

fn substitute(template: &str, values: &Values, escape: Escape) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed template")?;
        let name = &after[..end];
        let value = values
            .get(name)
            .ok_or_else(|| format!("no value for {{{{{name}}}}}"))?;
        match escape {
            Escape::Url => out.push_str(&percent_encode(value)),
            Escape::Header => {
                if value.bytes().any(|b| b.is_ascii_control()) {
                    return Err(format!(
                        "the {name} holds a control character, which a header cannot carry"
                    ));
                }
                out.push_str(value);
            }
            Escape::None => out.push_str(value),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What the provider's answer means, with the identity it names when the credential works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: ValidationStatus,
    pub detail: String,
    pub identity: BTreeMap<String, String>,
}

/// A provider's answer as the validator reads it.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    pub status: u16,
    /// Response headers (names lower-case), for identity places `header:Name`.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Reads an answer: `success` means live, `failure` (or 401/403 without one) invalid, anything
/// else unknown. Bodies are read for conditions and identity, never kept.
pub fn evaluate(check: &HttpCheck, status: u16, body: &[u8]) -> Verdict {
    evaluate_reading(
        check,
        Reading {
            status,
            headers: &[],
            body,
        },
    )
}

/// `evaluate`, with the answer's headers for identity.
pub fn evaluate_reading(check: &HttpCheck, reading: Reading<'_>) -> Verdict {
    let Reading {
        status,
        headers,
        body,
    } = reading;
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    if matches(&check.success, status, body, json.as_ref()) {
        return Verdict {
            status: ValidationStatus::Live,
            detail: format!("HTTP {status}: accepted by the provider"),
            identity: identity(check, headers, body, json.as_ref()),
        };
    }
    let failed = match &check.failure {
        Some(condition) => matches(condition, status, body, json.as_ref()),
        None => status == 401 || status == 403,
    };
    if failed {
        return Verdict {
            status: ValidationStatus::Invalid,
            detail: format!("HTTP {status}: rejected by the provider"),
            identity: BTreeMap::new(),
        };
    }
    let detail = match status {
        429 => "HTTP 429: rate limited by the provider".to_string(),
        500..=599 => format!("HTTP {status}: provider error"),
        _ => format!("HTTP {status}: an answer the validator does not recognise"),
    };
    Verdict {
        status: ValidationStatus::Unknown,
        detail,
        identity: BTreeMap::new(),
    }
}

fn matches(
    condition: &ResponseCondition,
    status: u16,
    body: &[u8],
    json: Option<&serde_json::Value>,
) -> bool {
    let status_ok = if condition.status.is_empty() {
        (200..300).contains(&status)
    } else {
        condition.status.contains(&status)
    };
    if !status_ok {
        return false;
    }
    for (pointer, expected) in &condition.json {
        let Some(actual) = json.and_then(|value| value.pointer(pointer)) else {
            return false;
        };
        let accepted = match expected {
            toml::Value::Array(options) => options.iter().any(|option| same(option, actual)),
            single => same(single, actual),
        };
        if !accepted {
            return false;
        }
    }
    if let Some(needle) = &condition.body_contains {
        if memchr::memmem::find(body, needle.as_bytes()).is_none() {
            return false;
        }
    }
    true
}

fn same(expected: &toml::Value, actual: &serde_json::Value) -> bool {
    match (expected, actual) {
        (toml::Value::String(a), serde_json::Value::String(b)) => a == b,
        (toml::Value::Boolean(a), serde_json::Value::Bool(b)) => a == b,
        (toml::Value::Integer(a), serde_json::Value::Number(b)) => b.as_i64() == Some(*a),
        (toml::Value::Float(a), serde_json::Value::Number(b)) => b.as_f64() == Some(*a),
        _ => false,
    }
}

/// An identity place naming a response header (`header:X-OAuth-Scopes`) instead of a JSON
/// pointer or an XML element: some providers say a token's scopes only there.
pub const HEADER_PLACE: &str = "header:";

/// Longest identity value kept: enough for an ARN or a list of scopes.
const MAX_IDENTITY_LEN: usize = 200;

fn identity(
    check: &HttpCheck,
    headers: &[(String, String)],
    body: &[u8],
    json: Option<&serde_json::Value>,
) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for (label, place) in &check.identity {
        let value = if place.starts_with('/') {
            json.and_then(|value| value.pointer(place))
                .and_then(json_text)
        } else if let Some(name) = place.strip_prefix(HEADER_PLACE) {
            headers
                .iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
        } else {
            xml_element(body, &place[1..place.len() - 1])
        };
        if let Some(value) = value.filter(|value| !value.is_empty()) {
            let clean: String = value
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_IDENTITY_LEN)
                .collect();
            found.insert(label.clone(), clean);
        }
    }
    found
}

fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_text).collect();
            Some(parts.join(","))
        }
        _ => None,
    }
}

fn xml_element(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = format!("<{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{name}>"))?;
    Some(text[start..start + end].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> HttpCheck {
        toml::from_str(text).expect("check parses")
    }

    const SLACK: &str = r#"
        hosts = ["slack.com"]
        method = "POST"
        url = "https://slack.com/api/auth.test"
        headers = { Authorization = "Bearer {{secret}}" }
        identity = { team = "/team", user = "/user" }
        [success]
        status = [200]
        json = { "/ok" = true }
        [failure]
        status = [200]
        json = { "/ok" = false, "/error" = ["invalid_auth", "token_revoked"] }
    "#;

    #[test]
    fn json_conditions_decide_live_and_invalid() {
        let slack = check(SLACK);
        let live = evaluate(&slack, 200, br#"{"ok":true,"team":"Acme","user":"bot"}"#);
        assert_eq!(live.status, ValidationStatus::Live);
        assert_eq!(live.identity["team"], "Acme");
        assert_eq!(live.identity["user"], "bot");
        let revoked = evaluate(&slack, 200, br#"{"ok":false,"error":"token_revoked"}"#);
        assert_eq!(revoked.status, ValidationStatus::Invalid);
        let other = evaluate(&slack, 200, br#"{"ok":false,"error":"ratelimited"}"#);
        assert_eq!(other.status, ValidationStatus::Unknown);
        assert_eq!(
            evaluate(&slack, 429, b"").detail,
            "HTTP 429: rate limited by the provider"
        );
    }

    #[test]
    fn builds_headers_forms_and_basic_auth_without_leaking_control_bytes() {
        let mut values = Values::new();
        values.insert("secret".into(), "tok/en+1".into());
        values.insert("sid".into(), "AC1".into());
        let twilio = check(
            r#"
            hosts = ["api.twilio.com"]
            method = "POST"
            url = "https://api.twilio.com/x?key={{secret}}"
            basic_auth = { username = "{{sid}}", password = "{{secret}}" }
            form = { token = "{{secret}}" }
            parts = { sid = "twilio-account-sid" }
            [success]
            "#,
        );
        let built = build(&twilio, &values, "20250101T000000Z").expect("builds");
        assert_eq!(built.url, "https://api.twilio.com/x?key=tok%2Fen%2B1");
        assert_eq!(built.host, "api.twilio.com");
        assert_eq!(built.body, b"token=tok%2Fen%2B1");
        assert!(built
            .headers
            .contains(&("Authorization".into(), "Basic QUMxOnRvay9lbisx".into())));
        values.insert("secret".into(), "a\r\nX-Evil: 1".into());
        let error = build(&twilio, &values, "20250101T000000Z").unwrap_err();
        assert!(!error.contains("Evil"), "{error}");
    }

    #[test]
    fn a_host_from_the_file_must_be_one_the_rule_admits() {
        let check = check(
            r#"
            hosts = ["*.okta.com"]
            method = "GET"
            url = "https://{{org_host}}/api/v1/users/me"
            headers = { Authorization = "SSWS {{secret}}" }
            context = { org_host = '(?P<value>[a-z0-9.-]+)' }
            [success]
            status = [200]
            "#,
        );
        let values = |host: &str| -> Values {
            [("secret", "00abc"), ("org_host", host)]
                .into_iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect()
        };
        let built = build(&check, &values("Dev-1.OKTA.com"), "").unwrap();
        assert_eq!(built.url, "https://dev-1.okta.com/api/v1/users/me");
        for hostile in [
            "evil.example",
            "okta.com",
            "dev-1.okta.com.evil.example",
            "a/b.okta.com",
        ] {
            assert!(build(&check, &values(hostile), "").is_err(), "{hostile}");
        }
    }

    #[test]
    fn reads_identity_from_xml() {
        let sts = check(
            r#"
            hosts = ["sts.amazonaws.com"]
            method = "GET"
            url = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
            headers = { X = "{{secret}}" }
            identity = { arn = "<Arn>", account = "<Account>" }
            [success]
            status = [200]
            "#,
        );
        let verdict = evaluate(
            &sts,
            200,
            b"<GetCallerIdentityResult><Arn>arn:aws:iam::1:user/x</Arn><Account>1</Account>",
        );
        assert_eq!(verdict.identity["arn"], "arn:aws:iam::1:user/x");
        assert_eq!(verdict.identity["account"], "1");
    }
}
