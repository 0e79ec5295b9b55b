//! End-to-end tests of `--inventory` in other shapes (repeated, merged), `--assume-node`,
//! `inventory convert` and `verify-netmap`, on the Depot example.

use serde_json::Value;

mod common;
use common::{Run, run, workspace_root};

const POLICY: &str = "fixtures/depot/policy.hujson";
const OWN: &str = "fixtures/depot/inventory.json";
const DIR: &str = "fixtures/inventories/depot/";

fn compile(inventories: &[&str]) -> Run {
    let mut args = vec!["compile", POLICY];
    for file in inventories {
        args.extend(["--inventory", file]);
    }
    run(&args)
}

#[test]
fn merged_sources_compile_like_the_own_inventory() {
    let own = compile(&[OWN]);
    assert_eq!(own.code, 0, "{}", own.stderr);
    for files in [
        ["status.json", "api-users.json"],
        ["netmap.json", "api-users.json"],
        ["api-devices.json", "api-users.json"],
    ] {
        let paths: Vec<String> = files.iter().map(|f| format!("{DIR}{f}")).collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let out = compile(&refs);
        assert_eq!(out.code, 0, "{files:?}: {}", out.stderr);
        assert_eq!(out.stdout, own.stdout, "{files:?}");
    }
}

#[test]
fn convert_writes_a_snapshot_that_loads_back_with_its_unknowns() {
    let out = run(&[
        "inventory",
        "convert",
        &format!("{DIR}status.json"),
        "--assume-node",
        "tag:depot-runner",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let snapshot: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(snapshot["unknown"]["roles"], true);
    assert_eq!(snapshot["unknown"]["nodes"], true);
    assert_eq!(snapshot["assume_nodes"][0], "tag:depot-runner");
    assert_eq!(snapshot["nodes"].as_array().unwrap().len(), 8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, &out.stdout).unwrap();
    let from_snapshot = compile(&[path.to_str().unwrap()]);
    assert_eq!(from_snapshot.code, 0, "{}", from_snapshot.stderr);
    let compiled: Value = serde_json::from_str(&from_snapshot.stdout).unwrap();
    // The template became a node of its own, which the database admits.
    let nodes = compiled["nodes"].as_object().unwrap();
    assert!(nodes.contains_key("tag:depot-runner (assumed)"));
    let db = nodes["database"]["filter"].to_string();
    assert!(db.contains("100.127.255.254"), "{db}");
}

#[test]
fn assume_node_adds_a_runner_to_compile() {
    let without = compile(&[&format!("{DIR}api-devices.json")]);
    let out = run(&[
        "compile",
        POLICY,
        "--inventory",
        &format!("{DIR}api-devices.json"),
        "--assume-node",
        "tag:depot-runner",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_ne!(out.stdout, without.stdout);
    assert!(out.stdout.contains("tag:depot-runner (assumed)"));
    let bad = run(&[
        "compile",
        POLICY,
        "--inventory",
        OWN,
        "--assume-node",
        "web",
    ]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("cannot assume a node for `web`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn verify_netmap_is_clean_on_the_depot_netmap_and_names_a_changed_rule() {
    let netmap = format!("{DIR}netmap.json");
    let out = run(&["verify-netmap", POLICY, &netmap]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("node `alice-laptop`"), "{}", out.stdout);
    assert!(
        out.stdout.contains("packet filter: same (1 rules)"),
        "{}",
        out.stdout
    );

    let text = std::fs::read_to_string(workspace_root().join(&netmap)).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["PacketFilterRules"][0]["DstPorts"][0]["Ports"]["First"] = 1.into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("netmap.json");
    std::fs::write(&path, value.to_string()).unwrap();
    let out = run(&[
        "verify-netmap",
        POLICY,
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["same"], false);
    assert_eq!(report["ssh"]["same"], true);
    let theirs = &report["filter"]["only_theirs"];
    assert_eq!(theirs.as_array().unwrap().len(), 1);
    assert_eq!(theirs[0]["DstPorts"][0]["Ports"]["First"], 1);

    // Not a netmap.
    let out = run(&["verify-netmap", POLICY, &format!("{DIR}status.json")]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("not the output of `tailscale debug netmap`"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_inventories_exit_2_with_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let cases = [
        (
            write(
                "truncated.json",
                r#"{"devices": [{"addresses": ["100.64.0.1""#,
            ),
            "invalid inventory",
        ),
        (
            write("shape.json", r#"{"machines": []}"#),
            "unknown field `machines`",
        ),
        (
            write(
                "dup.json",
                r#"{"devices": [{"name": "a.ts.net", "addresses": ["100.64.0.1"]},
                               {"name": "b.ts.net", "addresses": ["100.64.0.1"]}]}"#,
            ),
            "address `100.64.0.1` is also `devices[0]`'s",
        ),
        (
            write(
                "tag.json",
                r#"{"nodes": [{"name": "a", "ipv4": "100.64.0.1", "tags": ["ci"]}]}"#,
            ),
            "`ci` is not a tag",
        ),
    ];
    for (path, message) in &cases {
        let out = run(&[
            "query",
            POLICY,
            "--inventory",
            path,
            "--src",
            "tag:web",
            "--dst",
            "database:80",
        ]);
        assert_eq!(out.code, 2, "{path}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{path}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("--> {path}:")),
            "{path}: {}",
            out.stderr
        );
    }
    // Two files that disagree after merging: one name, two addresses.
    let a = write(
        "a.json",
        r#"{"nodes": [{"name": "x", "ipv4": "100.64.0.1"}]}"#,
    );
    let b = write(
        "b.json",
        r#"{"nodes": [{"name": "x", "ipv4": "100.64.0.2"}]}"#,
    );
    let out = run(&["compile", POLICY, "--inventory", &a, "--inventory", &b]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("node name `x`"), "{}", out.stderr);
    // A node without an address is a warning; the command goes on.
    let c = write("c.json", r#"{"nodes": [{"name": "pending"}]}"#);
    let out = run(&["compile", POLICY, "--inventory", OWN, "--inventory", &c]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("warning[INVENTORY]"), "{}", out.stderr);
}
