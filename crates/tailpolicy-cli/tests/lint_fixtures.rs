//! The lint fixtures in `fixtures/lint/<rule-name>/{fail,pass}*.hujson`, run through the
//! binary: each fixture's first line lists the codes it must produce (`// expect: TP004` or
//! `// expect: none`), its human report is snapshotted, and its SARIF log must validate
//! against the official SARIF 2.1.0 schema (`fixtures/schemas/`).
//!
//! A `tailpolicy.toml` beside a fixture is found by discovery, as for any policy.

use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::workspace_root;

/// Runs `tailpolicy check ARGS...` from the workspace root; returns the exit code and stdout.
fn check(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .current_dir(workspace_root())
        .arg("check")
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    (output.status.code().expect("exited normally"), stdout)
}

/// The fixture's path from the workspace root, with forward slashes.
fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .expect("fixtures live in the workspace")
        .to_string_lossy()
        .replace('\\', "/")
}

/// The codes listed on the fixture's first line.
fn expected_codes(text: &str) -> Vec<String> {
    let first = text.lines().next().unwrap_or_default();
    let list = first
        .strip_prefix("// expect:")
        .unwrap_or_else(|| {
            panic!("the first line is `// expect: CODES` or `// expect: none`: {first}")
        })
        .trim();
    if list == "none" {
        return Vec::new();
    }
    let mut codes: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
    codes.sort();
    codes
}

#[test]
fn lint_fixtures_report_their_expected_codes_and_render_as_snapshotted() {
    insta::glob!("../../../fixtures/lint", "**/*.hujson", |path| {
        let fixture = relative(path);
        let text = std::fs::read_to_string(path).unwrap();

        let (code, json) = check(&["--format", "json", &fixture]);
        assert_eq!(
            code, 0,
            "{fixture}: lints never make a policy invalid by default\n{json}"
        );
        let report: Value = serde_json::from_str(&json).unwrap();
        let mut codes: Vec<String> = report["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_owned())
            .collect();
        codes.sort();
        assert_eq!(codes, expected_codes(&text), "{fixture}");

        let (_, human) = check(&[&fixture]);
        insta::assert_snapshot!(human);
    });
}

#[test]
fn every_rule_has_failing_and_passing_fixtures() {
    let root = workspace_root().join("fixtures/lint");
    for rule in tailpolicy::lint::RULES {
        let dir = root.join(rule.name);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{}: no fixtures in {}", rule.code, dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for kind in ["fail", "pass"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.starts_with(kind) && n.ends_with(".hujson")),
                "{} ({}): missing {kind}*.hujson in {}",
                rule.code,
                rule.name,
                dir.display()
            );
        }
        // A failing fixture shows the rule firing.
        let fail = dir.join("fail.hujson");
        let text = std::fs::read_to_string(&fail).unwrap();
        assert!(
            expected_codes(&text).iter().any(|c| c == rule.code),
            "{}: fail.hujson does not expect {}",
            rule.name,
            rule.code
        );
    }
}

fn sarif_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = workspace_root().join("fixtures/schemas/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

fn assert_valid_sarif(what: &str, log: &str) {
    let log: Value = serde_json::from_str(log)
        .unwrap_or_else(|e| panic!("{what}: SARIF output is not JSON ({e}): {log}"));
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: invalid SARIF:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_of_every_lint_fixture_validates_against_the_official_schema() {
    insta::glob!("../../../fixtures/lint", "**/*.hujson", |path| {
        let fixture = relative(path);
        let (_, log) = check(&["--format", "sarif", &fixture]);
        assert_valid_sarif(&fixture, &log);
    });
}

#[test]
fn sarif_of_errors_and_unreadable_files_validates_too() {
    let (code, log) = check(&[
        "--format",
        "sarif",
        "fixtures/check/unquoted-key.hujson",
        "fixtures/check/duplicate-key.hujson",
        "fixtures/check/no such file.hujson",
    ]);
    assert_eq!(code, 2);
    assert_valid_sarif("errors", &log);
    let log: Value = serde_json::from_str(&log).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "E001"));
    assert!(results.iter().any(|r| r["ruleId"] == "IO"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "fixtures/check/no%20such%20file.hujson"));
}

#[test]
fn the_schema_rejects_a_broken_log() {
    // The validator is not vacuous: a log without `runs` fails.
    let errors = sarif_validator()
        .iter_errors(&serde_json::json!({"version": "2.1.0"}))
        .count();
    assert!(errors > 0);
}

// ---------------------------------------------------------------------------------------
// Lint options of `check`

#[test]
fn warnings_pass_unless_denied() {
    let fixture = "fixtures/lint/empty-group/fail.hujson";
    assert_eq!(check(&[fixture]).0, 0);
    let (code, out) = check(&["--deny-warnings", fixture]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("warning[TP009]"), "{out}");
    // Infos never fail a run.
    assert_eq!(
        check(&["--deny-warnings", "fixtures/lint/unused-tag/fail.hujson"]).0,
        0
    );
}

#[test]
fn github_format_writes_workflow_commands() {
    let (code, out) = check(&[
        "--format",
        "github",
        "fixtures/lint/empty-group/fail.hujson",
    ]);
    assert_eq!(code, 0);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "::warning file=fixtures/lint/empty-group/fail.hujson,line=4,col=5,endLine=4,endColumn=19,\
             title=TP009::group `group:oncall` has no members%0Ahelp: rules that name it match \
             nobody; add members, or remove the group and its uses"
        )
    );
    assert_eq!(
        lines.next(),
        Some("1 file checked: 1 valid, 0 with errors (0 errors, 1 warning)")
    );
}

#[test]
fn a_discovered_config_changes_severities() {
    let (code, out) = check(&["fixtures/config/strict/policy.hujson"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("error[TP009]: group `group:oncall` has no members"),
        "{out}"
    );
    // `--config` replaces discovery.
    let (code, _) = check(&[
        "--config",
        "fixtures/lint/ci-tag-broad-owner/tailpolicy.toml",
        "fixtures/config/strict/policy.hujson",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn a_bad_config_stops_the_run_with_located_errors() {
    let (code, out) = check(&[
        "--config",
        "fixtures/config/unknown-rule.toml",
        "fixtures/lint/empty-group/fail.hujson",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error[E501]: unknown rule `TP999`"), "{out}");
    assert!(
        out.contains(" --> fixtures/config/unknown-rule.toml:2:11"),
        "{out}"
    );
    assert!(
        out.contains(" --> fixtures/config/unknown-rule.toml:2:20"),
        "{out}"
    );
    assert!(out.contains("did you mean `empty-group`?"), "{out}");
    assert!(
        out.ends_with("no policy checked: the configuration could not be loaded\n"),
        "{out}"
    );

    let (code, json) = check(&[
        "--format",
        "json",
        "--config",
        "fixtures/config/unknown-rule.toml",
        "fixtures/lint/empty-group/fail.hujson",
    ]);
    assert_eq!(code, 2);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["files"][0]["path"],
        "fixtures/config/unknown-rule.toml"
    );
    assert_eq!(report["files"][0]["diagnostics"][0]["code"], "E501");

    let (code, _) = check(&[
        "--config",
        "fixtures/config/missing.toml",
        "fixtures/lint/empty-group/fail.hujson",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn the_json_shape_is_unchanged_for_lints() {
    let (code, json) = check(&["--format", "json", "fixtures/lint/empty-group/fail.hujson"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report,
        serde_json::json!({
            "valid": true,
            "files": [{
                "path": "fixtures/lint/empty-group/fail.hujson",
                "valid": true,
                "diagnostics": [{
                    "code": "TP009",
                    "severity": "warning",
                    "message": "group `group:oncall` has no members",
                    "help": "rules that name it match nobody; add members, or remove the group and its uses",
                    "line": 4,
                    "column": 5,
                    "end_line": 4,
                    "end_column": 19,
                }],
            }],
        })
    );
}
