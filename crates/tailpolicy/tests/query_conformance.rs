//! The query engine's answers agree with the packet filters Tailscale captured: for every
//! accepted `acl`, `grant` and `routes` capture, every ordered pair of nodes (and every node
//! against an address inside each approved subnet route) is queried on the ports the
//! captured filters mention, over TCP, UDP and ICMP, and the answer is compared with a
//! direct reading of the captured filters by the client's rules.
#![expect(
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::{Case, load_cases};
use serde_json::Value;
use tailpolicy::addr::IpSet;
use tailpolicy::query::Simulator;

const DEFAULT_PROTOCOLS: [u64; 4] = [6, 17, 1, 58];

fn set_of(value: &Value) -> IpSet {
    let strings = value.as_array().map(Vec::as_slice).unwrap_or_default();
    IpSet::parse_tailscale_list(strings.iter().filter_map(Value::as_str)).unwrap_or_default()
}

/// Does a captured filter admit the packet (policy-semantics §6.7)?
fn captured_allows(rules: &[Value], src: IpAddr, dst: IpAddr, port: u16, proto: u64) -> bool {
    rules.iter().any(|rule| {
        if !set_of(&rule["SrcIPs"]).contains(src) {
            return false;
        }
        let dsts = rule["DstPorts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let dst_in = |d: &Value| {
            d["IP"]
                .as_str()
                .is_some_and(|ip| IpSet::parse_tailscale(ip).is_ok_and(|s| s.contains(dst)))
        };
        if proto == 1 || proto == 58 {
            return dsts.iter().any(dst_in);
        }
        let protos: Vec<u64> = rule["IPProto"]
            .as_array()
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_else(|| DEFAULT_PROTOCOLS.to_vec());
        protos.contains(&proto)
            && dsts.iter().any(|d| {
                let first = d["Ports"]["First"].as_u64().unwrap_or(0);
                let last = d["Ports"]["Last"].as_u64().unwrap_or(0);
                dst_in(d) && first <= u64::from(port) && u64::from(port) <= last
            })
    })
}

fn ports_of(rules: &[Value]) -> Vec<u16> {
    let mut ports = vec![22, 443];
    for rule in rules {
        for d in rule["DstPorts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            for key in ["First", "Last"] {
                if let Some(p) = d["Ports"][key].as_u64().and_then(|p| u16::try_from(p).ok())
                    && !ports.contains(&p)
                {
                    ports.push(p);
                }
            }
        }
    }
    ports
}

/// Returns (queries, mismatches).
fn run_case(case: &Case) -> (usize, Vec<String>) {
    let policy = match case.policy() {
        Ok(policy) => policy,
        Err(why) => return (0, vec![why]),
    };
    let inventory = case.inventory();
    let simulator = Simulator::new(&policy, Some(&inventory));
    let filters = case.expect["filter"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let rules_of = |name: &str| -> Vec<Value> {
        filters
            .get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut targets: Vec<(String, IpAddr, Vec<String>)> = Vec::new();
    for node in &inventory.nodes {
        if let Some(ip) = node.ipv4 {
            targets.push((node.name.clone(), IpAddr::V4(ip), vec![node.name.clone()]));
        }
    }
    // One address inside each approved subnet route, carried by its routers.
    for node in &inventory.nodes {
        for route in node.approved_routes.iter().filter(|r| r.prefix_len() > 0) {
            let Some(inside) = route.hosts().nth(1).or_else(|| Some(route.addr())) else {
                continue;
            };
            let routers: Vec<String> = inventory
                .nodes
                .iter()
                .filter(|n| n.approved_routes.iter().any(|r| r.contains(&inside)))
                .map(|n| n.name.clone())
                .collect();
            if !targets.iter().any(|(_, ip, _)| *ip == inside) {
                targets.push((inside.to_string(), inside, routers));
            }
        }
    }
    let mut queries = 0;
    let mut mismatches = Vec::new();
    for src in &inventory.nodes {
        let Some(src_ip) = src.ipv4.map(IpAddr::V4) else {
            continue;
        };
        for (label, dst_ip, receivers) in &targets {
            if label == &src.name {
                continue;
            }
            let receiver_rules: Vec<Value> = receivers.iter().flat_map(|r| rules_of(r)).collect();
            for port in ports_of(&receiver_rules) {
                for (proto_name, proto) in [("tcp", 6), ("udp", 17), ("icmp", 1)] {
                    let dst = if dst_ip.is_ipv6() {
                        format!("[{label}]:{port}")
                    } else {
                        format!("{label}:{port}")
                    };
                    let ours = match simulator.query(&src.name, &dst, Some(proto_name)) {
                        Ok(answer) => answer.allowed,
                        Err(error) => {
                            mismatches.push(format!("{} -> {dst}: error {error}", src.name));
                            continue;
                        }
                    };
                    queries += 1;
                    let theirs = captured_allows(&receiver_rules, src_ip, *dst_ip, port, proto);
                    if ours != theirs {
                        mismatches.push(format!(
                            "{} -> {dst}/{proto_name}: ours {ours}, captured {theirs}",
                            src.name
                        ));
                    }
                }
            }
        }
    }
    (queries, mismatches)
}

#[test]
fn query_answers_agree_with_captured_filters() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases
        .iter()
        .filter(|c| c.expect.get("filter").is_some() && !c.unreliable)
    {
        let (queries, mismatches) = run_case(case);
        let row = table.entry(case.category.clone()).or_default();
        row.0 += 1;
        row.1 += queries;
        row.2 += mismatches.len();
        if let Some(first) = mismatches.first() {
            failures.push(format!(
                "{}: {} mismatches, e.g. {first}",
                case.name,
                mismatches.len()
            ));
        }
    }
    println!(
        "{:<18} {:>6} {:>9} {:>10}",
        "category", "cases", "queries", "mismatches"
    );
    for (category, (cases, queries, mismatches)) in &table {
        println!("{category:<18} {cases:>6} {queries:>9} {mismatches:>10}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} captures answer differently",
        failures.len()
    );
}
