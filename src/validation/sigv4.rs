//! AWS Signature Version 4, the one request signature a validator needs in code
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).

use ring::{digest, hmac};

/// What SigV4 signs: the request as it will be sent.
pub struct SignInput<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// Path, `/` when empty.
    pub path: &'a str,
    /// Query string without `?`, already percent-encoded.
    pub query: &'a str,
    /// Headers other than `host` and `x-amz-date`, names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub service: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// `YYYYMMDD'T'HHMMSS'Z'`.
    pub amz_date: &'a str,
}

/// The headers to add to the request: `x-amz-date` and `authorization`.
pub fn sign(input: &SignInput<'_>) -> Vec<(String, String)> {
    let date = &input.amz_date[..8.min(input.amz_date.len())];
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    headers.push(("host".into(), input.host.to_string()));
    headers.push(("x-amz-date".into(), input.amz_date.to_string()));
    headers.sort();
    let signed_headers: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let signed_headers = signed_headers.join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        if input.path.is_empty() {
            "/"
        } else {
            input.path
        },
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        hex(digest::digest(&digest::SHA256, input.body).as_ref())
    );
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        input.amz_date,
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let mut key = hmac_sha256(
        format!("AWS4{}", input.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [input.region, input.service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    vec![
        ("x-amz-date".into(), input.amz_date.to_string()),
        (
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, \
                 Signature={signature}",
                input.access_key_id
            ),
        ),
    ]
}

/// Query parameters sorted by name then value, as SigV4 requires.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The current time as SigV4 writes it (`20150830T123600Z`): the RFC 3339 form the history
/// report already prints, without its separators.
pub fn amz_date_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    amz_date(i64::try_from(seconds).unwrap_or(i64::MAX))
}

fn amz_date(seconds: i64) -> String {
    crate::source::git::format_time(seconds).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of AWS's "Create a signed AWS API request" page (IAM ListUsers,
    /// the documented example credentials, 2015-08-30 12:36:00 UTC).
    #[test]
    fn signs_the_documented_example_request() {
        let headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        )];
        let added = sign(&SignInput {
            method: "GET",
            host: "iam.amazonaws.com",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            body: b"",
            service: "iam",
            region: "us-east-1",
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            amz_date: "20150830T123600Z",
        });
        let authorization = &added[1].1;
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn formats_dates_like_sigv4() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
    }
}
