//! The real-policy suite: `fixtures/real/*.hujson` are policies written the way people
//! write them for the features Tailscale accepts today (one file per feature); each must
//! pass `tailpolicy check` with no error and no validation warning. Every file under
//! `fixtures/real/invalid/` starts with `// expect: CODE text` and must be rejected with
//! that code and a message containing that text.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tailpolicy::{CheckOptions, Inventory, Severity, check, compile, parse_valid};

mod common;
use common::workspace_root;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hujson"))
        .collect();
    files.sort();
    files
}

/// `check --format json FILE`: the exit code and the file's diagnostics.
fn check_file(path: &Path) -> (i32, Vec<Value>) {
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .current_dir(workspace_root())
        .args(["check", "--format", "json"])
        .arg(path)
        .output()
        .expect("the binary runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not JSON ({e}): {}",
            path.display(),
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let diagnostics = report["files"][0]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (output.status.code().expect("exited normally"), diagnostics)
}

fn describe(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{} {} {}", d["code"], d["severity"], d["message"]))
        .collect()
}

#[test]
fn every_real_policy_is_accepted() {
    let files = fixtures("fixtures/real");
    assert!(
        files.len() >= 10,
        "expected the whole suite, found {files:?}"
    );
    for path in files {
        let (code, diagnostics) = check_file(&path);
        // Lints (TPxxx) may advise; a validation finding (Exxx) of any severity may not.
        let findings: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| {
                d["severity"] == "error" || d["code"].as_str().is_some_and(|c| c.starts_with('E'))
            })
            .collect();
        assert!(
            code == 0 && findings.is_empty(),
            "{}: exit {code}, {:?}",
            path.display(),
            describe(&diagnostics)
        );
    }
}

#[test]
fn every_invalid_variant_is_rejected_with_its_wording() {
    let files = fixtures("fixtures/real/invalid");
    assert!(
        files.len() >= 8,
        "expected the invalid variants, found {files:?}"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture is readable");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("// expect: "))
            .unwrap_or_else(|| {
                panic!(
                    "{}: first line must be `// expect: CODE text`",
                    path.display()
                )
            });
        let (want_code, want_text) = expect.split_once(' ').expect("`CODE text`");
        let (code, diagnostics) = check_file(&path);
        assert_eq!(code, 1, "{}: {:?}", path.display(), describe(&diagnostics));
        let found = diagnostics.iter().any(|d| {
            d["severity"] == "error"
                && d["code"] == want_code
                && d["message"].as_str().is_some_and(|m| m.contains(want_text))
        });
        assert!(
            found,
            "{}: want {want_code} containing {want_text:?}, got {:?}",
            path.display(),
            describe(&diagnostics)
        );
    }
}

/// Validation findings of a policy, as `(code, severity)`.
fn validation(text: &str) -> Vec<(&'static str, Severity)> {
    check(text, &CheckOptions::default())
        .diagnostics
        .iter()
        .filter(|d| d.code.starts_with('E'))
        .map(|d| (d.code, d.severity))
        .collect()
}

#[test]
fn rules_not_pinned_down_warn_instead_of_rejecting() {
    // A tailscale.com capability tailpolicy does not know: Tailscale may publish it.
    let unknown_cap = r#"{"tagOwners": {"tag:a": []},
      "grants": [{"src": ["*"], "dst": ["tag:a"], "app": {"tailscale.com/cap/newthing": [{}]}}]}"#;
    assert_eq!(validation(unknown_cap), [("E306", Severity::Warning)]);

    // The recorder and connector tags: no capture shows what Tailscale says.
    let undefined_recorder = r#"{"tagOwners": {"tag:a": []},
      "ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:a"],
               "users": ["ubuntu"], "recorder": ["tag:rec"]}]}"#;
    assert_eq!(
        validation(undefined_recorder),
        [("E201", Severity::Warning)]
    );
    let connector = r#"{"nodeAttrs": [{"target": ["*"], "app": {"tailscale.com/app-connectors": [
      {"name": "x", "connectors": ["tag:gone"], "domains": ["example.com"], "routes": ["nope"]}]}}]}"#;
    assert_eq!(
        validation(connector),
        [("E201", Severity::Warning), ("E314", Severity::Warning)]
    );

    // Node capabilities are not held to the grant reserved-domain rule at all.
    let node_caps = r#"{"nodeAttrs": [{"target": ["*"], "app": {
      "tailscale.com/app-connectors": [], "tailscale.com/visible-groups": [{}]}}]}"#;
    assert_eq!(validation(node_caps), []);

    // Host aliases and addresses as SSH sources: the targets table says no, no capture
    // shows a refusal, and policies in use write them.
    let address_sources = r#"{"hosts": {"laptop": "100.64.0.9"}, "tagOwners": {"tag:a": []},
      "ssh": [{"action": "accept", "src": ["laptop", "100.64.0.10"], "dst": ["tag:a"], "users": ["root"]}]}"#;
    assert_eq!(
        validation(address_sources),
        [("E207", Severity::Warning), ("E207", Severity::Warning)]
    );

    // checkPeriod on an accept rule: headscale's error, not Tailscale's.
    let accept_period = r#"{"tagOwners": {"tag:a": []},
      "ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:a"], "users": ["root"], "checkPeriod": "20h"}]}"#;
    assert_eq!(validation(accept_period), [("E311", Severity::Warning)]);

    // `*:<ports>` in a grant's `ip`: any protocol, read as the bare ports.
    let any_proto = r#"{"tagOwners": {"tag:a": []},
      "grants": [{"src": ["autogroup:member"], "dst": ["tag:a"], "ip": ["*:8096", "*:8920-8921"]}]}"#;
    assert_eq!(validation(any_proto), []);

    // Both spellings of the member autogroup: the docs forbid it, Tailscale's snippets do it.
    let spellings = r#"{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["*:*"]}],
      "nodeAttrs": [{"target": ["autogroup:members"], "attr": ["funnel"]}]}"#;
    assert_eq!(validation(spellings), [("E214", Severity::Warning)]);

    let attr_type = r#"{"attrConfig": {"custom:x": {"type": "date"}}}"#;
    assert_eq!(validation(attr_type), [("E104", Severity::Warning)]);
}

#[test]
fn role_autogroups_in_ssh_sources_resolve_to_the_users_with_the_role() {
    let text = r#"{
      "tagOwners": {"tag:prod": []},
      "ssh": [{"action": "accept", "src": ["autogroup:admin"], "dst": ["tag:prod"], "users": ["root"]}],
    }"#;
    let inventory = Inventory::parse(
        r#"{
      "users": [
        {"id": 1, "name": "alice", "email": "alice@example.com", "roles": ["admin"]},
        {"id": 2, "name": "bob", "email": "bob@example.com", "roles": ["member"]}
      ],
      "nodes": [
        {"name": "alice-laptop", "ipv4": "100.64.0.1", "user": "alice"},
        {"name": "bob-laptop", "ipv4": "100.64.0.2", "user": "bob"},
        {"name": "prod-1", "ipv4": "100.64.0.3", "tags": ["tag:prod"]}
      ]}"#,
    )
    .expect("inventory parses");
    let policy = parse_valid(text, &CheckOptions::default()).expect("valid policy");
    let nodes = compile(&policy, &inventory);
    let rules = &nodes["prod-1"].ssh_rules;
    assert_eq!(rules.len(), 1);
    let principals: Vec<&str> = rules[0]
        .principals
        .iter()
        .map(|p| p.node_ip.as_str())
        .collect();
    assert_eq!(principals, ["100.64.0.1"]);
}
