//! Embeds every `rules/*.toml` into the binary so leakhound works with no files beside it.
//! The generated table is `(file name, contents)` pairs in sorted order, so rule order (and
//! therefore output order for ties) is the same on every machine.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let rules_dir = Path::new("rules");
    let mut names: Vec<String> = fs::read_dir(rules_dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut generated =
        String::from("pub(crate) static EMBEDDED_RULE_FILES: &[(&str, &str)] = &[\n");
    for name in &names {
        println!("cargo:rerun-if-changed=rules/{name}");
        let absolute = fs::canonicalize(rules_dir.join(name)).expect("rule file is readable");
        generated.push_str(&format!(
            "    ({name:?}, include_str!({path:?})),\n",
            path = absolute.display().to_string()
        ));
    }
    generated.push_str("];\n");
    // Counted for `--version`: the number of `[[rule]]` entries and of validators.
    let (mut rules, mut validators) = (0, 0);
    for name in &names {
        let text = fs::read_to_string(rules_dir.join(name)).expect("rule file is readable");
        rules += text
            .lines()
            .filter(|line| line.trim() == "[[rule]]")
            .count();
        validators += text
            .lines()
            .filter(|line| line.trim() == "[rule.validate]")
            .count();
    }
    println!("cargo:rustc-env=LEAKHOUND_RULE_COUNT={rules}");
    println!("cargo:rustc-env=LEAKHOUND_VALIDATOR_COUNT={validators}");
    let out =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_rules.rs");
    fs::write(out, generated).expect("OUT_DIR is writable");
}
