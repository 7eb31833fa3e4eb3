//! Every built-in rule: structure, unique kebab-case ids, and examples that behave.

use leakhound::rules::{load_builtin, validate};

use crate::util::*;

#[test]
fn every_builtin_rule_is_valid_and_its_examples_behave() {
    let rules = load_builtin().expect("built-in rules load");
    assert!(rules.len() >= 40, "only {} built-in rules", rules.len());
    leakhound::rules::loader::ensure_unique_ids(&rules).expect("rule ids are unique");
    for rule in &rules {
        validate::validate_spec(&rule.spec).unwrap_or_else(|problem| {
            panic!("{}: {}: {problem}", rule.origin.display(), rule.spec.id)
        });
        assert!(
            rule.spec.remediation.contains("https://"),
            "{}: remediation should cite the provider's documentation",
            rule.spec.id
        );
    }
    let failures = leakhound::matcher::examples::check_examples(&rules);
    assert!(
        failures.is_empty(),
        "{} rule example failures:\n{}",
        failures.len(),
        failures
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn rules_cover_the_most_leaked_providers() {
    let rules = load_builtin().expect("built-in rules load");
    let providers: std::collections::HashSet<String> = rules
        .iter()
        .map(|rule| rule.spec.provider.to_ascii_lowercase())
        .collect();
    for wanted in [
        "aws",
        "github",
        "gitlab",
        "slack",
        "stripe",
        "google",
        "azure",
        "twilio",
        "sendgrid",
        "npm",
        "pypi",
        "openai",
        "anthropic",
    ] {
        assert!(
            providers.iter().any(|provider| provider.contains(wanted)),
            "no rule for {wanted}; providers: {providers:?}"
        );
    }
}

#[test]
fn rules_check_command_reports_failing_examples() {
    let dir = crate::util::Dir::new();
    dir.write(
        "mine.toml",
        crate::util::acme_rule(
            "(?P<secret>acme_[a-z0-9]{20})",
            &["acme_k3j4h5g6f7d8s9a0q1w2", "acme_p0o9i8u7y6t5r4e3w2q1"],
            "acme_a1s2d3f4g5h6j7k8l9z0",
        ),
    );
    let output = crate::util::run(dir.command().args(["rules", "check", "mine.toml"]));
    assert_eq!(output.status.code(), Some(1));
    let text = crate::util::stdout(&output);
    assert!(
        text.contains("acme-token`: negative example #1 matches"),
        "{text}"
    );
}

#[test]
fn secret_must_contain_filters_secrets_lacking_a_class() {
    let dir = crate::util::Dir::new();
    let rule = crate::util::acme_rule(
        "(?P<secret>acme_[a-z0-9]{20})",
        &["acme_k3j4h5g6f7d8s9a0q1w2", "acme_p0o9i8u7y6t5r4e3w2q1"],
        "acme_abcdefghijklmnopqrst",
    )
    .replace(
        "remediation =",
        "secret_must_contain = ['[0-9]']\nremediation =",
    );
    dir.write("mine.toml", rule);
    // All letters: the regex matches, the class filter rejects it (the negative example).
    let output = crate::util::run(dir.command().args(["rules", "check", "mine.toml"]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::util::stdout(&output)
    );
    dir.write(
        "app.env",
        "A=acme_abcdefghijklmnopqrst\nB=acme_k3j4h5g6f7d8s9a0q1w2\n",
    );
    let output = crate::util::run(dir.command().args([
        "scan",
        "app.env",
        "--rules",
        "mine.toml",
        "--format",
        "json",
    ]));
    let findings = crate::util::json_findings(&output);
    let acme: Vec<_> = findings
        .iter()
        .filter(|finding| finding["rule_id"] == "acme-token")
        .map(|finding| finding["line"].as_u64())
        .collect();
    assert_eq!(acme, vec![Some(2)]);
}

#[test]
fn secret_must_contain_entry_that_is_not_a_class_is_an_error() {
    let dir = crate::util::Dir::new();
    let rule = crate::util::good_acme_rule().replace(
        "remediation =",
        "secret_must_contain = ['0-9']\nremediation =",
    );
    dir.write("mine.toml", rule);
    let output = crate::util::run(dir.command().args(["rules", "check", "mine.toml"]));
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_stderr_contains(&output, "secret_must_contain entry \"0-9\"");
}

#[test]
fn rules_list_and_show_describe_every_rule() {
    let output =
        crate::util::run(crate::util::leakhound().args(["rules", "list", "--format", "json"]));
    assert_eq!(output.status.code(), Some(0));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed.len(), load_builtin().unwrap().len());
    assert!(listed.iter().any(|rule| rule["id"] == "github-pat-classic"));
    let output =
        crate::util::run(crate::util::leakhound().args(["rules", "show", "github-pat-classic"]));
    assert_eq!(output.status.code(), Some(0));
    let text = crate::util::stdout(&output);
    assert!(
        text.contains("crc32-base62") && text.contains("remediation"),
        "{text}"
    );
    let output = crate::util::run(crate::util::leakhound().args(["rules", "show", "no-such-rule"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn rule_pack_is_broad() {
    let rules = load_builtin().expect("built-in rules load");
    let providers: std::collections::HashSet<&str> = rules
        .iter()
        .map(|rule| rule.spec.provider.as_str())
        .collect();
    assert!(rules.len() >= 250, "{} rules", rules.len());
    assert!(providers.len() >= 150, "{} providers", providers.len());
}

#[test]
fn oversized_and_overfull_rule_files_are_refused_quickly() {
    let dir = Dir::new();
    let huge = format!("# {}\n{}", "x".repeat(5 * 1024 * 1024), good_acme_rule());
    dir.write("huge.toml", huge);
    let output = run(dir.command().args(["rules", "check", "huge.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "huge.toml: rule file is");
    assert_stderr_contains(&output, "over the limit of 4194304");

    let many: String = (0..6000)
        .map(|index| good_acme_rule().replace("acme-token", &format!("acme-token-{index}")))
        .collect();
    dir.write("many.toml", many);
    let output = run(dir.command().args(["scan", ".", "--rules", "many.toml"]));
    assert_eq!(output.status.code(), Some(2));
    assert_stderr_contains(&output, "many.toml: more than 5000 user rules");
}

#[test]
fn the_rule_pack_covers_at_least_500_rules_over_300_providers() {
    let rules = load_builtin().expect("built-in rules load");
    let providers: std::collections::HashSet<&str> = rules
        .iter()
        .map(|rule| rule.spec.provider.as_str())
        .collect();
    assert!(rules.len() >= 500, "{} rules", rules.len());
    assert!(providers.len() >= 300, "{} providers", providers.len());
}

#[test]
fn rules_fmt_puts_keys_in_order_and_check_lists_what_it_would_change() {
    let dir = crate::util::Dir::new();
    let canonical = crate::util::good_acme_rule();
    // The same rule with `remediation` first and the id in single quotes.
    let (before_remediation, remediation) = canonical
        .split_once("remediation = ")
        .expect("the rule has a remediation");
    let (remediation_value, rest) = remediation.split_once('\n').unwrap();
    let scrambled = format!(
        "[[rule]]\nremediation = {remediation_value}\n{}{rest}",
        before_remediation
            .trim_start_matches("[[rule]]\n")
            .replace("id = \"acme-token\"", "id = 'acme-token'")
    );
    dir.write("mine.toml", &scrambled);
    dir.write("fine.toml", canonical.replace("acme", "zeta"));
    let output = crate::util::run(dir.command().args(["rules", "fmt", "--check", "."]));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        crate::util::stdout(&output),
        "./mine.toml: not in canonical form\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.toml")).unwrap(),
        scrambled
    );
    let output = crate::util::run(dir.command().args(["rules", "fmt", "mine.toml"]));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.toml")).unwrap(),
        canonical
    );
    let output = crate::util::run(dir.command().args(["rules", "fmt", "--check", "."]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::util::stdout(&output)
    );
}

#[test]
fn rules_of_a_file_share_a_keyword_set_and_an_unknown_set_is_named() {
    let dir = crate::util::Dir::new();
    let shared = crate::util::good_acme_rule().replace(
        "keywords = [\"acme_\"]",
        "keyword_set = \"acme_words\"\nkeywords = [\"acme-\"]",
    );
    dir.write(
        "mine.toml",
        format!("[keyword_sets]\nacme_words = [\"acme_\"]\n\n{shared}"),
    );
    let output = crate::util::run(dir.command().args([
        "rules",
        "show",
        "acme-token",
        "--rules",
        "mine.toml",
    ]));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::util::stderr(&output)
    );
    let shown = crate::util::stdout(&output);
    assert!(
        shown.contains("keywords = [\n    \"acme_\",\n    \"acme-\",\n]"),
        "{shown}"
    );
    dir.write("mine.toml", shared);
    let output = crate::util::run(dir.command().args(["rules", "check", "mine.toml"]));
    assert_eq!(output.status.code(), Some(2));
    crate::util::assert_stderr_contains(
        &output,
        "mine.toml: rule `acme-token`: keyword_set \"acme_words\" is not in this file's [keyword_sets]",
    );
}
