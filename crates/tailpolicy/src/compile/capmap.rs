//! Node capabilities: the `CapMap` of a node's own netmap entry (`SelfNode.CapMap`) and the
//! `CapMap` a viewer sees on a peer (`Peer.CapMap`), from `nodeAttrs`, `randomizeClientPort`
//! and the capabilities Tailscale sends every node.
//!
//! Rules (policy-semantics §5.10, checked against every accepted `nodeattrs` capture):
//!
//! * Each `nodeAttrs` entry whose `target` names the node adds each `attr` string as a key
//!   with a `null` value, and each `app` capability as a key with its array of values.
//!   Entries are a union: repeated keys are idempotent, `app` arrays are concatenated
//!   without repeating equal values.
//! * `funnel` comes with `https://tailscale.com/cap/funnel-ports?ports=443,8443,10000` and
//!   `https://tailscale.com/cap/warn-funnel-no-https` [captures nodeattrs-attr-c1-funnel,
//!   nodeattrs-funnel-*].
//! * `randomizeClientPort: true` stamps `randomize-client-port` on every node.
//! * Every node always gets `https://tailscale.com/cap/file-sharing`,
//!   `https://tailscale.com/cap/ssh` and `default-auto-update: [<tailnet setting
//!   devices_auto_updates_on>]` (default `false`), plus the tailnet-state capabilities in
//!   [`TAILNET_STATE_CAPS`] that every capture shows (`tailnet-lock`, `probe-udp-lifetime`,
//!   `ssh-behavior-v1`, `ssh-env-vars`, `store-appc-routes`, `tailnet-display-name`), and
//!   `is-admin`/`is-owner` on devices of users with those roles.
//! * A peer's `CapMap` carries `suggest-exit-node` when the peer has it and is an approved
//!   exit node (the client reads it from the peer entry); nothing else. In particular,
//!   grant `app` capabilities are not in `Peer.CapMap`: they travel in the packet filter's
//!   `CapGrant` rules [capture nodeattrs-interaction-h2-with-grants].
//!
//! The capabilities in [`TAILNET_STATE_CAPS`] (and any with a prefix in
//! [`TAILNET_STATE_CAP_PREFIXES`]) describe tailnet state the policy does not decide (roles,
//! tailnet lock, display name, internal tuning); the conformance tests strip them from both
//! sides before comparing, as headscale's do. [`is_tailnet_state_cap`] tells them apart.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Compiled;
use crate::inventory::Inventory;
use crate::resolve::NodeInfo;
use crate::selector::Selector;

pub const CAP_FILE_SHARING: &str = "https://tailscale.com/cap/file-sharing";
pub const CAP_SSH: &str = "https://tailscale.com/cap/ssh";
pub const CAP_IS_ADMIN: &str = "https://tailscale.com/cap/is-admin";
pub const CAP_IS_OWNER: &str = "https://tailscale.com/cap/is-owner";
pub const CAP_TAILNET_LOCK: &str = "https://tailscale.com/cap/tailnet-lock";
pub const CAP_WARN_FUNNEL_NO_HTTPS: &str = "https://tailscale.com/cap/warn-funnel-no-https";
pub const CAP_FUNNEL_PORTS: &str = "https://tailscale.com/cap/funnel-ports?ports=443,8443,10000";
pub const ATTR_FUNNEL: &str = "funnel";
pub const ATTR_RANDOMIZE_CLIENT_PORT: &str = "randomize-client-port";
pub const ATTR_DEFAULT_AUTO_UPDATE: &str = "default-auto-update";
pub const ATTR_SUGGEST_EXIT_NODE: &str = "suggest-exit-node";
pub const ATTR_TAILNET_DISPLAY_NAME: &str = "tailnet-display-name";

/// Capabilities that describe tailnet state rather than the policy: user roles, tailnet
/// lock, the display name, services, key expiry and internal client tuning (the list
/// headscale strips before comparing with the captures).
pub const TAILNET_STATE_CAPS: &[&str] = &[
    CAP_IS_ADMIN,
    CAP_IS_OWNER,
    CAP_TAILNET_LOCK,
    CAP_WARN_FUNNEL_NO_HTTPS,
    ATTR_TAILNET_DISPLAY_NAME,
    "store-appc-routes",
    "probe-udp-lifetime",
    "ssh-behavior-v1",
    "ssh-env-vars",
    // tailcfg.NodeAttrServiceHost, NodeAttrMaxKeyDuration, NodeAttrNativeIPV4.
    "service-host",
    "tailnet.maxKeyDuration",
    "native-ipv4",
];

/// Prefixes of parameterised tailnet-state capabilities.
pub const TAILNET_STATE_CAP_PREFIXES: &[&str] = &["https://tailscale.com/cap/funnel-ports?"];

/// Tailnet-state capabilities every node gets, with a null value.
const ALWAYS_STATE_CAPS: &[&str] = &[
    CAP_TAILNET_LOCK,
    "store-appc-routes",
    "probe-udp-lifetime",
    "ssh-behavior-v1",
    "ssh-env-vars",
];

/// True for a capability that reflects tailnet state the policy does not decide.
pub fn is_tailnet_state_cap(key: &str) -> bool {
    TAILNET_STATE_CAPS.contains(&key)
        || TAILNET_STATE_CAP_PREFIXES
            .iter()
            .any(|p| key.starts_with(p))
}

/// A copy of `map` without tailnet-state capabilities.
pub fn strip_tailnet_state_caps(map: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in map {
        if !is_tailnet_state_cap(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Adds a capability: a null-valued key is added once; array values are merged.
fn add(caps: &mut BTreeMap<String, Value>, key: &str, value: Value) {
    match (caps.get_mut(key), value) {
        (None, value) => {
            caps.insert(key.to_owned(), value);
        }
        (Some(Value::Array(existing)), Value::Array(more)) => {
            for v in more {
                if !existing.contains(&v) {
                    existing.push(v);
                }
            }
        }
        (Some(existing @ Value::Null), value) => *existing = value,
        (Some(_), _) => {}
    }
}

fn into_map(caps: BTreeMap<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in caps {
        out.insert(k, v);
    }
    out
}

impl Compiled<'_> {
    /// The capabilities the policy gives node `node`: its `nodeAttrs` and
    /// `randomizeClientPort` (no defaults, no tailnet state).
    pub fn policy_capmap(&self, node: usize) -> Map<String, Value> {
        into_map(self.policy_caps(node))
    }

    fn policy_caps(&self, node: usize) -> BTreeMap<String, Value> {
        let mut caps = BTreeMap::new();
        let Some(info) = self.resolver.nodes.get(node) else {
            return caps;
        };
        let policy = self.resolver.policy;
        for entry in &policy.node_attrs {
            let targeted = entry
                .target
                .iter()
                .any(|t| self.resolver.node_matches(&Selector::parse(&t.value), info));
            if !targeted {
                continue;
            }
            for attr in &entry.attr {
                add(&mut caps, &attr.value, Value::Null);
                if attr.value == ATTR_FUNNEL {
                    add(&mut caps, CAP_FUNNEL_PORTS, Value::Null);
                    add(&mut caps, CAP_WARN_FUNNEL_NO_HTTPS, Value::Null);
                }
            }
            for (name, value) in entry.app.iter().flat_map(|a| a.entries.iter()) {
                let value = match value.to_json() {
                    array @ Value::Array(_) => array,
                    other => Value::Array(vec![other]),
                };
                add(&mut caps, &name.value, value);
            }
        }
        if policy
            .settings
            .randomize_client_port
            .as_ref()
            .is_some_and(|r| r.value)
        {
            add(&mut caps, ATTR_RANDOMIZE_CLIENT_PORT, Value::Null);
        }
        caps
    }

    /// `SelfNode.CapMap` of node `node`: the policy's capabilities, the ones Tailscale sends
    /// every node, and tailnet state from `inventory` (the auto-update default, roles, the
    /// display name). Keys are sorted.
    pub fn self_capmap(&self, node: usize, inventory: &Inventory) -> Map<String, Value> {
        let Some(info) = self.resolver.nodes.get(node) else {
            return Map::new();
        };
        let mut caps = self.policy_caps(node);
        add(&mut caps, CAP_FILE_SHARING, Value::Null);
        add(&mut caps, CAP_SSH, Value::Null);
        let auto_update = inventory
            .tailnet
            .setting("settings")
            .and_then(|s| s.get("devices_auto_updates_on"))
            .and_then(crate::syntax::Value::as_bool)
            .unwrap_or(false);
        add(
            &mut caps,
            ATTR_DEFAULT_AUTO_UPDATE,
            Value::Array(vec![Value::Bool(auto_update)]),
        );
        for cap in ALWAYS_STATE_CAPS {
            add(&mut caps, cap, Value::Null);
        }
        if let Some(name) = display_name(inventory) {
            add(
                &mut caps,
                ATTR_TAILNET_DISPLAY_NAME,
                Value::Array(vec![Value::String(name)]),
            );
        }
        for (role, cap) in [("admin", CAP_IS_ADMIN), ("owner", CAP_IS_OWNER)] {
            if !info.is_tagged() && info.roles.iter().any(|r| r == role) {
                add(&mut caps, cap, Value::Null);
            }
        }
        into_map(caps)
    }

    /// `CapMap` of `peer` as `viewer` sees it in its netmap (empty when `viewer == peer`).
    /// Whether the viewer sees the peer at all is [`Compiled::peers_of`]'s question.
    pub fn peer_capmap(&self, viewer: usize, peer: usize) -> Map<String, Value> {
        let nodes = &self.resolver.nodes;
        let (Some(_), Some(info)) = (nodes.get(viewer), nodes.get(peer)) else {
            return Map::new();
        };
        // Only an exit node shows capabilities to its peers.
        if viewer == peer || !is_exit_node(info) {
            return Map::new();
        }
        let mut caps = BTreeMap::new();
        if is_exit_node(info)
            && let Some(value) = self.policy_caps(peer).remove(ATTR_SUGGEST_EXIT_NODE)
        {
            caps.insert(ATTR_SUGGEST_EXIT_NODE.to_owned(), value);
        }
        into_map(caps)
    }
}

fn is_exit_node(node: &NodeInfo) -> bool {
    node.exit_node
}

/// The tailnet's display name: `tailnet.name`, else the first user's login.
fn display_name(inventory: &Inventory) -> Option<String> {
    inventory
        .tailnet
        .setting("name")
        .and_then(crate::syntax::Value::as_str)
        .map(str::to_owned)
        .or_else(|| inventory.users.first().map(|u| u.login().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use crate::syntax;

    fn inventory() -> Inventory {
        Inventory::parse(
            r#"{
            "users": [{"id": 1, "name": "alice", "email": "alice@example.com", "roles": ["admin"]}],
            "nodes": [
                {"name": "a1", "ipv4": "100.64.0.1", "user": "alice"},
                {"name": "exit", "ipv4": "100.64.0.2", "tags": ["tag:exit"],
                 "routable_ips": ["0.0.0.0/0"], "approved_routes": ["0.0.0.0/0"]}
            ],
            "tailnet": {"settings": {"devices_auto_updates_on": true}}
        }"#,
        )
        .unwrap()
    }

    fn with<T>(policy: &str, f: impl FnOnce(&Compiled<'_>, &Inventory) -> T) -> T {
        let inventory = inventory();
        let root = syntax::parse(policy).value;
        let policy = root.map(|r| model::lower(&r).0).unwrap_or_default();
        let compiled = Compiled::new(&policy, &inventory);
        f(&compiled, &inventory)
    }

    #[test]
    fn attrs_apps_defaults_and_peer_caps() {
        let policy = r#"{
            "randomizeClientPort": true,
            "nodeAttrs": [
                {"target": ["*"], "attr": ["nextdns:abc"]},
                {"target": ["tag:exit"], "attr": ["suggest-exit-node", "nextdns:abc"],
                 "app": {"tailscale.com/app-connectors": [{"name": "x"}]}},
                {"target": ["tag:exit"], "app": {"tailscale.com/app-connectors": [{"name": "x"}, {"name": "y"}]}}
            ]
        }"#;
        with(policy, |c, inv| {
            let me = c.self_capmap(0, inv);
            assert_eq!(
                me.get(ATTR_DEFAULT_AUTO_UPDATE),
                Some(&serde_json::json!([true]))
            );
            assert!(me.contains_key(CAP_SSH) && me.contains_key(CAP_FILE_SHARING));
            assert!(me.contains_key(CAP_IS_ADMIN));
            assert!(me.contains_key(ATTR_RANDOMIZE_CLIENT_PORT));
            assert!(!me.contains_key(ATTR_SUGGEST_EXIT_NODE));
            let exit = c.self_capmap(1, inv);
            assert_eq!(
                exit.get("tailscale.com/app-connectors"),
                Some(&serde_json::json!([{"name": "x"}, {"name": "y"}]))
            );
            assert_eq!(
                c.peer_capmap(0, 1),
                serde_json::json!({"suggest-exit-node": null})
                    .as_object()
                    .cloned()
                    .unwrap_or_default()
            );
            assert!(c.peer_capmap(1, 0).is_empty());
            assert!(c.peer_capmap(1, 1).is_empty());
            let stripped = strip_tailnet_state_caps(&me);
            assert!(!stripped.contains_key(CAP_IS_ADMIN));
            assert!(stripped.contains_key(CAP_SSH));
        });
    }

    #[test]
    fn funnel_brings_its_ports() {
        with(
            r#"{"nodeAttrs": [{"target": ["alice@example.com"], "attr": ["funnel"]}]}"#,
            |c, inv| {
                let caps = c.self_capmap(0, inv);
                assert!(caps.contains_key(ATTR_FUNNEL));
                assert!(caps.contains_key(CAP_FUNNEL_PORTS));
                assert!(!c.self_capmap(1, inv).contains_key(ATTR_FUNNEL));
                assert!(c.self_capmap(7, inv).is_empty());
            },
        );
    }

    /// Tailscale sends a capability whose sources hold no address (empty `SrcIPs`), but not
    /// one from an empty `src` list [capture grant-h4].
    #[test]
    fn capability_without_source_addresses_is_still_sent() {
        let policy = r#"{
            "groups": {"group:empty": []},
            "grants": [
                {"src": ["group:empty"], "dst": ["*"], "app": {"example.com/cap/x": [{}]}},
                {"src": [], "dst": ["*"], "app": {"example.com/cap/y": [{}]}},
                {"src": ["group:empty"], "dst": ["*"], "ip": ["*"]}
            ]
        }"#;
        with(policy, |c, _| {
            let rules = c.reduced(0);
            assert_eq!(rules.len(), 1, "{rules:?}");
            let (piece, rule) = &rules[0];
            assert!(rule.src.is_empty());
            let (_, caps) = rule.cap.as_ref().unwrap();
            assert_eq!(caps[0].0, "example.com/cap/x");
            assert_eq!(c.reduce(&c.pieces[*piece], &c.resolver.nodes[0]).len(), 1);
        });
    }
}
