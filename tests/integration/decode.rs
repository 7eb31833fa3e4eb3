//! Secrets inside encoded text: reported once, at the encoded span, with the decoding chain.

use base64::Engine;

use crate::util::*;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn hex(text: &str) -> String {
    text.bytes().map(|byte| format!("{byte:02x}")).collect()
}

fn scan_one(contents: &str, extra: &[&str]) -> (std::process::Output, Vec<serde_json::Value>) {
    let dir = Dir::new();
    dir.write("conf.txt", contents);
    let output = run(dir
        .command()
        .args(["scan", ".", "--format", "json"])
        .args(extra));
    let findings = json_findings(&output);
    (output, findings)
}

#[test]
fn base64_encoded_secret_is_reported_at_the_encoded_span() {
    let token = github_token("ghp_", 500);
    let encoded = b64(&format!("token={token}"));
    let (output, findings) = scan_one(&format!("# config\nblob: {encoded}\n"), &[]);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "conf.txt".into(), 2, 7)]
    );
    assert_eq!(findings[0]["decoded"], serde_json::json!(["base64"]));
    let text = stdout(&output);
    assert!(!text.contains(&token) && !text.contains(&encoded), "{text}");
}

#[test]
fn hex_percent_and_escaped_secrets_are_found() {
    let token = github_token("ghp_", 501);
    let hexed = hex(&format!("key={token}"));
    let percent: String = format!("key%3D{}%26x%3D1%26y%3D2", token);
    let escaped: String = format!("token={}", token)
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    for (contents, encoding) in [
        (format!("a = {hexed}\n"), "hex"),
        (
            format!("url: https://example.test/?q={percent}\n"),
            "percent",
        ),
        (format!("{{\"v\": \"{escaped}\"}}\n"), "escape"),
    ] {
        let (_, findings) = scan_one(&contents, &[]);
        let decoded: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|finding| finding["rule_id"] == "github-pat-classic")
            .collect();
        assert_eq!(decoded.len(), 1, "{encoding}: {findings:?}");
        if encoding != "percent" {
            assert_eq!(
                decoded[0]["decoded"],
                serde_json::json!([encoding]),
                "{findings:?}"
            );
        }
    }
}

#[test]
fn a_chain_of_two_encodings_is_followed() {
    let token = github_token("ghp_", 502);
    let inner = b64(&format!("export GITHUB_TOKEN={token}\n"));
    let outer = hex(&inner);
    let (_, findings) = scan_one(&format!("payload={outer}\n"), &[]);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "conf.txt".into(), 1, 9)]
    );
    assert_eq!(findings[0]["decoded"], serde_json::json!(["hex", "base64"]));
    let (_, shallow) = scan_one(&format!("payload={outer}\n"), &["--decode-depth", "1"]);
    assert!(shallow.is_empty(), "{shallow:?}");
}

#[test]
fn the_same_secret_raw_and_encoded_on_one_line_is_one_finding() {
    let token = github_token("ghp_", 503);
    let encoded = b64(&format!("token={token}"));
    let (_, findings) = scan_one(&format!("raw={token} enc={encoded}\n"), &[]);
    assert_eq!(
        locations(&findings),
        vec![("github-pat-classic".into(), "conf.txt".into(), 1, 5)]
    );
    assert!(findings[0]["decoded"].is_null());
    assert!(findings[0]["occurrences"].as_array().unwrap().is_empty());
}

#[test]
fn no_decode_switches_decoding_off_and_says_so() {
    let token = github_token("ghp_", 504);
    let encoded = b64(&format!("token={token}"));
    let (output, findings) = scan_one(&format!("blob: {encoded}\n"), &["--no-decode"]);
    assert!(findings.is_empty(), "{findings:?}");
    assert!(
        stderr(&output).contains("decoding off"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn base64_images_and_invalid_base64_are_skipped_quietly() {
    let image: String = base64::engine::general_purpose::STANDARD.encode(
        (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    );
    let contents = format!(
        "<img src=\"data:image/png;base64,{image}\"/>\nnot base64: Zm9vYmFy!!!@@@%%%ZZZZZZZZZZZZZZZZZZZZZZZZZZ1a\n"
    );
    let (output, findings) = scan_one(&contents, &[]);
    assert_eq!(output.status.code(), Some(0), "{findings:?}");
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}
