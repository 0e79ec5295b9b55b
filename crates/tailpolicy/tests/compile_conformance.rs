//! Every `acl`, `grant` and `routes` capture Tailscale accepted compiles to the same per-node
//! packet filters: rule order as captured; order inside `SrcIPs`, `DstPorts`, `IPProto` and
//! `CapGrant.Dsts` free; null, absent and empty equal.
#![expect(
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Case, load_cases};
use serde_json::Value;
use tailpolicy::compile::Compiled;

/// A filter rule in a form where order inside lists does not matter.
#[derive(Debug, PartialEq, Eq)]
struct CanonicalRule {
    src: BTreeSet<String>,
    dst: BTreeSet<(String, u64, u64)>,
    proto: BTreeSet<u64>,
    caps: Vec<(BTreeSet<String>, String)>,
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn canonical(rule: &Value) -> CanonicalRule {
    let dst = rule["DstPorts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    (
                        d["IP"].as_str().unwrap_or("").to_owned(),
                        d["Ports"]["First"].as_u64().unwrap_or(0),
                        d["Ports"]["Last"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let proto = rule["IPProto"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let caps = rule["CapGrant"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| (strings(&c["Dsts"]), c["CapMap"].to_string()))
                .collect()
        })
        .unwrap_or_default();
    CanonicalRule {
        src: strings(&rule["SrcIPs"]),
        dst,
        proto,
        caps,
    }
}

fn compare(case: &Case) -> Result<(), String> {
    let policy = case.policy()?;
    let inventory = case.inventory();
    let compiled = Compiled::new(&policy, &inventory);
    let expected = case.expect["filter"].as_object().ok_or("no filter")?;
    let mut problems = Vec::new();
    for (node, rules) in compiled.wire_filters() {
        let ours: Vec<CanonicalRule> = rules
            .iter()
            .map(|r| canonical(&serde_json::to_value(r).unwrap_or_default()))
            .collect();
        let theirs: Vec<CanonicalRule> = expected
            .get(&node)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(canonical).collect())
            .unwrap_or_default();
        if ours != theirs {
            problems.push(format!(
                "node {node}:\n  ours:   {}\n  theirs: {}",
                serde_json::to_string(&rules).unwrap_or_default(),
                serde_json::to_string(&expected.get(&node)).unwrap_or_default()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[test]
fn filters_match_tailscale_captures() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.expect.get("filter").is_some()) {
        let row = table.entry(case.category.clone()).or_default();
        match compare(case) {
            Ok(()) => row.0 += 1,
            Err(why) if case.unreliable => {
                row.0 += 1;
                println!(
                    "unreliable capture {} differs (not counted): {}",
                    case.name,
                    why.lines().next().unwrap_or("")
                );
            }
            Err(why) => {
                row.1 += 1;
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    println!("{:<18} {:>6} {:>6}", "category", "same", "differ");
    for (category, (pass, fail)) in &table {
        println!("{category:<18} {pass:>6} {fail:>6}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} captures compile differently",
        failures.len()
    );
}

/// Compares every node's visible peers and their extra AllowedIPs with `expect.peers`.
fn compare_peers(case: &Case) -> Result<(), String> {
    let policy = case.policy()?;
    let inventory = case.inventory_with_primary_routes();
    let compiled = Compiled::new(&policy, &inventory);
    let expected = case.expect["peers"].as_object().ok_or("no peers")?;
    let peer_map = compiled.peer_map();
    let mut problems = Vec::new();
    // The per-node and streaming computations give the whole-tailnet map exactly.
    let mut streamed = Vec::new();
    let order: Vec<usize> = (0..compiled.resolver.nodes.len()).rev().collect();
    compiled.for_each_peers(&order, |index, peers| streamed.push((index, peers)));
    for (index, peers) in streamed {
        if peer_map.get(index) != Some(&peers) {
            problems.push(format!("streamed peers of node {index} differ: {peers:?}"));
        }
        if compiled.peers(index) != peers {
            problems.push(format!("per-node peers of node {index} differ"));
        }
    }
    for (index, node) in compiled.resolver.nodes.iter().enumerate() {
        let ours: BTreeMap<String, BTreeSet<String>> = peer_map
            .get(index)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.name, p.routes.iter().map(ToString::to_string).collect()))
            .collect();
        let theirs: BTreeMap<String, BTreeSet<String>> = expected
            .get(&node.name)
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
            .unwrap_or_default();
        if ours != theirs {
            problems.push(format!(
                "viewer {}:\n  ours:   {ours:?}\n  theirs: {theirs:?}",
                node.name
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Captures whose netmaps we do not reproduce, each with the reason. The list is checked
/// both ways: a listed case that starts to agree fails the test, so it stays current.
const PEER_DIVERGENCES: &[(&str, &str)] = &[
    // Sources `autogroup:tagged`, `tag:prod` and `tag:server` to `*:*`: the capture offers the
    // router's subnet to the `tag:server` node but not to the `tag:prod` or `tag:exit` nodes,
    // though all are sources of the same rule. Unexplained; likely capture timing.
    (
        "acl-k03",
        "unexplained: same rule, different route offers per source node",
    ),
    // `via` steers one prefix to two routers, so the capture shows both offering it and the
    // primary (tailnet state, not in the corpus) cannot be derived.
    (
        "via-grant-v37",
        "HA primary of a via-steered prefix not recorded",
    ),
    // A grant to a node's IPv6 literal: SaaS shows no peers at all. Unexplained.
    (
        "policytest-allpass-grants-only-tag-src-ipv6-literal-dst",
        "unexplained: IPv6-literal destination gives no peers in the capture",
    ),
    // Allow-all policy, yet this viewer's captured netmap lists no peers. Unexplained.
    (
        "nodeattrs-attr-c1-funnel",
        "unexplained: empty captured netmap for one viewer",
    ),
];

#[test]
fn peers_match_tailscale_captures() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.expect.get("peers").is_some()) {
        let row = table.entry(case.category.clone()).or_default();
        let divergence = PEER_DIVERGENCES.iter().find(|(name, _)| *name == case.name);
        match (compare_peers(case), divergence) {
            (Ok(()), Some((name, _))) => {
                failures.push(format!("{name}: listed as divergent but agrees now"))
            }
            (Ok(()), None) => row.0 += 1,
            (Err(diff), Some((name, why))) => println!("known divergence {name}: {why}\n{diff}"),
            (Err(_), None) if case.unreliable => row.0 += 1,
            (Err(why), None) => {
                row.1 += 1;
                failures.push(format!("{}: {why}", case.name));
            }
        }
    }
    println!("peers: {:<18} {:>6} {:>6}", "category", "same", "differ");
    for (category, (pass, fail)) in &table {
        println!("peers: {category:<18} {pass:>6} {fail:>6}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} captures see different peers",
        failures.len()
    );
}

/// In the `routes` captures the approved routes are exactly what `autoApprovers` approve
/// (README of the corpus), so they test auto-approval.
#[test]
fn auto_approval_matches_routes_captures() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.category.starts_with("routes")) {
        let Ok(policy) = case.policy() else { continue };
        let mut inventory = case.inventory();
        let advertised: Vec<_> = inventory
            .nodes
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.routable_ips.clone(),
                    n.approved_routes.clone(),
                )
            })
            .collect();
        for node in &mut inventory.nodes {
            node.approved_routes.clear();
        }
        let resolver = tailpolicy::resolve::Resolver::new(&policy, &inventory);
        for (name, routes, approved) in advertised {
            let Some(node) = resolver.nodes.iter().find(|n| n.name == name) else {
                continue;
            };
            for route in routes {
                checked += 1;
                let ours = resolver.auto_approves(node, &route);
                if ours != approved.contains(&route) {
                    failures.push(format!("{}: {name} {route}: ours {ours}", case.name));
                }
            }
        }
    }
    println!(
        "auto-approval: {checked} advertised routes checked, {} differ",
        failures.len()
    );
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(failures.is_empty());
}
