//! The Depot example tailnet (`fixtures/depot/`) written in every source shape
//! (`fixtures/inventories/depot/`) compiles and answers queries exactly as the project's own
//! inventory does. Shapes without roles (status, netmap, API devices) agree exactly once the
//! API users file is merged in, and alone differ only in the role capabilities (`is-admin`)
//! that need roles; headscale has no roles, so only those differ for it.
#![cfg(feature = "inventory-sources")]
#![allow(clippy::print_stdout, reason = "the test prints its table")]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::string_slice,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

use std::collections::BTreeMap;

use tailpolicy::inventory::Shape;
use tailpolicy::{Inventory, NodeOutput, Simulator};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load(files: &[&str]) -> Inventory {
    let mut merged: Option<Inventory> = None;
    for file in files {
        let read = Inventory::read(&read(&format!("inventories/depot/{file}")))
            .unwrap_or_else(|e| panic!("{file}: {}", e.message));
        assert!(read.warnings.is_empty(), "{file}: {:?}", read.warnings);
        match &mut merged {
            None => merged = Some(read.inventory),
            Some(m) => m.merge(read.inventory),
        }
    }
    merged.unwrap_or_default()
}

fn compile(inventory: &Inventory) -> BTreeMap<String, NodeOutput> {
    let policy = tailpolicy::parse_valid(&read("depot/policy.hujson"), &Default::default())
        .unwrap_or_else(|_| panic!("the Depot policy is valid"));
    tailpolicy::compile(&policy, inventory)
}

/// The compiled JSON, without role capabilities when `strip_roles`.
fn compiled_json(inventory: &Inventory, strip_roles: bool) -> String {
    let mut nodes = compile(inventory);
    if strip_roles {
        for node in nodes.values_mut() {
            node.self_capmap.retain(|cap, _| {
                !cap.ends_with("/cap/is-admin") && !cap.ends_with("/cap/is-owner")
            });
        }
    }
    serde_json::to_string_pretty(&nodes).unwrap_or_default()
}

const QUERIES: &[(&str, &str, Option<&str>)] = &[
    ("tag:depot-runner", "database:5432", Some("tcp")),
    ("tag:depot-runner", "database:22", Some("tcp")),
    ("tag:depot-runner", "192.0.2.10:443", Some("tcp")),
    ("tag:depot-runner", "192.0.2.10:80", Some("tcp")),
    ("bob@example.com", "web-1:443", None),
    ("bob@example.com", "database:5432", Some("tcp")),
    ("bob@example.com", "office-subnet:80", None),
    ("carol@example.com", "database:5432", Some("tcp")),
    ("carol@example.com", "carol-workstation:22", Some("tcp")),
    ("alice@example.com", "prometheus:9090", Some("tcp")),
    ("tag:monitoring", "tag:database:9187", Some("tcp")),
    ("tag:monitoring", "web-1:9100", Some("tcp")),
    ("group:engineering", "tag:web:80", Some("tcp")),
    ("depot-runner-7f3a", "100.101.102.103:5432", Some("tcp")),
];

const SSH: &[(&str, &str, &str)] = &[
    ("alice@example.com", "database", "root"),
    ("alice@example.com", "database", "postgres"),
    ("bob@example.com", "bob-laptop", "bob"),
    ("bob@example.com", "database", "bob"),
    ("tag:depot-runner", "web-1", "deploy"),
];

fn answers(inventory: &Inventory) -> Vec<String> {
    let policy = tailpolicy::parse_valid(&read("depot/policy.hujson"), &Default::default())
        .unwrap_or_else(|_| panic!("the Depot policy is valid"));
    let simulator = Simulator::new(&policy, Some(inventory));
    let mut out: Vec<String> = QUERIES
        .iter()
        .map(|(src, dst, proto)| format!("{:?}", simulator.query(src, dst, *proto)))
        .collect();
    out.extend(
        SSH.iter()
            .map(|(src, dst, login)| format!("{:?}", simulator.ssh_query(src, dst, login))),
    );
    out
}

#[test]
fn every_shape_of_the_depot_tailnet_compiles_and_answers_alike() {
    let own = Inventory::parse(&read("depot/inventory.json")).unwrap_or_default();
    let own_compiled = compiled_json(&own, false);
    let own_stripped = compiled_json(&own, true);
    let own_answers = answers(&own);
    assert!(own_answers.iter().any(|a| a.contains("allowed: true")));
    assert!(own_answers.iter().any(|a| a.contains("allowed: false")));
    let cases: &[(&[&str], bool)] = &[
        (&["status.json", "api-users.json"], false),
        (&["netmap.json", "api-users.json"], false),
        (&["api-devices.json", "api-users.json"], false),
        (&["status.json"], true),
        (&["netmap.json"], true),
        (&["api-devices.json"], true),
        (&["headscale-0.27-nodes.json"], true),
        (
            &["headscale-0.27-nodes.json", "headscale-0.27-users.json"],
            true,
        ),
        (&["headscale-main-nodes.json"], true),
        (
            &["headscale-main-nodes.json", "headscale-main-users.json"],
            true,
        ),
    ];
    println!("{:<58} {:>8} {:>8}", "files", "compile", "answers");
    for (files, strip_roles) in cases {
        let inventory = load(files);
        let compiled = compiled_json(&inventory, *strip_roles);
        let expected = if *strip_roles {
            &own_stripped
        } else {
            &own_compiled
        };
        assert_eq!(&compiled, expected, "{files:?}: compile output differs");
        assert_eq!(
            answers(&inventory),
            own_answers,
            "{files:?}: answers differ"
        );
        let lines = compiled.lines().count();
        println!(
            "{:<58} {:>8} {:>8}",
            files.join(" + "),
            format!("{lines} ln"),
            own_answers.len()
        );
    }
}

#[test]
fn each_file_is_recognised_and_records_what_it_lacks() {
    let expect: &[(&str, Shape, [bool; 4])] = &[
        // [roles, route_approval, nodes, users] unknown
        ("status.json", Shape::Status, [true, true, true, true]),
        ("netmap.json", Shape::Netmap, [true, true, true, true]),
        (
            "api-devices.json",
            Shape::ApiDevices,
            [true, false, false, true],
        ),
        (
            "api-devices-default-fields.json",
            Shape::ApiDevices,
            [true, true, false, true],
        ),
        (
            "api-users.json",
            Shape::ApiUsers,
            [false, true, true, false],
        ),
        (
            "api-vip-services.json",
            Shape::ApiServices,
            [true, true, true, true],
        ),
        (
            "headscale-0.27-nodes.json",
            Shape::HeadscaleNodes,
            [false, false, false, true],
        ),
        (
            "headscale-main-nodes.json",
            Shape::HeadscaleNodes,
            [false, false, false, true],
        ),
        (
            "headscale-0.27-users.json",
            Shape::HeadscaleUsers,
            [false, true, true, false],
        ),
        (
            "headscale-main-users.json",
            Shape::HeadscaleUsers,
            [false, true, true, false],
        ),
    ];
    for (file, shape, unknown) in expect {
        let read = Inventory::read(&read(&format!("inventories/depot/{file}"))).unwrap();
        assert_eq!(read.shape, *shape, "{file}");
        let u = read.inventory.unknown;
        assert_eq!(
            [u.roles, u.route_approval, u.nodes, u.users],
            *unknown,
            "{file}"
        );
    }
    // Merging: a fact is unknown only when no file knows it.
    let merged = load(&["api-devices.json", "api-users.json"]);
    assert_eq!(merged.unknown, Default::default());
}

#[test]
fn source_quirks_are_read_as_tailscale_means_them() {
    let status = Inventory::read(&read("inventories/depot/status.json")).unwrap();
    assert_eq!(status.viewer.as_deref(), Some("alice-laptop"));
    let inv = &status.inventory;
    // The trailing-dot DNS name gives the machine name; nodekey-keyed peers all present.
    assert_eq!(inv.nodes.len(), 8);
    let db = inv.node("database").unwrap();
    // Tagged nodes point at `tagged-devices`: no owner, and that pseudo-user is no user.
    assert_eq!(db.user, None);
    assert!(inv.users.iter().all(|u| u.name != "tagged-devices"));
    assert_eq!(inv.users.len(), 3);
    // `Tags` absent on untagged nodes.
    let laptop = inv.node("bob-laptop").unwrap();
    assert!(laptop.tags.is_empty());
    assert_eq!(laptop.user.as_deref(), Some("bob"));
    let router = inv.node("office-router").unwrap();
    assert_eq!(router.primary_routes, ["192.0.2.0/24".parse().unwrap()]);

    let devices = load(&["api-devices.json"]);
    let runner = devices.node("depot-runner-7f3a").unwrap();
    assert!(runner.ephemeral);
    // A tagged device's `user` registered it; it does not own it.
    assert_eq!(runner.user, None);
    assert_eq!(runner.created_by.as_deref(), Some("alice@example.com"));

    let headscale = load(&["headscale-0.27-nodes.json"]);
    let runner = headscale.node("depot-runner-7f3a").unwrap();
    assert!(runner.ephemeral);
    assert_eq!(runner.tags, ["tag:depot-runner"]);
    let services = load(&["api-vip-services.json"]);
    assert_eq!(services.services[0].name, "svc:grafana");
}

#[test]
fn shared_in_devices_and_users_are_marked() {
    let text = r#"{"devices": [
      {"addresses": ["100.70.1.1"], "name": "nas.tail4f2c.ts.net", "user": "dana@other.org",
       "isExternal": true},
      {"addresses": ["100.70.1.2"], "name": "pc.tail4f2c.ts.net", "user": "amy@example.com"}]}"#;
    let inv = Inventory::parse(text).unwrap();
    assert!(inv.node("nas").unwrap().shared);
    assert!(!inv.node("pc").unwrap().shared);
    assert!(inv.users.iter().find(|u| u.name == "dana").unwrap().shared);
    let users = r#"{"users": [{"id": "5", "loginName": "dana@other.org", "type": "shared",
      "role": "member"}, {"id": "6", "loginName": "amy@example.com", "type": "member", "role": "owner"}]}"#;
    let inv = Inventory::parse(users).unwrap();
    assert!(inv.users[0].shared);
    assert!(inv.users[0].roles.is_empty());
    assert_eq!(inv.users[1].roles, ["owner"]);
}

#[test]
fn assumed_nodes_stand_for_runners_that_come_and_go() {
    let mut inv = load(&["api-devices.json"]);
    inv.nodes.retain(|n| !n.ephemeral);
    inv.assume_nodes.push("tag:depot-runner".to_owned());
    inv.add_assumed_nodes().unwrap();
    let runner = inv.node("tag:depot-runner (assumed)").unwrap();
    assert!(runner.ephemeral);
    assert_eq!(runner.ipv4, Some("100.127.255.254".parse().unwrap()));
    assert!(inv.check().is_ok());
    // The database now admits the runner's address, as it would a real runner's.
    let nodes = compile(&inv);
    let db = serde_json::to_string(&nodes["database"].filter).unwrap();
    assert!(db.contains("100.127.255.254"), "{db}");
    inv.assume_nodes.push("web".to_owned());
    assert!(inv.add_assumed_nodes().unwrap_err().contains("`web`"));
}

fn error(text: &str) -> (String, String) {
    let e = Inventory::read(text).unwrap_err();
    let span = e.primary_span();
    (
        e.message,
        text[span.start as usize..span.end as usize].to_owned(),
    )
}

#[test]
fn bad_inventories_get_located_errors() {
    let node = |name: &str, ip: &str| format!(r#"{{"name": "{name}", "ipv4": "{ip}"}}"#);
    let nodes = |list: &[String]| format!(r#"{{"nodes": [{}]}}"#, list.join(", "));
    // Two nodes with one name: one would vanish from `compile`.
    let text = nodes(&[node("a", "100.64.0.1"), node("a", "100.64.0.2")]);
    let (message, at) = error(&text);
    assert!(
        message.contains("`nodes[1]`: node name `a` is also `nodes[0]`'s"),
        "{message}"
    );
    assert_eq!(at, node("a", "100.64.0.2"));
    let (message, _) = error(&nodes(&[node("a", "100.64.0.1"), node("b", "100.64.0.1")]));
    assert!(
        message.contains("address `100.64.0.1` is also `nodes[0]`'s"),
        "{message}"
    );
    let (message, _) = error(&nodes(&[node("a", "10.0.0.1")]));
    assert!(message.contains("outside the tailnet ranges"), "{message}");
    let (message, _) = error(r#"{"nodes": [{"name": "a", "tags": ["web"]}]}"#);
    assert!(message.contains("`web` is not a tag"), "{message}");
    let (message, _) = error(
        r#"{"users": [{"id": 1, "name": "amy", "email": "amy@a.com"}, {"id": 2, "name": "amy", "email": "amy@b.com"}]}"#,
    );
    assert!(
        message.contains("user name `amy` is also `users[0]`'s"),
        "{message}"
    );
    // A node without an address is allowed (a warning).
    let read = Inventory::read(r#"{"nodes": [{"name": "a"}]}"#).unwrap();
    assert!(read.warnings[0].message.contains("has no address"));
    // Sources get the same checks, located in their own terms.
    let (message, at) = error(
        r#"{"Self": {"DNSName": "a.ts.net.", "TailscaleIPs": ["100.64.0.1"]},
            "Peer": {"nodekey:01": {"DNSName": "b.ts.net.", "TailscaleIPs": ["100.64.0.1"]}}}"#,
    );
    assert!(
        message.contains(r#"`Peer["nodekey:01"]`: address `100.64.0.1` is also `Self`'s"#),
        "{message}"
    );
    assert!(at.starts_with("{\"DNSName\": \"b"), "{at}");
    let (message, at) = error(r#"{"devices": [{"addresses": ["100.64.0.x"]}]}"#);
    assert!(
        message.contains("`devices[0].addresses[0]` is not an IP address"),
        "{message}"
    );
    assert_eq!(at, "\"100.64.0.x\"");
    // A truncated file and a shape nobody writes.
    let (message, _) = error(r#"{"Peer": {"nodekey:01": {"TailscaleIPs": ["100.64"#);
    assert!(message.starts_with("invalid inventory: "), "{message}");
    let e = Inventory::read(r#"{"machines": []}"#).unwrap_err();
    assert!(
        e.message.contains("unknown field `machines`"),
        "{}",
        e.message
    );
    assert!(
        e.help
            .unwrap_or_default()
            .contains("tailscale status --json")
    );
}

#[test]
fn sources_never_panic_on_mangled_fixtures() {
    for file in std::fs::read_dir(format!("{DIR}inventories/depot")).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        // Every prefix, and every value swapped for another type, must give a value or an error.
        for end in (0..text.len()).step_by(97) {
            if text.is_char_boundary(end) {
                let _ = Inventory::read(&text[..end]);
            }
        }
        for (from, to) in [
            ("\"", "1"),
            ("[", "{\"x\":"),
            ("true", "\"true\""),
            ("100.", "300."),
        ] {
            let _ = Inventory::read(&text.replacen(from, to, 40));
        }
    }
}

#[test]
fn real_tailnet_allowances_are_not_errors() {
    // A node shared in from another tailnet with the same machine name as one of ours.
    let text = r#"{"Self": {"DNSName": "nas.tail4f2c.ts.net.", "TailscaleIPs": ["100.64.0.1"]},
      "Peer": {"nodekey:01": {"DNSName": "nas.other-tailnet.ts.net.", "TailscaleIPs": ["100.64.0.2"],
                              "AltSharerUserID": 7}}}"#;
    let inv = Inventory::parse(text).unwrap();
    assert_eq!(inv.nodes[1].name, "nas.other-tailnet.ts.net");
    assert!(inv.nodes[1].shared);
    // headscale may be configured with other prefixes: a warning there.
    let read =
        Inventory::read(r#"[{"id": 1, "name": "a", "ip_addresses": ["10.1.0.1"]}]"#).unwrap();
    assert!(
        read.warnings[0]
            .message
            .contains("outside the tailnet ranges")
    );
}

#[test]
fn statuses_of_several_nodes_merge() {
    let peer = |name: &str, ip: &str| {
        format!(
            r#"{{"DNSName": "{name}.tail4f2c.ts.net.", "TailscaleIPs": ["{ip}"], "UserID": 1}}"#
        )
    };
    let status = |me: String, peers: &[String]| {
        let peers: Vec<String> = peers
            .iter()
            .enumerate()
            .map(|(i, p)| format!(r#""nodekey:{i:02}": {p}"#))
            .collect();
        format!(
            r#"{{"Self": {me}, "Peer": {{{}}}, "User": {{"1": {{"ID": 1, "LoginName": "amy@example.com"}}}}}}"#,
            peers.join(", ")
        )
    };
    let a = status(peer("a", "100.64.0.1"), &[peer("b", "100.64.0.2")]);
    let b = status(peer("c", "100.64.0.3"), &[peer("b", "100.64.0.2")]);
    let mut merged = Inventory::parse(&a).unwrap();
    merged.merge(Inventory::parse(&b).unwrap());
    let names: Vec<&str> = merged.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(merged.users.len(), 1);
    assert!(merged.unknown.nodes, "statuses list only visible peers");
    assert!(merged.check().is_ok());
}
