//! Repositories of a GitHub organisation or a GitLab group, listed through the forge's REST API
//! for `audit`: every page, following the pagination the forge documents (GitHub's `Link`
//! header, GitLab's `Link` header), never to another host than the API's own, so the token
//! goes nowhere else. The token comes from the environment and is never shown.

use std::time::Duration;

/// Environment variables holding the API tokens (the first one set is used).
pub const GITHUB_TOKEN_VARIABLES: &[&str] = &["LEAKHOUND_GITHUB_TOKEN", "GITHUB_TOKEN"];
pub const GITLAB_TOKEN_VARIABLES: &[&str] = &["LEAKHOUND_GITLAB_TOKEN", "GITLAB_TOKEN"];

/// Pages followed at most (100 repositories a page): a runaway pagination ends.
const MAX_PAGES: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("API base {0:?} must be https (http only for 127.0.0.1 or localhost)")]
    Insecure(String),
    #[error("{url}: {message}")]
    Request { url: String, message: String },
    #[error("{url}: HTTP {status}{hint}")]
    Status {
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error("{url}: the answer is not the documented list of repositories")]
    Shape { url: String },
}

/// Clone URLs of every repository of GitHub organisation `org` (`GET /orgs/{org}/repos`).
pub fn github_org_repositories(api: &str, org: &str) -> Result<Vec<String>, ForgeError> {
    let first = format!(
        "{}/orgs/{}/repos?per_page=100&type=all",
        api.trim_end_matches('/'),
        encode(org)
    );
    let token = token(GITHUB_TOKEN_VARIABLES);
    let headers: Vec<(&str, String)> = [
        ("Accept", "application/vnd.github+json".to_string()),
        ("X-GitHub-Api-Version", "2022-11-28".to_string()),
    ]
    .into_iter()
    .chain(token.map(|token| ("Authorization", format!("Bearer {token}"))))
    .collect();
    list(api, &first, &headers, "clone_url")
}

/// Clone URLs of every project of GitLab group `group`, subgroups included
/// (`GET /groups/{id}/projects?include_subgroups=true`).
pub fn gitlab_group_repositories(api: &str, group: &str) -> Result<Vec<String>, ForgeError> {
    let first = format!(
        "{}/groups/{}/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc",
        api.trim_end_matches('/'),
        encode(group)
    );
    let headers: Vec<(&str, String)> = token(GITLAB_TOKEN_VARIABLES)
        .map(|token| ("PRIVATE-TOKEN", token))
        .into_iter()
        .collect();
    list(api, &first, &headers, "http_url_to_repo")
}

fn token(variables: &[&str]) -> Option<String> {
    variables
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}

fn list(
    api: &str,
    first: &str,
    headers: &[(&str, String)],
    field: &str,
) -> Result<Vec<String>, ForgeError> {
    let api_host = host_of(api).ok_or_else(|| ForgeError::Insecure(api.to_string()))?;
    let allowed =
        api.starts_with("https://") || api.starts_with("http://") && is_loopback(&api_host);
    if !allowed {
        return Err(ForgeError::Insecure(api.to_string()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_connect(Some(Duration::from_secs(10)))
        .user_agent(concat!("leakhound/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut found = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            break;
        }
        let mut request = agent.get(&url);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let mut response = request.call().map_err(|error| ForgeError::Request {
            url: url.clone(),
            message: error.to_string(),
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ForgeError::Status {
                url,
                status,
                hint: match status {
                    401 | 403 => " (is the token set and allowed to list it?)",
                    404 => " (no such organisation or group, or not visible to the token)",
                    _ => "",
                },
            });
        }
        let link = response
            .headers()
            .get("link")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        // Bounded: 100 repositories a page is far below 32 MiB.
        let text = response
            .body_mut()
            .with_config()
            .limit(32 * 1024 * 1024)
            .read_to_string()
            .map_err(|error| ForgeError::Request {
                url: url.clone(),
                message: error.to_string(),
            })?;
        let body: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| ForgeError::Shape { url: url.clone() })?;
        let items = body
            .as_array()
            .ok_or_else(|| ForgeError::Shape { url: url.clone() })?;
        for item in items {
            let clone_url = item
                .get(field)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| ForgeError::Shape { url: url.clone() })?;
            found.push(clone_url.to_string());
        }
        next = link
            .as_deref()
            .and_then(next_link)
            .filter(|next| host_of(next).as_deref() == Some(api_host.as_str()));
    }
    Ok(found)
}

/// The `rel="next"` target of an RFC 8288 `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// `scheme://host[:port]` of a URL.
fn host_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    Some(format!("{scheme}://{authority}"))
}

fn is_loopback(origin: &str) -> bool {
    let host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Percent-encodes an organisation or group path (`/` too: GitLab takes `group%2Fsub`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_read_and_encoded_names_are_safe() {
        let header = "<https://api.github.com/organizations/1/repos?page=2>; rel=\"next\", \
                      <https://api.github.com/organizations/1/repos?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        assert_eq!(next_link("<https://x.test/?page=1>; rel=\"prev\""), None);
        assert_eq!(encode("group/sub group"), "group%2Fsub%20group");
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(!is_loopback("http://example.test"));
        assert_eq!(
            host_of("https://gitlab.example.test/api/v4").as_deref(),
            Some("https://gitlab.example.test")
        );
    }
}
