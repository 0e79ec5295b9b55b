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
        assert_spans_in_bounds(&case.name, &case.policy, &report);
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

/// Every label of every diagnostic lies inside the text, on character boundaries.
fn assert_spans_in_bounds(name: &str, text: &str, report: &tailpolicy::CheckReport) {
    for diagnostic in &report.diagnostics {
        for label in &diagnostic.labels {
            let range = label.span.range();
            assert!(
                range.start <= range.end && text.get(range.clone()).is_some(),
                "{name}: {} label {range:?} outside the text or not on a character boundary",
                diagnostic.code
            );
        }
    }
}

#[test]
fn lints_never_panic_and_keep_spans_in_bounds_on_edited_fixtures() {
    let config = LintConfig::from_toml_str("[lint]\nselect = [\"ALL\"]").expect("valid config");
    let options = CheckOptions {
        inventory: None,
        config: Some(&config),
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lint");
    let mut variants = 0;
    for dir in std::fs::read_dir(root).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "hujson") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            // The fixture itself, then each variant with one line removed.
            for skip in std::iter::once(usize::MAX).chain(0..lines.len()) {
                let edited: String = lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, l)| format!("{l}\n"))
                    .collect();
                let report = check(&edited, &options);
                assert_spans_in_bounds(&path.display().to_string(), &edited, &report);
                variants += 1;
            }
        }
    }
    println!("{variants} fixture variants checked");
}
