//! Replays the headscale-derived conformance corpus (captures from Tailscale's control
//! server) through `check`: every policy Tailscale rejected must be rejected with its error
//! text inside one of our messages, and every policy it accepted must be accepted.
#![expect(
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::collections::BTreeMap;

use common::{Case, load_cases};
use tailpolicy::{CheckOptions, check};

/// The verdict of one case.
#[derive(Debug, PartialEq)]
enum Outcome {
    Pass,
    Fail(String),
    /// Needs the `tests` runner (truth is `test(s) failed` from evaluation).
    Deferred,
}

fn run_case(case: &Case) -> Outcome {
    let inventory = case.inventory();
    let report = check(
        &case.policy,
        &CheckOptions {
            inventory: Some(&inventory),
            ..CheckOptions::default()
        },
    );
    // Unit rows for the tests blocks say `valid: true, tests_pass: false` for a failing block.
    let tests_fail = case.expect["tests_pass"].as_bool() == Some(false);
    let expect_valid = case.expect["valid"].as_bool().unwrap_or(false) && !tests_fail;
    let expected_error = if tests_fail {
        Some("test(s) failed")
    } else {
        case.expect["error"].as_str()
    };
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    match (expect_valid, report.is_valid()) {
        (true, true) => Outcome::Pass,
        (true, false) => Outcome::Fail(format!(
            "accepted by {}, rejected here: {messages:?}",
            case.oracle()
        )),
        (false, true) if expected_error == Some("test(s) failed") => Outcome::Deferred,
        (false, true) => Outcome::Fail(format!(
            "rejected by {} ({expected_error:?}), accepted here",
            case.oracle()
        )),
        (false, false) => match expected_error {
            Some(text) if !messages.iter().any(|m| m.contains(text)) => Outcome::Fail(format!(
                "expected an error containing {text:?}, got {messages:?}"
            )),
            _ => Outcome::Pass,
        },
    }
}

#[test]
fn saas_captures_accept_and_reject_like_tailscale() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in &cases {
        let row = table.entry(case.category.clone()).or_default();
        match run_case(case) {
            Outcome::Pass => row.0 += 1,
            Outcome::Deferred => row.2 += 1,
            Outcome::Fail(why) => {
                row.1 += 1;
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    println!(
        "{:<18} {:>6} {:>6} {:>22}",
        "category", "pass", "fail", "needs tests runner"
    );
    for (category, (pass, fail, deferred)) in &table {
        println!("{category:<18} {pass:>6} {fail:>6} {deferred:>22}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} conformance failures",
        failures.len()
    );
}

#[test]
fn headscale_unit_parse_cases_are_reported() {
    let Some(cases) = load_cases("unit") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for case in cases.iter().filter(|c| {
        matches!(
            c.category.as_str(),
            "parse" | "tests-block" | "sshtests-block"
        )
    }) {
        let row = table.entry(case.folder.clone()).or_default();
        match run_case(case) {
            Outcome::Pass => row.0 += 1,
            Outcome::Deferred => row.1 += 1,
            Outcome::Fail(why) => {
                row.1 += 1;
                println!("differs {}/{}: {why}", case.folder, case.name);
            }
        }
    }
    println!("headscale unit cases (headscale's own wording, informational):");
    for (folder, (pass, fail)) in &table {
        println!("{folder:<30} {pass:>4} agree {fail:>4} differ");
    }
    // The figures are pinned so a change shows up: headscale's wording is not the target, but
    // a table moving either way should be seen and the numbers here updated on purpose.
    let figures: Vec<(&str, usize, usize)> = table
        .iter()
        .map(|(folder, &(pass, fail))| (folder.as_str(), pass, fail))
        .collect();
    assert_eq!(
        figures,
        [
            ("TestNodeAttrsValidate", 1, 5),
            ("TestRunSSHTests", 30, 1),
            ("TestRunTests", 9, 0),
            ("TestUnmarshalGrants", 16, 0),
            ("TestUnmarshalPolicy", 80, 15),
            ("TestUnmarshalPolicySSHTests", 7, 5),
        ],
        "headscale unit tables (folder, agree, differ) changed"
    );
}
