//! Rules as written in `rules/*.toml`: plain serde data, kept apart from the compiled form in
//! `matcher`. `deny_unknown_fields` everywhere: a misspelt key must be an error, never a rule that
//! silently lost its entropy floor.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One rule file: a list of `[[rule]]` tables, and keyword lists its rules share.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Named keyword lists (`[keyword_sets] credential_names = [...]`) a rule of this file
    /// takes with `keyword_set = "credential_names"`, so a family of rules keeps one list.
    #[serde(default)]
    pub keyword_sets: BTreeMap<String, Vec<String>>,
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleSpec>,
}

/// How bad it is if this credential leaks: what an attacker gets with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected low, medium, high or critical)"
            )),
        }
    }
}

/// How sure we are that a match is a real credential of this kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    #[default]
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Offline check digits a token format carries; see `matcher::checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumKind {
    /// GitHub/npm style: the last six characters are the base62 CRC32 of the body.
    #[serde(rename = "crc32-base62")]
    Crc32Base62,
    /// A JWT whose header segment decodes to a JSON object with an `alg` key.
    #[serde(rename = "jwt-header")]
    JwtHeader,
}

/// A rule exactly as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub severity: Severity,
    #[serde(default)]
    pub confidence: Confidence,
    /// Literals, ASCII case-insensitive; with `keyword_set`, added to that set's.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Globs (`**/config/master.key`) a file's path must match for the rule to apply. A rule
    /// with paths and no keywords reads the whole file (up to `WHOLE_FILE_LIMIT` bytes): for
    /// credential files known by their name, whose content is the secret itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// A `[keyword_sets]` entry of the same file; resolved into `keywords` at load time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword_set: Option<String>,
    pub regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumKind>,
    /// How many bytes before a keyword hit the secret may start (beyond the hit's own line).
    #[serde(default)]
    pub reach_before: usize,
    /// How many bytes after a keyword hit the secret may end (beyond the hit's own line).
    #[serde(default)]
    pub reach_after: usize,
    /// Off only for formats whose bodies are long random blocks (key files) where a placeholder
    /// word occurring by chance would cost a real finding.
    #[serde(default = "default_true")]
    pub placeholder_filter: bool,
    /// Byte classes (`[0-9]`, `[G-Zg-z]`) of which the secret must hold at least one byte
    /// each. Says "a letter and a digit somewhere" without a regex that spells out every
    /// position, which for bounded repetitions blows up into a huge DFA (the generic rules ran
    /// at ~37 MB/s that way, and dominated tree scans).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_must_contain: Vec<String>,
    /// Regexes for this provider's values that are public by design (publishable keys, client
    /// tokens shipped to browsers and apps): low-confidence (generic) rules do not report a
    /// value matching one, whichever rules a run enables. A fact from the provider's docs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_forms: Vec<String>,
    /// Values the provider publishes in its own documentation (Stripe's API reference test
    /// key, AWS's `...EXAMPLE` keys): a match equal to one is dropped and counted, by any rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documented_samples: Vec<String>,
    pub remediation: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// How to ask the provider whether a found credential works (`--validate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<HttpCheck>,
    /// How to revoke a found credential through the provider's own API (`leakhound revoke`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<HttpCheck>,
}

/// One HTTP request to a provider and how to read its answer: the validator (`[rule.validate]`)
/// and the revocation (`[rule.revoke]`) of a rule. Data, not code, so a provider is added by
/// reading its documentation and writing TOML; only signatures (`sign`) need code.
///
/// Strings marked "template" substitute `{{secret}}` and `{{NAME}}` for each entry of `parts`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// The only hosts this request may reach (the URL's host must be one of them); a redirect
    /// elsewhere is refused. Shown by `rules show` so a user can see where a secret would go.
    /// `*.example.com` admits the hosts under `example.com` (one or more labels), for providers
    /// that give each customer a host of their own; only a URL whose host is `{{name}}.` plus
    /// that suffix, with `name` taken from `context`, may use it.
    pub hosts: Vec<String>,
    /// GET, POST, PUT, PATCH, DELETE or HEAD.
    pub method: String,
    /// Template; must be `https://` with a literal host from `hosts`, or `{{name}}.` and the
    /// suffix of a `*.` entry of `hosts`, `name` from `context`.
    pub url: String,
    /// More URLs (same rules as `url`), tried in order while the answers say invalid or
    /// unknown: for providers whose accounts live on one of several regional hosts (Datadog's
    /// sites). The first live answer wins; invalid only when every URL says invalid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_urls: Vec<String>,
    /// Header name to template.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// HTTP basic authentication, both fields templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// Raw request body (template); give `content_type` with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Form fields sent as `application/x-www-form-urlencoded` (values are templates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub form: BTreeMap<String, String>,
    /// Request signing done in code (AWS SigV4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<SignSpec>,
    /// Other parts of a multi-part credential: template name to the id of the rule that finds
    /// that part. The part is taken from the nearest finding of that rule in the same file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, String>,
    /// What the request needs from the file around the credential that is not itself a
    /// credential: the customer's own host label (`dev-123456` of `dev-123456.okta.com`), the
    /// account e-mail an API token goes with. Template name to a regex; the match nearest to the
    /// credential in the same file gives the value (its `value` group, or the whole match). Only
    /// looked for with `--validate`, and never reported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
    /// The answer that means "works" (validate) or "revoked" (revoke).
    pub success: ResponseCondition,
    /// The answer that means "does not work" (validate) or "could not revoke". Without it,
    /// HTTP 401 and 403 mean that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ResponseCondition>,
    /// Label to a place in the success answer naming whom the credential belongs to: a JSON
    /// pointer (`/login`) or an XML element (`<Arn>`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// Request signing schemes implemented in code.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, tag = "scheme")]
pub enum SignSpec {
    /// AWS Signature Version 4 over the whole request.
    #[serde(rename = "aws-sigv4")]
    AwsSigV4 {
        service: String,
        region: String,
        /// Template for the access key id, usually a part (`{{key_id}}`).
        access_key_id: String,
        /// Template for the secret access key, usually `{{secret}}`.
        secret_access_key: String,
    },
    /// Google's OAuth 2.0 JWT bearer grant for service accounts: an RS256-signed assertion,
    /// made from the key file's private key and client email, offered to the template
    /// `{{assertion}}` (a form field of the token request).
    #[serde(rename = "google-jwt-bearer")]
    GoogleJwtBearer {
        /// Template for the key file's `client_email`.
        client_email: String,
        /// Template for the key file's `private_key` (the PEM as written in the JSON, with
        /// `\n` escapes).
        private_key: String,
        /// Template for the key file's `private_key_id` (the JWT's `kid`).
        key_id: String,
        /// The scope the token is asked for.
        scope: String,
    },
}

impl HttpCheck {
    /// Every template of the first request: the URL, headers, form, body, basic credentials and
    /// the signing inputs; not `fallback_urls`.
    pub fn first_request_templates(&self) -> Vec<&str> {
        let mut templates: Vec<&str> = vec![&self.url];
        templates.extend(self.headers.values().map(String::as_str));
        templates.extend(self.form.values().map(String::as_str));
        templates.extend(self.body.as_deref());
        if let Some(auth) = &self.basic_auth {
            templates.push(&auth.username);
            templates.push(&auth.password);
        }
        match &self.sign {
            Some(SignSpec::AwsSigV4 {
                access_key_id,
                secret_access_key,
                ..
            }) => templates.extend([access_key_id.as_str(), secret_access_key]),
            Some(SignSpec::GoogleJwtBearer {
                client_email,
                private_key,
                key_id,
                ..
            }) => templates.extend([client_email.as_str(), private_key, key_id]),
            None => {}
        }
        templates
    }
}

/// A test on an HTTP answer: every listed element must hold.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseCondition {
    /// The status must be one of these (empty: any 2xx).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// JSON pointer to the value it must equal; an array lists accepted values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, toml::Value>,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

fn default_true() -> bool {
    true
}
