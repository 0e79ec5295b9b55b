//! End-to-end tests of `query`, `compile` and `reach` on the bundled Depot example, and of
//! `query --batch` against filters captured from Tailscale.

use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::{run, workspace_root};

const POLICY: &str = "fixtures/depot/policy.hujson";
const INVENTORY: &str = "fixtures/depot/inventory.json";

#[test]
fn depot_runner_reaches_the_database_through_acl_0() {
    let out = run(&[
        "query",
        POLICY,
        "--inventory",
        INVENTORY,
        "--src",
        "tag:depot-runner",
        "--dst",
        "database:5432",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["src"], "tag:depot-runner");
    assert_eq!(answer["dst"], "database:5432");
    assert_eq!(answer["proto"], "tcp");
    let first = &answer["matches"][0];
    assert_eq!(first["section"], "acls");
    assert_eq!(first["index"], 0);
    assert!(first["line"].as_u64().unwrap() > 1);
    assert!(first["column"].as_u64().unwrap() >= 1);
    assert!(
        answer["explanation"]
            .as_str()
            .unwrap()
            .starts_with("allowed")
    );
}

#[test]
fn denied_query_exits_1_and_names_the_closest_rule() {
    let out = run(&[
        "query",
        POLICY,
        "--src",
        "tag:depot-runner",
        "--dst",
        "database:22",
    ]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.starts_with("DENIED"), "{}", out.stdout);
    assert!(
        out.stdout.contains("port(s) 5432 but not 22"),
        "{}",
        out.stdout
    );
}

#[test]
fn subnet_destination_names_the_router() {
    let out = run(&[
        "query",
        POLICY,
        "--inventory",
        INVENTORY,
        "--src",
        "tag:depot-runner",
        "--dst",
        "192.0.2.10:443",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("through"), "{}", out.stdout);
}

#[test]
fn bad_queries_exit_2_with_a_message() {
    for args in [
        vec![
            "query",
            POLICY,
            "--src",
            "tag:depot-runner",
            "--dst",
            "database",
        ],
        vec![
            "query",
            POLICY,
            "--src",
            "tag:depot-runner",
            "--dst",
            "database:http",
        ],
        vec![
            "query",
            POLICY,
            "--src",
            "nobody-here",
            "--dst",
            "database:22",
        ],
        vec![
            "query",
            POLICY,
            "--src",
            "tag:depot-runner",
            "--dst",
            "database:22",
            "--proto",
            "bogus",
        ],
        vec![
            "query",
            "fixtures/check/unquoted-key.hujson",
            "--src",
            "tag:x",
            "--dst",
            "1.2.3.4:1",
        ],
        vec![
            "query",
            "missing.hujson",
            "--src",
            "tag:x",
            "--dst",
            "1.2.3.4:1",
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?} explains itself");
    }
}

#[test]
fn compile_prints_every_node_in_the_corpus_shape() {
    let out = run(&[
        "compile",
        POLICY,
        "--inventory",
        INVENTORY,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    let database = &value["nodes"]["database"];
    let rules = database["filter"].as_array().unwrap();
    assert!(rules.iter().any(|r| {
        r["DstPorts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["Ports"]["First"] == 5432)
    }));
    assert!(database["peers"].is_object());
    let one = run(&[
        "compile",
        POLICY,
        "--inventory",
        INVENTORY,
        "--node",
        "database",
    ]);
    let one: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(one["nodes"].as_object().unwrap().len(), 1);
    assert_eq!(
        run(&[
            "compile",
            POLICY,
            "--inventory",
            INVENTORY,
            "--node",
            "nope"
        ])
        .code,
        2
    );
}

#[test]
fn reach_lists_both_directions() {
    let from = run(&[
        "reach",
        POLICY,
        "--inventory",
        INVENTORY,
        "--from",
        "tag:depot-runner",
        "--format",
        "json",
    ]);
    assert_eq!(from.code, 0, "{}", from.stderr);
    let from: Value = serde_json::from_str(&from.stdout).unwrap();
    let names: Vec<&str> = from["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"database"), "{names:?}");
    let to = run(&[
        "reach",
        POLICY,
        "--inventory",
        INVENTORY,
        "--to",
        "database:5432",
    ]);
    assert_eq!(to.code, 0, "{}", to.stderr);
    assert!(to.stdout.contains("depot-runner"), "{}", to.stdout);
    assert_eq!(run(&["reach", POLICY]).code, 2);
}

/// The corpus, or `None` (a skip) outside CI.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("TAILPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/conformance"));
    if dir.join("headscale/saas/acl").is_dir() {
        return Some(dir);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "conformance corpus missing"
    );
    None
}

fn covers(list: &Value, ip: &str) -> bool {
    list.as_array().unwrap().iter().any(|s| {
        let s = s.as_str().unwrap();
        s == "*"
            || s == ip
            || tailpolicy::addr::IpSet::parse_tailscale(s)
                .is_ok_and(|set| set.contains(ip.parse().unwrap()))
    })
}

/// `query --batch` over every pair of nodes of a few captures, compared with the captured
/// filters read by the client's rules (TCP).
#[test]
fn batch_answers_agree_with_captured_filters() {
    let Some(dir) = corpus() else { return };
    let temp = std::env::temp_dir().join(format!("tailpolicy-batch-{}", std::process::id()));
    std::fs::create_dir_all(&temp).unwrap();
    let mut checked = 0;
    for name in [
        "acl-a01",
        "acl-p03",
        "grant-j4",
        "routes-a1-wildcard-acl-includes-routes-in-srcips",
    ] {
        let path = std::fs::read_dir(dir.join("headscale/saas"))
            .unwrap()
            .map(|e| e.unwrap().path().join(format!("{name}.json")))
            .find(|p| p.exists());
        let Some(path) = path else { continue };
        let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let policy = temp.join(format!("{name}.hujson"));
        let inventory = temp.join(format!("{name}.inventory.json"));
        let batch = temp.join(format!("{name}.batch"));
        std::fs::write(&policy, case["policy"].as_str().unwrap()).unwrap();
        let inv = serde_json::json!({"users": case["users"], "nodes": case["nodes"]});
        std::fs::write(&inventory, inv.to_string()).unwrap();
        let nodes = case["nodes"].as_array().unwrap();
        let mut lines = String::new();
        let mut expected = Vec::new();
        for src in nodes {
            for dst in nodes {
                if src["name"] == dst["name"] {
                    continue;
                }
                for port in [22u64, 80, 443, 5432] {
                    lines.push_str(&serde_json::json!({"src": src["name"], "dst": format!("{}:{port}", dst["name"].as_str().unwrap()), "proto": "tcp"}).to_string());
                    lines.push('\n');
                    let src_ip = src["ipv4"].as_str().unwrap();
                    let dst_ip = dst["ipv4"].as_str().unwrap();
                    let rules = case["expect"]["filter"][dst["name"].as_str().unwrap()]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    expected.push(rules.iter().any(|r| {
                        covers(&r["SrcIPs"], src_ip)
                            && r["IPProto"]
                                .as_array()
                                .is_none_or(|p| p.is_empty() || p.contains(&Value::from(6)))
                            && r["DstPorts"].as_array().is_some_and(|d| {
                                d.iter().any(|d| {
                                    let one = serde_json::json!([d["IP"]]);
                                    covers(&one, dst_ip)
                                        && d["Ports"]["First"].as_u64().unwrap() <= port
                                        && port <= d["Ports"]["Last"].as_u64().unwrap()
                                })
                            })
                    }));
                }
            }
        }
        std::fs::write(&batch, lines).unwrap();
        let out = run(&[
            "query",
            policy.to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
            "--batch",
            batch.to_str().unwrap(),
        ]);
        assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
        let answers: Vec<Value> = out
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(answers.len(), expected.len());
        for (answer, expected) in answers.iter().zip(&expected) {
            assert_eq!(
                answer["allowed"].as_bool(),
                Some(*expected),
                "{name}: {answer}"
            );
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&temp);
    println!("batch: {checked} answers agree with the captured filters");
}

#[test]
fn test_command_reports_each_assertion_and_junit() {
    let ok = run(&["test", POLICY, "--inventory", INVENTORY]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("assertions:") && ok.stdout.contains("0 failed"),
        "{}",
        ok.stdout
    );

    let failing = run(&["test", "fixtures/tests/failing.hujson", "--format", "json"]);
    assert_eq!(failing.code, 1, "{}", failing.stderr);
    let report: Value = serde_json::from_str(&failing.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["failures"], 1);
    let failed = report["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["passed"] == false)
        .unwrap();
    assert_eq!(failed["expect"], "deny");
    assert_eq!(failed["target"], "database:22");
    assert_eq!(failed["line"], 18);
    assert!(failed["detail"].as_str().unwrap().contains("acls[0]"));

    let junit = run(&["test", "fixtures/tests/failing.hujson", "--format", "junit"]);
    assert_eq!(junit.code, 1);
    assert!(junit.stdout.starts_with("<?xml"));
    assert!(
        junit.stdout.contains(
            r#"<testsuites name="tailpolicy" tests="2" skipped="0" failures="1" errors="0">"#
        ),
        "{}",
        junit.stdout
    );
    assert!(junit.stdout.contains("<failure message="));
}

#[test]
fn check_runs_the_tests_and_points_at_the_failing_assertion() {
    let out = run(&["check", "fixtures/tests/failing.hujson", "--format", "json"]);
    assert_eq!(out.code, 1);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let diagnostic = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E403")
        .expect("a failed-test diagnostic");
    assert!(
        diagnostic["message"]
            .as_str()
            .unwrap()
            .starts_with("test(s) failed")
    );
    assert_eq!(diagnostic["line"], 18);
}

/// A bad line gets an error object with its line number, and the lines after it are still
/// answered; the exit status says that a line failed.
#[test]
fn batch_answers_every_line_and_reports_bad_ones_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("queries.jsonl");
    let mut lines = [
        r#"{"src": "tag:depot-runner", "dst": "database:5432"}"#,
        "not json",
        r#"{"src": "tag:depot-runner", "dst": "database:5432", "port": 1}"#,
        r#"{"src": "tag:depot-runner", "dst": "nohost:5432"}"#,
        r#"{"src": "tag:depot-runner", "dst": "database:5432", "proto": "nope"}"#,
        r#"{"src": "tag:depot-runner", "dst": "database:5432", "proto": 6}"#,
        "",
        r#"{"src": "tag:depot-runner", "dst": "database:22"}"#,
    ]
    .join("\n")
    .into_bytes();
    lines.extend_from_slice(b"\n{\"src\": \"\xff\", \"dst\": \"database:5432\"}\n");
    std::fs::write(&batch, lines).unwrap();
    let out = run(&[
        "query",
        POLICY,
        "--inventory",
        INVENTORY,
        "--batch",
        batch.to_str().unwrap(),
    ]);
    assert_eq!(
        out.code, 2,
        "a failed line makes the run fail: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("5 of 8 lines") && out.stderr.contains("could not be answered"),
        "{}",
        out.stderr
    );
    let answers: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 8, "one output line per non-empty input line");
    assert_eq!(answers[0]["allowed"], true);
    assert_eq!(answers[5]["allowed"], true, "`\"proto\": 6` is TCP");
    assert_eq!(answers[5]["proto"], "tcp");
    assert_eq!(answers[6]["allowed"], false, "the line after a blank one");
    let errors: Vec<(u64, &str)> = [1, 2, 3, 4, 7]
        .iter()
        .map(|&i| {
            let answer = &answers[i];
            assert!(answer.get("allowed").is_none(), "{answer}");
            (
                answer["line"].as_u64().unwrap(),
                answer["error"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        [2, 3, 4, 5, 9]
    );
    assert!(errors[0].1.starts_with("not valid JSON"), "{}", errors[0].1);
    assert!(
        errors[1].1.contains("unknown field `port`"),
        "{}",
        errors[1].1
    );
    assert!(
        errors[2].1.contains("`nohost` names nothing"),
        "{}",
        errors[2].1
    );
    assert_eq!(answers[3]["dst"], "nohost:5432", "the query is echoed");
    assert!(errors[3].1.contains("protocol `nope`"), "{}", errors[3].1);
    assert_eq!(errors[4].1, "the line is not valid UTF-8");
    for (_, message) in &errors {
        assert!(
            !message.contains("BatchLine") && !message.contains("struct"),
            "{message}"
        );
    }

    // Only denials: exit 1, as before.
    std::fs::write(
        &batch,
        r#"{"src": "tag:depot-runner", "dst": "database:22"}"#,
    )
    .unwrap();
    let out = run(&[
        "query",
        POLICY,
        "--inventory",
        INVENTORY,
        "--batch",
        batch.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

/// `--ssh-user` takes a host; a port on it is named as the mistake when the host alone is known.
#[test]
fn ssh_query_with_a_port_says_to_drop_it() {
    let ssh = |dst: &str| {
        run(&[
            "query",
            POLICY,
            "--inventory",
            INVENTORY,
            "--src",
            "tag:depot-runner",
            "--dst",
            dst,
            "--ssh-user",
            "root",
        ])
    };
    let out = ssh("database:22");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("the destination is a host without a port")
            && out.stderr.contains("`--dst database`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("names nothing"), "{}", out.stderr);
    // An unknown host keeps the message about the host.
    let out = ssh("nohost:22");
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`nohost:22` names nothing"),
        "{}",
        out.stderr
    );
}

#[test]
fn ssh_query_reports_verdict_and_rule() {
    let out = run(&[
        "query",
        POLICY,
        "--inventory",
        INVENTORY,
        "--src",
        "group:platform-team",
        "--dst",
        "database",
        "--ssh-user",
        "root",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(answer["verdict"], "check");
    assert_eq!(answer["rule"], 0);
    let denied = run(&[
        "query",
        POLICY,
        "--src",
        "tag:depot-runner",
        "--dst",
        "database",
        "--ssh-user",
        "root",
    ]);
    assert_eq!(denied.code, 1);
}

/// The setup of Depot's integration guide, queried without an inventory.
const GUIDE: &str = "fixtures/guide/policy.hujson";

fn json_query(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["query", GUIDE];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = run(&all);
    assert!(
        out.code == 0 || out.code == 1,
        "{}{}",
        out.stdout,
        out.stderr
    );
    (out.code, serde_json::from_str(&out.stdout).unwrap())
}

fn condition_texts(answer: &Value) -> Vec<String> {
    answer["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn guide_runner_reaches_the_host_alias_on_condition_that_both_devices_exist() {
    let (code, answer) = json_query(&[
        "--src",
        "tag:depot-runner",
        "--dst",
        "database-hostname:5432",
    ]);
    assert_eq!(code, 0);
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["matches"][0]["index"], 0);
    let conditions = condition_texts(&answer);
    assert!(
        conditions.iter().any(|c| c.contains("`tag:depot-runner`")),
        "{conditions:?}"
    );
    assert!(
        conditions.iter().any(|c| c.contains("`100.101.102.103`")),
        "{conditions:?}"
    );
}

#[test]
fn guide_runner_reaches_the_subnet_once_the_auto_approved_router_is_approved() {
    let (code, answer) = json_query(&["--src", "tag:depot-runner", "--dst", "192.0.2.10:443"]);
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["matches"][0]["index"], 1);
    let route = answer["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "route")
        .expect("a route condition");
    assert_eq!(
        route["text"],
        "a router for `192.0.2.0/24` is approved; `autoApprovers` approves routers tagged `tag:subnet-router`"
    );
    let human = run(&[
        "query",
        GUIDE,
        "--src",
        "tag:depot-runner",
        "--dst",
        "192.0.2.10:443",
    ]);
    assert!(
        human.stdout.contains("on condition that:"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("192.0.2.0/24"), "{}", human.stdout);
}

#[test]
fn guide_runner_has_no_rule_for_another_tag() {
    let (code, answer) = json_query(&["--src", "tag:depot-runner", "--dst", "tag:database:5432"]);
    assert_eq!(code, 1);
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["conditions"].as_array().unwrap().len(), 0);
}

#[test]
fn guide_users_to_the_runner_over_ssh() {
    let out = run(&[
        "query",
        GUIDE,
        "--src",
        "group:platform-team",
        "--dst",
        "tag:depot-runner",
        "--ssh-user",
        "root",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(answer["verdict"], "check");
    assert!(
        condition_texts(&answer)
            .iter()
            .any(|c| c.contains("`tag:depot-runner`")),
        "{answer}"
    );
    // A user the policy names in no ssh rule: denied in every tailnet.
    let bob = run(&[
        "query",
        GUIDE,
        "--src",
        "bob@example.com",
        "--dst",
        "tag:depot-runner",
        "--ssh-user",
        "root",
    ]);
    assert_eq!(bob.code, 1, "{}", bob.stdout);
    assert!(bob.stdout.contains("no ssh rule"), "{}", bob.stdout);
}

#[test]
fn a_group_source_is_answered_for_every_member() {
    let out = run(&[
        "query",
        POLICY,
        "--src",
        "group:engineering",
        "--dst",
        "database:5432",
        "--inventory",
        INVENTORY,
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(answer["allowed"], false);
    let members = answer["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["member"], "alice@example.com");
    assert_eq!(members[0]["allowed"], true);
    assert_eq!(members[1]["member"], "bob@example.com");
    assert_eq!(members[1]["allowed"], false);
    assert!(
        answer["explanation"]
            .as_str()
            .unwrap()
            .contains("allowed for alice@example.com; denied for bob@example.com"),
        "{answer}"
    );
    let unknown = run(&[
        "query",
        POLICY,
        "--src",
        "tag:nonexistent",
        "--dst",
        "database:5432",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("not in `tagOwners`"),
        "{}",
        unknown.stderr
    );
    let member = run(&[
        "query",
        POLICY,
        "--src",
        "autogroup:member",
        "--dst",
        "database:5432",
    ]);
    assert_eq!(member.code, 1, "{}{}", member.stdout, member.stderr);
    assert!(
        member.stdout.contains("allowed for alice@example.com"),
        "{}",
        member.stdout
    );
}

#[test]
fn tests_that_depend_on_tailnet_state_are_warnings_without_an_inventory() {
    let dir = std::env::temp_dir().join(format!("tailpolicy-undetermined-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("policy.hujson");
    std::fs::write(
        &policy,
        r#"{
  "tagOwners": {"tag:db": ["autogroup:admin"], "tag:mon": ["autogroup:admin"], "tag:router": ["autogroup:admin"]},
  "hosts": {"database": "100.101.102.103"},
  "grants": [
    {"src": ["autogroup:admin"], "dst": ["tag:db"], "ip": ["tcp:22"]},
    {"src": ["tag:mon"], "dst": ["tag:db"], "ip": ["tcp:9187"]},
    {"src": ["tag:mon"], "dst": ["10.1.0.0/16"], "ip": ["tcp:443"], "via": ["tag:router"]},
  ],
  "tests": [
    {"src": "alice@example.com", "accept": ["tag:db:22"]},
    {"src": "tag:mon", "accept": ["database:9187", "10.1.2.3:443"], "deny": ["database:22"]},
    {"src": "tag:mon", "deny": ["database:9187"]},
  ],
}"#,
    )
    .unwrap();
    let path = policy.to_str().unwrap();
    let out = run(&["check", path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let messages: Vec<&str> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "E405")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages[0].ends_with("passes if `alice@example.com` is an admin"),
        "{messages:?}"
    );
    assert!(
        messages[1].ends_with("passes if the device at `100.101.102.103` is tagged `tag:db`"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("deny database:9187 from tag:mon fails if"),
        "{messages:?}"
    );
    let test = run(&["test", path]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    assert!(
        test.stdout.contains("undetermined: passes if"),
        "{}",
        test.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn reach_json(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["reach"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = run(&all);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    value["entries"].as_array().unwrap().clone()
}

#[test]
fn reach_without_an_inventory_lists_what_the_rules_grant() {
    // The guide: the host alias and the subnet, the latter on a route condition.
    let lines = reach_json(&[GUIDE, "--from", "tag:depot-runner"]);
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database-hostname", "192.0.2.0/24"], "{lines:?}");
    assert!(
        lines[1]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "route")
    );
    // An allow-all policy: everything, not "nothing".
    let dir = std::env::temp_dir().join(format!("tailpolicy-reach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let allow_all = dir.join("allow-all.hujson");
    std::fs::write(&allow_all, r#"{"tagOwners": {"tag:a": []}, "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}, {"action": "accept", "src": ["bob@example.com"], "dst": ["tag:a:22"]}]}"#).unwrap();
    let path = allow_all.to_str().unwrap();
    let lines = reach_json(&[path, "--from", "tag:a"]);
    assert!(
        lines
            .iter()
            .any(|l| l["name"] == "*" && l["ports"][0] == "*"),
        "{lines:?}"
    );
    // --to lists the `*` and user rules' sources, not only the tag itself.
    let lines = reach_json(&[path, "--to", "tag:a:22"]);
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"*") && names.contains(&"bob@example.com"),
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The Depot example: the database by its alias.
    let lines = reach_json(&[POLICY, "--to", "database:5432"]);
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"tag:depot-runner") && names.contains(&"group:data"),
        "{names:?}"
    );
}

#[test]
fn reach_with_an_inventory_shows_what_routers_carry() {
    let lines = reach_json(&[
        POLICY,
        "--inventory",
        INVENTORY,
        "--from",
        "group:platform-team",
    ]);
    let subnet: Vec<&Value> = lines
        .iter()
        .filter(|l| l["name"] == "office-router" && !l["addr"].is_null())
        .collect();
    assert_eq!(subnet.len(), 1, "{lines:#?}");
    assert_eq!(subnet[0]["addr"], "192.0.2.0/24");
    assert_eq!(subnet[0]["ports"], serde_json::json!(["*"]));
}
