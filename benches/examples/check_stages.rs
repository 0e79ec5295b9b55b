//! Times each stage of `check` on a generated policy: `cargo run --release -p
//! tailpolicy-benches --example check_stages -- [BYTES]`.
#![allow(
    clippy::print_stdout,
    reason = "a measuring tool prints its measurements"
)]

use std::time::Instant;

fn main() {
    let bytes = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let text = tailpolicy_benches::generate_policy(bytes);
    if std::env::var_os("PER_RULE").is_some() {
        per_rule(&text);
        return;
    }
    let started = Instant::now();
    let parsed = tailpolicy::syntax::parse(&text);
    let parse = started.elapsed();
    let root = parsed.value.expect("the generated policy parses");
    let started = Instant::now();
    let (policy, structural) = tailpolicy::model::lower(&root);
    let lower = started.elapsed();
    let started = Instant::now();
    let errors = tailpolicy::validate::validate(&policy, None);
    let validate = started.elapsed();
    if std::env::var_os("VALIDATE_LOOP").is_some() {
        for _ in 0..20 {
            let _ = tailpolicy::validate::validate(&policy, None);
        }
        return;
    }
    if std::env::var_os("LOWER_LOOP").is_some() {
        for _ in 0..20 {
            let _ = tailpolicy::model::lower(&root);
        }
        return;
    }
    if std::env::var_os("NO_LINT").is_some() {
        println!(
            "parse {parse:?}, lower {lower:?}, validate {validate:?} ({} + {} problems)",
            structural.len(),
            errors.len()
        );
        return;
    }
    let started = Instant::now();
    let config = tailpolicy::LintConfig::default();
    let lints = tailpolicy::lint(
        &policy,
        &tailpolicy::LintContext {
            source: &text,
            comments: &parsed.comments,
            inventory: None,
            config: &config,
        },
    );
    let lint = started.elapsed();
    let started = Instant::now();
    let assertions = tailpolicy::policy_tests::run(&policy, None);
    let tests = started.elapsed();
    println!(
        "{} bytes: parse {parse:?}, lower {lower:?} ({} problems), validate {validate:?} ({} problems), lint {lint:?} ({} findings), tests {tests:?} ({} assertions)",
        text.len(),
        structural.len(),
        errors.len(),
        lints.len(),
        assertions.len()
    );
}

/// Per-rule lint time, for finding slow rules (`PER_RULE=1`).
#[allow(dead_code, reason = "run on demand")]
fn per_rule(text: &str) {
    let parsed = tailpolicy::syntax::parse(text);
    let root = parsed.value.expect("parses");
    let (policy, _) = tailpolicy::model::lower(&root);
    // The best of five runs each; the first line (no rule selected) is the shared work.
    let codes = std::iter::once(("", "none")).chain(
        tailpolicy::lint::RULES
            .iter()
            .map(|rule| (rule.code, rule.name)),
    );
    for (code, name) in codes {
        let select = if code.is_empty() {
            String::new()
        } else {
            format!("\"{code}\"")
        };
        let config =
            tailpolicy::LintConfig::from_toml_str(&format!("[lint]\nselect = [{select}]\n"))
                .expect("a valid config");
        let mut best = std::time::Duration::MAX;
        let mut count = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let found = tailpolicy::lint(
                &policy,
                &tailpolicy::LintContext {
                    source: text,
                    comments: &parsed.comments,
                    inventory: None,
                    config: &config,
                },
            );
            best = best.min(started.elapsed());
            count = found.len();
        }
        println!("{code} {name}: {best:?} ({count} findings)");
    }
}
