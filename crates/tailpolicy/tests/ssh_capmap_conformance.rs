//! Every `ssh` capture Tailscale accepted compiles to the same per-node SSH rules, and every
//! `nodeattrs` capture to the same node capabilities.
//!
//! * SSH rules: rule order as captured (first match wins); principals compared as a
//!   multiset (order free, repeats significant); `holdAndDelegate` compared by presence only
//!   (its URL is specific to the SaaS); absent, null and empty `acceptEnv` equal.
//! * Capabilities: `self_capmap` per node and `peer_capmap` per viewer and peer (only
//!   non-empty maps listed), compared as JSON maps after removing, from **both** sides, the
//!   tailnet-state capabilities the corpus README lists (`is-admin`, `is-owner`,
//!   `tailnet-lock`, `warn-funnel-no-https`, `tailnet-display-name`, `store-appc-routes`,
//!   `probe-udp-lifetime`, `ssh-behavior-v1`, `ssh-env-vars`, `service-host`,
//!   `tailnet.maxKeyDuration`, `native-ipv4`, `funnel-ports?…`): they describe tailnet state,
//!   not the policy ([`tailpolicy::compile::is_tailnet_state_cap`]).
//! * The captures' `users` carry no admin-console roles. The `is-admin`/`is-owner`
//!   capabilities Tailscale stamps on a user's untagged devices are that role state, so the
//!   inventory's `roles` are rebuilt from them (needed by `autogroup:admin`/`owner` targets);
//!   the capabilities themselves are stripped from the comparison.
//! * `sshTests`: each accepted `sshtest` capture passes every assertion under
//!   [`Compiled::ssh_decision`]; each one rejected with `test(s) failed` fails at least one.
//!
//! `unreliable: true` captures are reported, not counted.

#![allow(
    clippy::print_stdout,
    reason = "the shared runner prints per-category tables"
)]
#![expect(
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

mod common;

use std::collections::BTreeMap;

use common::{Case, load_cases};
use serde_json::{Map, Value};
use tailpolicy::Inventory;
use tailpolicy::compile::{Compiled, SshRuleWire, SshVerdict, strip_tailnet_state_caps};
use tailpolicy::model::Policy;
use tailpolicy::selector::Selector;

fn policy_of(case: &Case) -> Result<Policy, String> {
    case.policy()
}

/// An SSH rule in a form where principal order does not matter.
#[derive(Debug, PartialEq, Eq)]
struct CanonicalSshRule {
    principals: Vec<String>,
    users: BTreeMap<String, String>,
    /// The action with `holdAndDelegate` reduced to its presence.
    action: String,
    accept_env: Vec<String>,
}

fn canonical_ssh(rule: &Value) -> CanonicalSshRule {
    let mut principals: Vec<String> = rule["principals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["nodeIP"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    principals.sort();
    let users = rule["sshUsers"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut action = rule["action"].as_object().cloned().unwrap_or_default();
    if action.contains_key("holdAndDelegate") {
        action.insert("holdAndDelegate".to_owned(), Value::Bool(true));
    }
    let action: BTreeMap<String, Value> = action.into_iter().collect();
    let accept_env = rule["acceptEnv"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e.as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    CanonicalSshRule {
        principals,
        users,
        action: serde_json::to_string(&action).unwrap_or_default(),
        accept_env,
    }
}

fn compare_ssh(case: &Case) -> Result<(), String> {
    let policy = policy_of(case)?;
    let inventory = case.inventory();
    let compiled = Compiled::new(&policy, &inventory);
    let expected = case.expect["ssh_rules"].as_object().ok_or("no ssh_rules")?;
    let mut problems = Vec::new();
    for (index, node) in compiled.resolver.nodes.iter().enumerate() {
        let rules: Vec<SshRuleWire> = compiled
            .ssh_rules(index)
            .into_iter()
            .map(|r| r.wire)
            .collect();
        let ours: Vec<CanonicalSshRule> = rules
            .iter()
            .map(|r| canonical_ssh(&serde_json::to_value(r).unwrap_or_default()))
            .collect();
        let theirs: Vec<CanonicalSshRule> = expected
            .get(&node.name)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(canonical_ssh).collect())
            .unwrap_or_default();
        if ours != theirs {
            problems.push(format!(
                "node {}:\n  ours:   {}\n  theirs: {}",
                node.name,
                serde_json::to_string(&rules).unwrap_or_default(),
                serde_json::to_string(&expected.get(&node.name)).unwrap_or_default()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The case's inventory, with user roles rebuilt from the `is-admin`/`is-owner`
/// capabilities Tailscale put on each user's untagged devices.
fn inventory_with_roles(case: &Case) -> Inventory {
    let mut inventory = case.inventory();
    let caps = case.expect["self_capmap"].as_object();
    for user in &mut inventory.users {
        for (cap, role) in [
            ("https://tailscale.com/cap/is-admin", "admin"),
            ("https://tailscale.com/cap/is-owner", "owner"),
        ] {
            let has = inventory_nodes_of(&case.nodes, &user.name).any(|node| {
                caps.and_then(|c| c.get(&node))
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.contains_key(cap))
            });
            if has && !user.roles.iter().any(|r| r == role) {
                user.roles.push(role.to_owned());
            }
        }
    }
    inventory
}

/// Names of the untagged nodes owned by `user`.
fn inventory_nodes_of<'a>(nodes: &'a [Value], user: &'a str) -> impl Iterator<Item = String> + 'a {
    nodes.iter().filter_map(move |n| {
        let untagged = n["tags"].as_array().is_none_or(Vec::is_empty);
        (untagged && n["user"].as_str() == Some(user))
            .then(|| n["name"].as_str().unwrap_or("").to_owned())
    })
}

fn sorted(map: &Map<String, Value>) -> BTreeMap<String, Value> {
    strip_tailnet_state_caps(map).into_iter().collect()
}

fn compare_capmaps(case: &Case) -> Result<(), String> {
    let policy = policy_of(case)?;
    let inventory = inventory_with_roles(case);
    let compiled = Compiled::new(&policy, &inventory);
    let self_expected = case.expect["self_capmap"]
        .as_object()
        .ok_or("no self_capmap")?;
    let peer_expected = case.expect["peer_capmap"].as_object();
    let nodes = &compiled.resolver.nodes;
    let mut problems = Vec::new();
    for name in self_expected.keys() {
        if compiled.node_index(name).is_none() {
            problems.push(format!("captured node {name} is not in the inventory"));
        }
    }
    // Only the nodes whose netmap was captured can be compared (a few captures lack one
    // node's own netmap while other nodes still list it as a peer).
    for (index, node) in nodes.iter().enumerate() {
        let Some(theirs) = self_expected.get(&node.name).and_then(Value::as_object) else {
            continue;
        };
        let ours = sorted(&compiled.self_capmap(index, &inventory));
        let theirs = sorted(theirs);
        if ours != theirs {
            problems.push(format!(
                "self {}:\n  ours:   {ours:?}\n  theirs: {theirs:?}",
                node.name
            ));
        }
        let ours_peers: BTreeMap<String, BTreeMap<String, Value>> = (0..nodes.len())
            .filter_map(|peer| {
                let caps = sorted(&compiled.peer_capmap(index, peer));
                let name = nodes.get(peer)?.name.clone();
                (!caps.is_empty()).then_some((name, caps))
            })
            .collect();
        let theirs_peers: BTreeMap<String, BTreeMap<String, Value>> = peer_expected
            .and_then(|m| m.get(&node.name))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(peer, caps)| {
                        let caps = sorted(caps.as_object()?);
                        (!caps.is_empty()).then(|| (peer.clone(), caps))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if ours_peers != theirs_peers {
            problems.push(format!(
                "peers of {}:\n  ours:   {ours_peers:?}\n  theirs: {theirs_peers:?}",
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

/// Runs `compare` over the cases that have `key` in `expect`; prints a per-category table
/// and asserts that every reliable capture agrees.
fn run(what: &str, key: &str, compare: fn(&Case) -> Result<(), String>) {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.expect.get(key).is_some()) {
        let row = table.entry(case.category.clone()).or_default();
        match compare(case) {
            Ok(()) if case.unreliable => row.2 += 1,
            Ok(()) => row.0 += 1,
            Err(why) if case.unreliable => {
                row.2 += 1;
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
    println!(
        "{what}: {:<12} {:>6} {:>6} {:>11}",
        "category", "same", "differ", "unreliable"
    );
    for (category, (pass, fail, unreliable)) in &table {
        println!("{what}: {category:<12} {pass:>6} {fail:>6} {unreliable:>11}");
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} captures differ in {what}",
        failures.len()
    );
}

#[test]
fn ssh_rules_match_tailscale_captures() {
    run("ssh_rules", "ssh_rules", compare_ssh);
}

#[test]
fn capmaps_match_tailscale_captures() {
    run("capmap", "self_capmap", compare_capmaps);
}

/// The nodes an `sshTests` `src` or `dst` entry names.
fn test_nodes(compiled: &Compiled<'_>, text: &str) -> Vec<usize> {
    let selector = Selector::parse(text);
    compiled
        .resolver
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| compiled.resolver.node_matches(&selector, n))
        .map(|(i, _)| i)
        .collect()
}

/// Do all of the policy's `sshTests` pass under `ssh_decision`?
fn ssh_tests_pass(case: &Case) -> Result<bool, String> {
    let policy = policy_of(case)?;
    let inventory = case.inventory();
    let compiled = Compiled::new(&policy, &inventory);
    for test in &policy.ssh_tests {
        let src = test
            .src
            .as_ref()
            .map(|s| test_nodes(&compiled, &s.value))
            .unwrap_or_default();
        let dsts: Vec<usize> = test
            .dst
            .iter()
            .flat_map(|d| test_nodes(&compiled, &d.value))
            .collect();
        if src.is_empty() || dsts.is_empty() {
            return Ok(false);
        }
        if test.accept.is_empty() && test.check.is_empty() && test.deny.is_empty() {
            return Ok(false);
        }
        for (logins, want) in [
            (&test.accept, SshVerdict::Accept),
            (&test.check, SshVerdict::Check),
            (&test.deny, SshVerdict::Deny),
        ] {
            for login in logins {
                for &s in &src {
                    for &d in &dsts {
                        if compiled.ssh_decision(s, d, &login.value).verdict != want {
                            return Ok(false);
                        }
                    }
                }
            }
        }
    }
    Ok(true)
}

#[test]
fn ssh_decisions_agree_with_ssh_tests_captures() {
    let Some(cases) = load_cases("saas") else {
        return;
    };
    let (mut same, mut differ, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in cases.iter().filter(|c| c.category == "sshtest") {
        let want = if case.expect["tests_pass"] == Value::Bool(true) {
            true
        } else if case.expect["error"] == "test(s) failed" {
            false
        } else {
            // A validation error: nothing to evaluate.
            continue;
        };
        let got = ssh_tests_pass(case);
        let known_divergence = case.headscale["status"] == "skip";
        match got {
            Ok(got) if got == want => same += 1,
            _ if known_divergence || case.unreliable => {
                skipped += 1;
                println!(
                    "sshTests {}: Tailscale says pass={want}, we say {got:?} (not counted: {})",
                    case.name, case.headscale["reason"]
                );
            }
            got => {
                differ += 1;
                failures.push(format!("{}: want pass={want}, got {got:?}", case.name));
            }
        }
    }
    println!("sshTests verdicts: same {same}, differ {differ}, not counted {skipped}");
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} sshTests captures differ",
        failures.len()
    );
}
