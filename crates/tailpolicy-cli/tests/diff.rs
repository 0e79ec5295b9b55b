//! End-to-end tests of `tailpolicy diff` on the Depot example and a copy with one widened
//! rule (`fixtures/diff/depot-widened.hujson`): output snapshots, JSON shape, bad input and
//! the CI gates.

use serde_json::Value;

mod common;
use common::{run, workspace_root};

const OLD: &str = "fixtures/depot/policy.hujson";
const NEW: &str = "fixtures/diff/depot-widened.hujson";
const INVENTORY: &str = "fixtures/depot/inventory.json";

#[test]
fn human_output() {
    let out = run(&["diff", OLD, NEW, "--inventory", INVENTORY]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn markdown_output() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--inventory",
        INVENTORY,
        "--format",
        "markdown",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn markdown_output_without_an_inventory() {
    let out = run(&["diff", OLD, NEW, "--format", "markdown"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn json_rows_name_the_change_exactly() {
    let out = run(&[
        "diff",
        OLD,
        NEW,
        "--inventory",
        INVENTORY,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["unchanged"], false);
    assert_eq!(json["removed"], serde_json::json!([]));
    let row = &json["added"][0];
    assert_eq!(json["added"].as_array().unwrap().len(), 1);
    assert_eq!(row["kind"], "network");
    assert_eq!(row["src"], serde_json::json!(["tag:depot-runner"]));
    assert_eq!(row["dst"], serde_json::json!(["tag:database"]));
    assert_eq!(row["dst_ips"], serde_json::json!(["100.101.102.103"]));
    assert_eq!(row["protos"], serde_json::json!([6]));
    assert_eq!(row["ports"], serde_json::json!(["6432"]));
    assert_eq!(row["new_rules"][0]["label"], "acls[0]");
    assert_eq!(row["new_rules"][0]["line"], 40);
    assert_eq!(row["old_rules"][0]["line"], 39);
    assert_eq!(row["example"]["port"], 6432);
    assert_eq!(row["example"]["dst_ip"], "100.101.102.103");
}

/// The data team's grant gains an `app` capability (`fixtures/diff/depot-app.hujson`).
const APP: &str = "fixtures/diff/depot-app.hujson";

#[test]
fn capability_rows_human_and_markdown() {
    let out = run(&["diff", OLD, APP, "--inventory", INVENTORY]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("capability_human", out.stdout);
    let out = run(&[
        "diff",
        APP,
        OLD,
        "--inventory",
        INVENTORY,
        "--format",
        "markdown",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("capability_markdown_removed", out.stdout);
}

#[test]
fn capability_rows_in_json_and_the_gates() {
    let out = run(&[
        "diff",
        OLD,
        APP,
        "--inventory",
        INVENTORY,
        "--format",
        "json",
        "--fail-on",
        "added",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["removed"], serde_json::json!([]));
    let rows = json["added"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row["kind"], "capability");
    assert_eq!(row["src"], serde_json::json!(["group:data"]));
    assert_eq!(row["dst"], serde_json::json!(["tag:database"]));
    assert_eq!(row["dst_nodes"], serde_json::json!(["database"]));
    assert_eq!(row["capability"], "example.com/cap/pgadmin");
    assert_eq!(row["values"], serde_json::json!([{"role": "read-only"}]));
    assert_eq!(row["whole"], true);
    assert_eq!(row["new_rules"][0]["label"], "grants[0]");
    let code = |selector: &str| {
        run(&[
            "diff",
            OLD,
            APP,
            "--inventory",
            INVENTORY,
            "--no-new-access-for",
            selector,
        ])
        .code
    };
    assert_eq!(code("group:data"), 1);
    assert_eq!(code("tag:web"), 0);
}

#[test]
fn the_same_policy_reformatted_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let formatted = run(&["fmt", OLD]);
    assert_eq!(formatted.code, 0);
    let copy = dir.path().join("formatted.hujson");
    std::fs::write(&copy, formatted.stdout.replace("\t", "  ")).unwrap();
    let out = run(&[
        "diff",
        OLD,
        copy.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "any",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["unchanged"], true);
}

#[test]
fn an_invalid_side_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.hujson");
    std::fs::write(
        &bad,
        r#"{"acls": [{"action": "accept", "src": ["tag:nope"], "dst": ["*:*"]}]}"#,
    )
    .unwrap();
    let out = run(&["diff", OLD, bad.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("new: "), "{}", out.stderr);
    assert!(out.stderr.contains("the new policy"), "{}", out.stderr);
}

#[test]
fn git_references() {
    let out = run(&[
        "diff",
        "git:no-such-ref-xyz:fixtures/depot/policy.hujson",
        NEW,
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no-such-ref-xyz"), "{}", out.stderr);
    // The committed Depot policy against itself.
    let out = run(&[
        "diff",
        "git:HEAD:fixtures/depot/policy.hujson",
        OLD,
        "--format",
        "json",
    ]);
    if out.code == 2 && out.stderr.contains("cannot run `git`") {
        return;
    }
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["old"], "git:HEAD:fixtures/depot/policy.hujson");
}

#[test]
fn gates() {
    let code = |extra: &[&str]| {
        let mut args = vec!["diff", OLD, NEW, "--inventory", INVENTORY];
        args.extend_from_slice(extra);
        run(&args).code
    };
    assert_eq!(code(&["--fail-on", "added"]), 1);
    assert_eq!(code(&["--fail-on", "any"]), 1);
    assert_eq!(code(&["--fail-on", "removed"]), 0);
    assert_eq!(code(&["--no-new-access-for", "tag:depot-runner"]), 1);
    // The database is a destination of the widened access, so it counts too.
    assert_eq!(code(&["--no-new-access-for", "database"]), 1);
    assert_eq!(code(&["--no-new-access-for", "tag:monitoring"]), 0);
    // Without an inventory, the tag stands for a hypothetical runner.
    let out = run(&["diff", OLD, NEW, "--no-new-access-for", "tag:depot-runner"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("widens access for `tag:depot-runner`"));
}

#[test]
fn pin_writes_tests_that_pass_now_and_fail_when_access_widens() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("policy.hujson");
    let original = std::fs::read_to_string(workspace_root().join(OLD)).unwrap();
    std::fs::write(&copy, &original).unwrap();
    let path = copy.to_str().unwrap();
    let out = run(&[
        "pin",
        path,
        "--src",
        "tag:depot-runner",
        "--inventory",
        INVENTORY,
        "--write",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pinned = std::fs::read_to_string(&copy).unwrap();
    // Every comment of the original is still there.
    for line in original
        .lines()
        .filter(|l| l.trim_start().starts_with("//"))
    {
        assert!(pinned.contains(line.trim()), "lost comment {line}");
    }
    assert!(
        pinned.contains(r#""accept": ["100.101.102.103:5432", "192.0.2.1:443"]"#),
        "{pinned}"
    );
    assert!(pinned.contains(r#""100.101.102.103:5433""#), "{pinned}");
    assert_eq!(run(&["check", path, "--inventory", INVENTORY]).code, 0);
    // Widening the runner's database access now fails the pinned tests.
    std::fs::write(
        &copy,
        pinned.replace(r#"["database:5432"]"#, r#"["database:5432,5433"]"#),
    )
    .unwrap();
    let check = run(&["check", path, "--inventory", INVENTORY]);
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("test(s) failed"), "{}", check.stdout);
}

#[test]
fn pin_without_write_prints_and_leaves_the_file() {
    let out = run(&["pin", OLD, "--src", "tag:depot-runner"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Pinned by `tailpolicy pin --src tag:depot-runner`")
    );
    let unknown = run(&["pin", OLD, "--src", "tag:nope"]);
    assert_eq!(unknown.code, 2);
}
