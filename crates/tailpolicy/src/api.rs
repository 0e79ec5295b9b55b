//! The embedding facade: the few calls a service, the CLI or the WASM module need.
//!
//! * [`check`]: every diagnostic for a policy text;
//! * [`parse_valid`]: the typed policy, when it has no errors;
//! * [`compile`]: the packet filter and peers Tailscale would send each node;
//! * [`Simulator`](crate::query::Simulator): queries and reachability listings.

use crate::diagnostic::{Diagnostic, has_errors};
use crate::inventory::Inventory;
use crate::lint::{LintConfig, LintContext};
use crate::model::Policy;
use crate::{lint, model, syntax, validate};

/// What `check` takes besides the policy text.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// Tailnet state; checks that need it (users, domains, `tests` against real nodes) run
    /// only when it is given.
    pub inventory: Option<&'a Inventory>,
    /// Which lints run and how loud they are; `None` runs every lint at its default
    /// severity.
    pub config: Option<&'a LintConfig>,
}

/// Every diagnostic for one policy, sorted by position.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// True when no diagnostic is an error.
    pub fn is_valid(&self) -> bool {
        !has_errors(&self.diagnostics)
    }
}

/// Parses and validates a policy, then lints it when it has no errors.
pub fn check(text: &str, options: &CheckOptions<'_>) -> CheckReport {
    load(text, options).1
}

/// Parses, validates and lints a policy and runs its `tests` and `sshTests`; returns the typed
/// policy when it parses (with or without errors) together with the report.
pub fn load(text: &str, options: &CheckOptions<'_>) -> (Option<Policy>, CheckReport) {
    let (_, policy, report) = load_with(text, options, true);
    (policy, report)
}

/// [`load`], also handing back the parsed tree: a process about to exit can forget both
/// instead of freeing them piece by piece (the CLI's `check` does; on a large policy that
/// teardown is a noticeable part of the run).
pub fn load_with_tree(
    text: &str,
    options: &CheckOptions<'_>,
) -> (Option<syntax::Value>, Option<Policy>, CheckReport) {
    load_with(text, options, true)
}

/// `full`: also lint and run the policy's tests.
fn load_with(
    text: &str,
    options: &CheckOptions<'_>,
    full: bool,
) -> (Option<syntax::Value>, Option<Policy>, CheckReport) {
    let parsed = syntax::parse(text);
    let mut diagnostics = parsed.diagnostics;
    let mut policy = None;
    if let Some(root) = &parsed.value {
        let (lowered, structural) = model::lower(root);
        diagnostics.extend(structural);
        diagnostics.extend(validate::validate(&lowered, options.inventory));
        // Lints and the policy's own tests describe valid policies: on an invalid one lints
        // would mostly repeat the errors, and Tailscale runs tests only after accepting the
        // policy's shape.
        if full && !has_errors(&diagnostics) {
            let default_config = LintConfig::default();
            let ctx = LintContext {
                source: text,
                comments: &parsed.comments,
                inventory: options.inventory,
                config: options.config.unwrap_or(&default_config),
            };
            diagnostics.extend(lint::lint(&lowered, &ctx));
            let assertions = crate::policy_tests::run(&lowered, options.inventory);
            diagnostics.extend(crate::policy_tests::diagnostics(&assertions));
        }
        policy = Some(lowered);
    }
    diagnostics.sort_by_key(|d| (d.primary_span().start, d.primary_span().end));
    (parsed.value, policy, CheckReport { diagnostics })
}

/// A policy without syntax or validation errors, ready for queries. Its `tests` are not run
/// (a failing test should not stop anyone asking what the policy allows).
pub fn parse_valid(text: &str, options: &CheckOptions<'_>) -> Result<Policy, CheckReport> {
    match load_with(text, options, false) {
        (_, Some(policy), report) if report.is_valid() => Ok(policy),
        (_, _, report) => Err(report),
    }
}

/// What Tailscale would send one node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeOutput {
    /// The packet filter (`tailcfg.FilterRule` wire JSON), in Tailscale's order.
    pub filter: Vec<crate::compile::FilterRule>,
    /// Visible peers and, for each, the routes (subnet or exit) beyond its own addresses.
    pub peers: std::collections::BTreeMap<String, Vec<String>>,
    /// The Tailscale SSH rules (`tailcfg.SSHRule` JSON), first match wins.
    pub ssh_rules: Vec<crate::compile::SshRuleWire>,
    /// The node's own capability map (`SelfNode.CapMap`).
    pub self_capmap: serde_json::Map<String, serde_json::Value>,
    /// For each visible peer with a non-empty map, the capabilities the node sees for it.
    pub peer_capmap: std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// Compiles a valid policy for an inventory: per node name, its filter and peers.
///
/// ```
/// let text = r#"{
///   "tagOwners": {"tag:ci": [], "tag:db": []},
///   "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]}],
/// }"#;
/// let inventory = tailpolicy::Inventory::parse(r#"{"nodes": [
///   {"name": "runner", "ipv4": "100.64.0.1", "tags": ["tag:ci"]},
///   {"name": "db", "ipv4": "100.64.0.2", "tags": ["tag:db"]}
/// ]}"#).unwrap();
/// let policy = tailpolicy::parse_valid(text, &Default::default()).unwrap();
/// let nodes = tailpolicy::compile(&policy, &inventory);
/// let rule = &nodes["db"].filter[0];
/// assert_eq!(rule.src_ips, ["100.64.0.1"]);
/// assert_eq!(rule.dst_ports[0].ip, "100.64.0.2");
/// assert!(nodes["runner"].filter.is_empty());
/// assert!(nodes["runner"].peers.contains_key("db"));
/// ```
pub fn compile(
    policy: &Policy,
    inventory: &Inventory,
) -> std::collections::BTreeMap<String, NodeOutput> {
    let mut nodes = std::collections::BTreeMap::new();
    compile_each(policy, inventory, |name, output| {
        nodes.insert(name.to_owned(), output);
    });
    nodes
}

/// [`compile`], one node at a time in the order of their names, without holding more than
/// one node's output (a node name given twice is compiled for its last node, as in
/// [`compile`]'s map).
pub fn compile_each(policy: &Policy, inventory: &Inventory, mut f: impl FnMut(&str, NodeOutput)) {
    let compiled = crate::compile::Compiled::new(policy, inventory);
    let nodes = &compiled.resolver.nodes;
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        let name = |i: usize| nodes.get(i).map(|n| n.name.as_str());
        name(a).cmp(&name(b)).then(b.cmp(&a))
    });
    // Each node's place among the names (equal names share one), so that every node's
    // peers are put in name order by comparing numbers, not strings.
    let mut rank = vec![0u32; nodes.len()];
    let mut first = 0u32;
    for (at, pair) in order.iter().enumerate() {
        let name = |i: usize| nodes.get(i).map(|n| n.name.as_str());
        let previous = at.checked_sub(1).and_then(|p| order.get(p)).copied();
        if previous.is_none_or(|p| name(p) != name(*pair)) {
            first = at as u32;
        }
        if let Some(slot) = rank.get_mut(*pair) {
            *slot = first;
        }
    }
    order.dedup_by(|a, b| nodes.get(*a).map(|n| &n.name) == nodes.get(*b).map(|n| &n.name));
    compiled.for_each_peers(&order, |index, mut peers| {
        if let Some(node) = nodes.get(index) {
            peers.sort_by_key(|p| rank.get(p.index).copied().unwrap_or(u32::MAX));
            f(&node.name, node_output(&compiled, inventory, index, &peers));
        }
    });
}

/// [`compile`] for the nodes named `names` only, without compiling the others' output:
/// per name, its output, or `None` when the inventory has no such node.
pub fn compile_nodes(
    policy: &Policy,
    inventory: &Inventory,
    names: &[&str],
) -> Vec<(String, Option<NodeOutput>)> {
    let compiled = crate::compile::Compiled::new(policy, inventory);
    names
        .iter()
        .map(|&name| {
            let index = compiled.resolver.nodes.iter().rposition(|n| n.name == name);
            let output = index.map(|i| node_output(&compiled, inventory, i, &compiled.peers(i)));
            (name.to_owned(), output)
        })
        .collect()
}

fn node_output(
    compiled: &crate::compile::Compiled<'_>,
    inventory: &Inventory,
    index: usize,
    peers: &[crate::compile::Peer],
) -> NodeOutput {
    NodeOutput {
        filter: compiled
            .node_rules(index)
            .iter()
            .map(|r| r.to_wire())
            .collect(),
        peers: peers
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.routes.iter().map(ToString::to_string).collect(),
                )
            })
            .collect(),
        ssh_rules: compiled
            .ssh_rules(index)
            .into_iter()
            .map(|r| r.wire)
            .collect(),
        self_capmap: compiled.self_capmap(index, inventory),
        peer_capmap: peers
            .iter()
            .filter_map(|p| {
                let map = compiled.peer_capmap(index, p.index);
                (!map.is_empty()).then(|| (p.name.clone(), map))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lints_run_on_valid_policies_only() {
        let valid = r#"{"groups": {"group:a": []}, "acls": []}"#;
        let report = check(valid, &CheckOptions::default());
        assert!(report.is_valid());
        assert!(report.diagnostics.iter().any(|d| d.code.starts_with("TP")));

        let invalid = r#"{"groups": {"group:a": []}, "acls": [{"action": "deny"}]}"#;
        let report = check(invalid, &CheckOptions::default());
        assert!(!report.is_valid());
        assert!(report.diagnostics.iter().all(|d| !d.code.starts_with("TP")));
    }

    #[test]
    fn the_config_selects_lints_and_severities() {
        let text = r#"{"groups": {"group:a": []}, "acls": []}"#;
        let config = LintConfig::default()
            .with_select(&["empty-group"])
            .with_severity("empty-group", crate::Severity::Error);
        let report = check(
            text,
            &CheckOptions {
                config: Some(&config),
                ..CheckOptions::default()
            },
        );
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["TP009"]);
        assert!(!report.is_valid());
    }
}
