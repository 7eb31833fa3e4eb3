//! Google's OAuth 2.0 JWT bearer grant for service accounts (RFC 7523 as Google documents it:
//! https://developers.google.com/identity/protocols/oauth2/service-account#httprest): an
//! assertion `header.claims.signature`, RS256-signed with the key file's private key. Asking for
//! a token with it is the cheapest proof that a service-account key still works: a deleted or
//! disabled key is refused with `invalid_grant`.

use base64::Engine as _;

/// Where Google's token endpoint expects the assertion to be addressed.
pub const TOKEN_AUDIENCE: &str = "https://oauth2.googleapis.com/token";

/// The signed assertion, or why it cannot be made (never quoting the key).
pub fn assertion(
    client_email: &str,
    private_key: &str,
    key_id: &str,
    scope: &str,
    now: u64,
) -> Result<String, String> {
    let der = pkcs8_der(private_key)?;
    let key_pair = ring::signature::RsaKeyPair::from_pkcs8(&der)
        .map_err(|_| "the private key is not an RSA key in PKCS#8 form".to_string())?;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": key_id });
    let claims = serde_json::json!({
        "iss": client_email,
        "scope": scope,
        "aud": TOKEN_AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    });
    let signed = format!(
        "{}.{}",
        encode(header.to_string().as_bytes()),
        encode(claims.to_string().as_bytes())
    );
    let mut signature = vec![0u8; key_pair.public().modulus_len()];
    key_pair
        .sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .map_err(|_| "the private key could not sign".to_string())?;
    Ok(format!("{signed}.{}", encode(&signature)))
}

/// The DER bytes of a PEM private key as a JSON key file writes it: `\n` escapes (or real line
/// breaks) between the base64 lines.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, String> {
    let text = pem.replace("\\r", "").replace("\\n", "\n");
    let body = text
        .split_once("-----BEGIN PRIVATE KEY-----")
        .and_then(|(_, rest)| rest.split_once("-----END PRIVATE KEY-----"))
        .map(|(body, _)| body)
        .ok_or("the private key is not a whole PKCS#8 PEM block")?;
    let base64_text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_err(|_| "the private key's base64 does not decode".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RSA key of the validation fixture (made for it; it belongs to no account).
    fn fixture_key() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/validation/google.toml"
        );
        let text = std::fs::read_to_string(path).expect("fixture exists");
        let table: toml::Table = toml::from_str(&text).expect("fixture parses");
        table["case"][0]["parts"]["private_key"]
            .as_str()
            .expect("the fixture names a private key")
            .to_string()
    }

    #[test]
    fn the_assertion_is_an_rs256_jwt_google_can_verify() {
        let key = fixture_key();
        let email = "deploy-bot@acme-prod-3141.iam.gserviceaccount.com";
        let jwt =
            assertion(email, &key, "b9dbc8a3", "https://scope", 1_700_000_000).expect("signed");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .expect("base64url");
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("JSON")
        };
        let header = decode(parts[0]);
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "b9dbc8a3");
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], email);
        assert_eq!(claims["aud"], TOKEN_AUDIENCE);
        assert_eq!(claims["scope"], "https://scope");
        assert_eq!(claims["exp"], 1_700_003_600);
        // The signature verifies with the key's public half.
        let der = pkcs8_der(&key).expect("PEM");
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("RSA");
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref().to_vec(),
        );
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("base64url");
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"tampered", &signature).is_err());
    }

    #[test]
    fn a_key_that_is_not_a_pem_block_is_refused_without_quoting_it() {
        let error = assertion("sa@p.iam.gserviceaccount.com", "not a key", "k", "s", 0)
            .expect_err("refused");
        assert_eq!(error, "the private key is not a whole PKCS#8 PEM block");
        let error = assertion(
            "sa@p.iam.gserviceaccount.com",
            "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n",
            "k",
            "s",
            0,
        )
        .expect_err("refused");
        assert_eq!(error, "the private key is not an RSA key in PKCS#8 form");
    }
}
