//! Lints over every policy Tailscale accepted in the conformance corpus: none may turn an
//! accepted policy into an error, and the count of each finding is printed for review
//! (`cargo test -p tailpolicy --test lint_corpus -- --nocapture`). Skips without the corpus.

mod common;

use std::collections::BTreeMap;

use common::load_cases;
use tailpolicy::{CheckOptions, LintConfig, check};

#[test]
fn lints_raise_no_error_on_policies_tailscale_accepted() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    // Every rule, opt-in ones included, so that none can produce an error by default.
    let config = LintConfig::from_toml_str("[lint]\nselect = [\"ALL\"]").expect("valid config");
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut examples: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut accepted = 0;
    let mut failures = Vec::new();
    for case in &cases {
        if case.expect["valid"].as_bool() != Some(true) {
            continue;
        }
        accepted += 1;
        let inventory = case.inventory();
        let report = check(
            &case.policy,
            &CheckOptions {
                inventory: Some(&inventory),
                config: Some(&config),
            },
        );
        for diagnostic in &report.diagnostics {
            if diagnostic.is_error() {
                failures.push(format!(
                    "{}: {} {}",
                    case.name, diagnostic.code, diagnostic.message
                ));
            }
            if diagnostic.code.starts_with("TP") {
                *counts.entry(diagnostic.code).or_default() += 1;
                examples
                    .entry(diagnostic.code)
                    .or_insert_with(|| format!("{}: {}", case.name, diagnostic.message));
            }
        }
    }
    println!("{accepted} accepted policies linted");
    for (code, count) in &counts {
        println!("{code} {count:>5}  e.g. {}", examples[code]);
    }
    assert!(
        failures.is_empty(),
        "{} errors on accepted policies:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
