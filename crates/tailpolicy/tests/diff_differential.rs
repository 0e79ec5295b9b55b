//! `diff` against brute force.
//!
//! 1. Random pairs: seeded random small tailnets (users, tagged nodes, subnet routers, exit
//!    nodes) and random policy pairs (one derived from the other by a few edits, or drawn
//!    afresh). Every (receiving node, source address, destination address, protocol, port
//!    class) of a grid is decided on each policy's compiled wire filters by the client's
//!    rules (written here, not the engine's); the diff's rows must cover exactly the flows
//!    whose verdict changed, in the right direction, and every row's `example` must be a
//!    real change.
//! 2. Corpus pairs: captures of the conformance corpus whose tailnets have the same shape
//!    (node names, owners, tags, routes; addresses differ per capture) are diffed on the
//!    first one's inventory, both directions, and checked the same way against what the
//!    captured per-node filters imply (each capture's filters read at its own addresses).
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic fails the test"
)]
#![allow(clippy::print_stdout, reason = "the test reports its counts")]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{Value, json};
use tailpolicy::addr::{IpSet, internet};
use tailpolicy::compile::Compiled;
use tailpolicy::diff::{CapabilityRow, NetworkRow, Row, diff};
use tailpolicy::model::Policy;
use tailpolicy::{CheckOptions, Inventory, parse_valid};

// ---------------------------------------------------------------------------------------
// The client's rules, on wire filters.

struct WireRule {
    src: IpSet,
    protos: Vec<u8>,
    dsts: Vec<(IpSet, u16, u16)>,
}

fn wire_rules(rules: &[Value]) -> Vec<WireRule> {
    rules
        .iter()
        .filter(|r| r.get("DstPorts").is_some_and(|d| d.is_array()))
        .map(|r| WireRule {
            src: IpSet::parse_tailscale_list(
                r["SrcIPs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap()),
            )
            .unwrap(),
            protos: match r.get("IPProto").and_then(Value::as_array) {
                Some(list) if !list.is_empty() => {
                    list.iter().map(|p| p.as_u64().unwrap() as u8).collect()
                }
                _ => vec![6, 17, 1, 58],
            },
            dsts: r["DstPorts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        IpSet::parse_tailscale(d["IP"].as_str().unwrap()).unwrap(),
                        d["Ports"]["First"].as_u64().unwrap() as u16,
                        d["Ports"]["Last"].as_u64().unwrap() as u16,
                    )
                })
                .collect(),
        })
        .collect()
}

fn allows(rules: &[WireRule], src: IpAddr, dst: IpAddr, proto: u8, port: u16) -> bool {
    rules.iter().any(|r| {
        if !r.src.contains(src) {
            return false;
        }
        if proto == 1 || proto == 58 {
            return r.dsts.iter().any(|(set, _, _)| set.contains(dst));
        }
        r.protos.contains(&proto)
            && r.dsts.iter().any(|(set, first, last)| {
                set.contains(dst)
                    && if matches!(proto, 6 | 17 | 132) {
                        *first <= port && port <= *last
                    } else {
                        *first == 0 && *last == u16::MAX
                    }
            })
    })
}

/// A `CapGrant` rule: sources, and per grant its destinations and capabilities (values
/// `None` for a `null`).
struct CapRule {
    src: IpSet,
    grants: Vec<(IpSet, CapList)>,
}

type CapList = Vec<(String, Vec<Value>)>;

fn cap_rules(rules: &[Value]) -> Vec<CapRule> {
    rules
        .iter()
        .filter_map(|r| {
            let grants = r.get("CapGrant")?.as_array()?;
            Some(CapRule {
                src: IpSet::parse_tailscale_list(
                    r["SrcIPs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap()),
                )
                .unwrap(),
                grants: grants
                    .iter()
                    .map(|g| {
                        let dsts = IpSet::parse_tailscale_list(
                            g["Dsts"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|s| s.as_str().unwrap()),
                        )
                        .unwrap();
                        let caps = g["CapMap"]
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(name, values)| {
                                (name.clone(), values.as_array().cloned().unwrap_or_default())
                            })
                            .collect();
                        (dsts, caps)
                    })
                    .collect(),
            })
        })
        .collect()
}

/// A JSON value with its object keys sorted, as text (values compare by content).
fn canonical(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

/// The client's `filter.CapsWithValues(src, dst)`: per capability name (present even without
/// values), its values' canonical texts.
fn caps_with_values(rules: &[CapRule], src: IpAddr, dst: IpAddr) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in rules.iter().filter(|r| r.src.contains(src)) {
        for (dsts, caps) in &rule.grants {
            if !dsts.contains(dst) {
                continue;
            }
            for (name, values) in caps {
                let slot = out.entry(name.clone()).or_default();
                for v in values {
                    let text = canonical(v);
                    if !slot.contains(&text) {
                        slot.push(text);
                    }
                }
            }
        }
    }
    out
}

/// One policy on one tailnet: per node name, its filter, and who receives an address.
struct World {
    filters: BTreeMap<String, Vec<WireRule>>,
    caps: BTreeMap<String, Vec<CapRule>>,
    /// Per node name: own addresses, approved subnet routes, exit node.
    nodes: Vec<(String, Vec<IpAddr>, IpSet, bool)>,
}

impl World {
    fn new(
        policy: &Policy,
        inventory: &Inventory,
        filters: BTreeMap<String, Vec<WireRule>>,
        caps: BTreeMap<String, Vec<CapRule>>,
    ) -> Self {
        let compiled = Compiled::new(policy, inventory);
        let nodes = compiled
            .resolver
            .nodes
            .iter()
            .map(|n| {
                let mut routes = IpSet::new();
                for r in &n.subnet_routes {
                    routes.insert_net(r);
                }
                (n.name.clone(), n.addrs.clone(), routes, n.exit_node)
            })
            .collect();
        World {
            filters,
            caps,
            nodes,
        }
    }

    fn compiled(policy: &Policy, inventory: &Inventory) -> Self {
        let mut filters = BTreeMap::new();
        let mut caps = BTreeMap::new();
        for (name, out) in tailpolicy::compile(policy, inventory) {
            let value = serde_json::to_value(&out.filter).unwrap();
            let rules = value.as_array().unwrap();
            filters.insert(name.clone(), wire_rules(rules));
            caps.insert(name, cap_rules(rules));
        }
        World::new(policy, inventory, filters, caps)
    }

    /// `query::receivers`: the node with the address, else routers with a route holding it,
    /// else exit nodes for internet addresses.
    fn receivers(&self, dst: IpAddr) -> Vec<&str> {
        if let Some((name, ..)) = self.nodes.iter().find(|n| n.1.contains(&dst)) {
            return vec![name];
        }
        let routers: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.2.contains(dst))
            .map(|n| n.0.as_str())
            .collect();
        if !routers.is_empty() || !internet().contains(dst) {
            return routers;
        }
        self.nodes
            .iter()
            .filter(|n| n.3)
            .map(|n| n.0.as_str())
            .collect()
    }

    /// The receiver's rules whose sources hold `src` and whose destinations hold `dst`
    /// (`None` when the receiver does not get packets for `dst`).
    fn relevant(&self, receiver: &str, src: IpAddr, dst: IpAddr) -> Option<Vec<WireRule>> {
        if !self.receivers(dst).contains(&receiver) {
            return None;
        }
        let rules = self.filters.get(receiver)?;
        Some(
            rules
                .iter()
                .filter(|r| {
                    r.src.contains(src) && r.dsts.iter().any(|(set, _, _)| set.contains(dst))
                })
                .map(|r| WireRule {
                    src: r.src.clone(),
                    protos: r.protos.clone(),
                    dsts: r.dsts.clone(),
                })
                .collect(),
        )
    }

    fn verdict(&self, receiver: &str, src: IpAddr, dst: IpAddr, proto: u8, port: u16) -> bool {
        self.receivers(dst).contains(&receiver)
            && self
                .filters
                .get(receiver)
                .is_some_and(|rules| allows(rules, src, dst, proto, port))
    }
}

/// Does `row` hold the flow at `receiver` (`full`: also its protocol and port)?
fn covers(row: &NetworkRow, receiver: &str, owner: Option<&str>, flow: Flow, full: bool) -> bool {
    let (src, dst, proto, port) = flow;
    row.src_ips.contains(src)
        && row.dst_ips.contains(dst)
        && (!full || (row.protos.contains(&proto) && row.ports.iter().any(|r| r.contains(port))))
        && if row.via.is_empty() {
            owner == Some(receiver)
        } else {
            row.via.iter().any(|v| v == receiver)
        }
}

type Flow = (IpAddr, IpAddr, u8, u16);

const PROTOS: [u8; 6] = [6, 17, 1, 58, 47, 132];
const PORTS: [u16; 14] = [
    0, 21, 22, 23, 53, 80, 85, 91, 443, 444, 5000, 8000, 8101, 65535,
];

#[derive(Default, Debug)]
struct Counts {
    pairs: usize,
    flows: usize,
    changed: usize,
    rows: usize,
    /// (receiving node, source, destination) triples whose capabilities were compared, those
    /// whose capabilities changed, and capability rows.
    cap_flows: usize,
    cap_changed: usize,
    cap_rows: usize,
    /// Capability rows that change only some values.
    cap_values_only: usize,
}

/// What a change does to one (receiving node, source, destination): per capability name,
/// `*` when the name itself comes or goes, and each value gained or lost.
fn cap_changes(
    this: &BTreeMap<String, Vec<String>>,
    other: &BTreeMap<String, Vec<String>>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, values) in this {
        let before = other.get(name);
        if before.is_none() {
            out.push((name.clone(), "*".to_owned()));
        }
        for v in values {
            if !before.is_some_and(|b| b.contains(v)) {
                out.push((name.clone(), v.clone()));
            }
        }
    }
    out.sort();
    out
}

/// The same, from the rows that hold the triple.
fn cap_row_changes(
    rows: &[CapabilityRow],
    receiver: &str,
    src: IpAddr,
    dst: IpAddr,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in rows {
        if row.src_ips.contains(src)
            && row.dst_ips.contains(dst)
            && row.dst_nodes.iter().any(|n| n == receiver)
        {
            if row.whole {
                out.push((row.capability.clone(), "*".to_owned()));
            }
            out.extend(
                row.values
                    .iter()
                    .map(|v| (row.capability.clone(), canonical(v))),
            );
        }
    }
    out.sort();
    out
}

/// Checks one diff against the two worlds; `old_addr` / `new_addr` map an address of the
/// diff's tailnet to the same endpoint in each world (corpus captures differ in addresses).
#[allow(clippy::too_many_arguments, reason = "test helper")]
fn check_pair(
    label: &str,
    rows: (&[Row], &[Row]),
    old: &World,
    new: &World,
    base: &World,
    srcs: &[IpAddr],
    dsts: &[IpAddr],
    old_addr: &dyn Fn(IpAddr) -> IpAddr,
    new_addr: &dyn Fn(IpAddr) -> IpAddr,
    counts: &mut Counts,
) {
    let network = |rows: &[Row]| -> Vec<NetworkRow> {
        rows.iter().filter_map(Row::as_network).cloned().collect()
    };
    let (added, removed) = (network(rows.0), network(rows.1));
    counts.rows += added.len() + removed.len();
    let capability = |rows: &[Row]| -> Vec<CapabilityRow> {
        rows.iter()
            .filter_map(Row::as_capability)
            .cloned()
            .collect()
    };
    let (cap_added, cap_removed) = (capability(rows.0), capability(rows.1));
    counts.cap_rows += cap_added.len() + cap_removed.len();
    counts.cap_values_only += cap_added
        .iter()
        .chain(&cap_removed)
        .filter(|r| !r.whole)
        .count();
    // Capabilities: every node, for every source and each of its own addresses.
    for (receiver, own, ..) in &base.nodes {
        let empty = Vec::new();
        let old_caps = old.caps.get(receiver).unwrap_or(&empty);
        let new_caps = new.caps.get(receiver).unwrap_or(&empty);
        for &dst in own {
            for &src in srcs {
                counts.cap_flows += 1;
                let was = caps_with_values(old_caps, old_addr(src), old_addr(dst));
                let is = caps_with_values(new_caps, new_addr(src), new_addr(dst));
                let (gained, lost) = (cap_changes(&is, &was), cap_changes(&was, &is));
                if !gained.is_empty() || !lost.is_empty() {
                    counts.cap_changed += 1;
                }
                let rows_gained = cap_row_changes(&cap_added, receiver, src, dst);
                let rows_lost = cap_row_changes(&cap_removed, receiver, src, dst);
                assert_eq!(
                    (&rows_gained, &rows_lost),
                    (&gained, &lost),
                    "{label}: capabilities of {src} at {receiver} ({dst}): old {was:?}, new {is:?}\nadded {cap_added:#?}\nremoved {cap_removed:#?}"
                );
            }
        }
    }
    let owner_of = |d: IpAddr| {
        base.nodes
            .iter()
            .find(|n| n.1.contains(&d))
            .map(|n| n.0.as_str())
    };
    let mut receivers: Vec<&str> = Vec::new();
    for &dst in dsts {
        receivers.clear();
        receivers.extend(old.receivers(old_addr(dst)));
        receivers.extend(new.receivers(new_addr(dst)));
        receivers.sort_unstable();
        receivers.dedup();
        for &receiver in &receivers {
            for &src in srcs {
                // The rules and rows that concern this source, destination and receiver.
                let (os, od) = (old_addr(src), old_addr(dst));
                let (ns, nd) = (new_addr(src), new_addr(dst));
                let old_rules = old.relevant(receiver, os, od);
                let new_rules = new.relevant(receiver, ns, nd);
                let owner = owner_of(dst);
                let near = |rows: &[NetworkRow]| -> Vec<NetworkRow> {
                    rows.iter()
                        .filter(|r| covers(r, receiver, owner, (src, dst, 6, 0), false))
                        .cloned()
                        .collect()
                };
                let (near_added, near_removed) = (near(&added), near(&removed));
                for proto in PROTOS {
                    let ports: &[u16] = if matches!(proto, 6 | 17 | 132) {
                        &PORTS
                    } else {
                        &[0]
                    };
                    for &port in ports {
                        counts.flows += 1;
                        let was = old_rules
                            .as_ref()
                            .is_some_and(|r| allows(r, os, od, proto, port));
                        let is = new_rules
                            .as_ref()
                            .is_some_and(|r| allows(r, ns, nd, proto, port));
                        let flow = (src, dst, proto, port);
                        let in_added = near_added
                            .iter()
                            .any(|r| covers(r, receiver, owner, flow, true));
                        let in_removed = near_removed
                            .iter()
                            .any(|r| covers(r, receiver, owner, flow, true));
                        if was != is {
                            counts.changed += 1;
                        }
                        assert_eq!(
                            (in_added, in_removed),
                            (!was && is, was && !is),
                            "{label}: flow {flow:?} at {receiver}: old {was}, new {is}\nadded {added:#?}\nremoved {removed:#?}"
                        );
                    }
                }
            }
        }
    }
    for (rows, direction) in [(&added, true), (&removed, false)] {
        for row in rows {
            let e = row.example;
            let receiver = row
                .via
                .first()
                .map(String::as_str)
                .or_else(|| owner_of(e.dst_ip))
                .unwrap();
            let was = old.verdict(
                receiver,
                old_addr(e.src_ip),
                old_addr(e.dst_ip),
                e.proto,
                e.port,
            );
            let is = new.verdict(
                receiver,
                new_addr(e.src_ip),
                new_addr(e.dst_ip),
                e.proto,
                e.port,
            );
            assert_eq!(
                (was, is),
                (!direction, direction),
                "{label}: example {e:?} of {row:#?}"
            );
        }
    }
    counts.pairs += 1;
}

// ---------------------------------------------------------------------------------------
// Random pairs.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const USERS: [&str; 3] = ["alice@example.com", "bob@example.com", "carol@example.com"];
const TAGS: [&str; 4] = ["tag:a", "tag:b", "tag:c", "tag:r"];
const SOURCES: [&str; 12] = [
    "*",
    "alice@example.com",
    "bob@example.com",
    "group:eng",
    "tag:a",
    "tag:b",
    "tag:r",
    "autogroup:member",
    "autogroup:tagged",
    "vip",
    "10.1.0.0/24",
    "100.64.0.0/29",
];
const DESTS: [&str; 12] = [
    "*",
    "alice@example.com",
    "group:eng",
    "tag:a",
    "tag:b",
    "tag:c",
    "vip",
    "lab",
    "pub",
    "10.0.0.0/8",
    "autogroup:internet",
    "100.64.0.4",
];
const PORT_SPECS: [&str; 7] = ["*", "22", "443", "80-90", "22,443", "53,8000-8100", "5000"];
const ACL_PROTOS: [Option<&str>; 6] = [
    None,
    None,
    Some("tcp"),
    Some("udp"),
    Some("icmp"),
    Some("gre"),
];
const GRANT_IPS: [&str; 8] = [
    "*",
    "443",
    "tcp:22",
    "udp:53",
    "icmp:*",
    "tcp:80-90",
    "22,8000-8100",
    "sctp:5000",
];

fn random_inventory(rng: &mut Rng) -> Inventory {
    let count = 2 + rng.below(7);
    let mut nodes = Vec::new();
    for i in 0..count {
        let mut node = json!({
            "name": format!("n{i}"),
            "ipv4": format!("100.64.0.{}", i + 1),
            "ipv6": format!("fd7a:115c:a1e0::{}", i + 1),
        });
        if rng.chance(45) {
            node["user"] = json!(rng.pick(&USERS).split('@').next().unwrap());
        } else {
            let mut tags = vec![*rng.pick(&TAGS)];
            if rng.chance(25) {
                tags.push(*rng.pick(&TAGS));
            }
            tags.sort_unstable();
            tags.dedup();
            node["tags"] = json!(tags);
        }
        if rng.chance(30) {
            let route = format!("10.{}.0.0/16", rng.below(3));
            node["routable_ips"] = json!([route]);
            if rng.chance(80) {
                node["approved_routes"] = json!([route]);
            }
        } else if rng.chance(15) {
            node["routable_ips"] = json!(["0.0.0.0/0", "::/0"]);
            node["approved_routes"] = json!(["0.0.0.0/0", "::/0"]);
        }
        nodes.push(node);
    }
    let users: Vec<Value> = USERS
        .iter()
        .enumerate()
        .map(|(i, u)| json!({"id": i + 1, "name": u.split('@').next().unwrap(), "email": u}))
        .collect();
    Inventory::parse(&json!({"users": users, "nodes": nodes}).to_string()).unwrap()
}

const CAPS: [&str; 4] = [
    "example.com/cap/a",
    "example.com/cap/b",
    "tailscale.com/cap/drive",
    "tailscale.com/cap/relay",
];
const CAP_VALUES: [&str; 4] = [
    "{}",
    r#"{"role": "viewer"}"#,
    r#"{"role": "admin", "x": [1, 2]}"#,
    r#"{"shares": ["*"], "access": "ro"}"#,
];

fn cap_value(rng: &mut Rng) -> Value {
    let text: &str = CAP_VALUES[rng.below(CAP_VALUES.len())];
    serde_json::from_str(text).unwrap()
}

/// A grant with `app` capabilities (sometimes also `ip`, sometimes to `autogroup:self`).
fn random_app_grant(rng: &mut Rng, srcs: &[&str]) -> String {
    let mut dsts: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(&DESTS)).collect();
    if rng.chance(15) {
        dsts.push("autogroup:self");
    }
    let mut app = serde_json::Map::new();
    for _ in 0..1 + rng.below(2) {
        let values: Vec<Value> = (0..rng.below(3)).map(|_| cap_value(rng)).collect();
        app.insert((*rng.pick(&CAPS)).to_owned(), json!(values));
    }
    let mut grant = json!({"src": srcs, "dst": dsts, "app": app});
    if rng.chance(30) {
        grant["ip"] = json!([rng.pick(&GRANT_IPS)]);
    }
    format!("G{grant}")
}

fn random_rule(rng: &mut Rng) -> String {
    let mut srcs: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(&SOURCES)).collect();
    srcs.dedup();
    if rng.chance(20) {
        return random_app_grant(rng, &srcs);
    }
    if rng.chance(60) {
        let proto = *rng.pick(&ACL_PROTOS);
        let ports_ok = proto.is_none_or(|p| p == "tcp" || p == "udp");
        let mut dsts = Vec::new();
        for _ in 0..1 + rng.below(2) {
            let port = if ports_ok {
                *rng.pick(&PORT_SPECS)
            } else {
                "*"
            };
            dsts.push(format!("{}:{port}", rng.pick(&DESTS)));
        }
        if rng.chance(8)
            && srcs.iter().all(|s| {
                !s.starts_with("tag:") && *s != "autogroup:tagged" && *s != "*" && !s.contains('.')
                    || s.contains('@')
            })
        {
            dsts.push("autogroup:self:*".to_owned());
        }
        let mut rule = json!({"action": "accept", "src": srcs, "dst": dsts});
        if let Some(p) = proto {
            rule["proto"] = json!(p);
        }
        format!("A{rule}")
    } else {
        let dsts: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(&DESTS)).collect();
        let ips: Vec<&str> = (0..1 + rng.below(2))
            .map(|_| *rng.pick(&GRANT_IPS))
            .collect();
        format!("G{}", json!({"src": srcs, "dst": dsts, "ip": ips}))
    }
}

fn policy_text(rules: &[String]) -> String {
    let acls: Vec<&str> = rules.iter().filter_map(|r| r.strip_prefix('A')).collect();
    let grants: Vec<&str> = rules.iter().filter_map(|r| r.strip_prefix('G')).collect();
    format!(
        r#"{{
  "groups": {{"group:eng": ["alice@example.com", "bob@example.com"]}},
  "hosts": {{"vip": "100.64.0.2", "lab": "10.1.0.0/24", "pub": "198.51.100.0/24"}},
  "tagOwners": {{"tag:a": [], "tag:b": [], "tag:c": [], "tag:r": []}},
  "acls": [{}],
  "grants": [{}],
}}"#,
        acls.join(",\n"),
        grants.join(",\n")
    )
}

fn mutate(rng: &mut Rng, rules: &[String]) -> Vec<String> {
    if rng.chance(15) {
        return (0..1 + rng.below(5)).map(|_| random_rule(rng)).collect();
    }
    let mut out = rules.to_vec();
    for _ in 0..1 + rng.below(3) {
        // Sometimes new values for an `app` grant's capabilities, nothing else changed.
        let apps: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].contains(r#""app":"#))
            .collect();
        if !apps.is_empty() && rng.chance(30) {
            let i = *rng.pick(&apps);
            let mut grant: Value = serde_json::from_str(out[i].strip_prefix('G').unwrap()).unwrap();
            for values in grant["app"].as_object_mut().unwrap().values_mut() {
                *values = json!(
                    (0..rng.below(3))
                        .map(|_| cap_value(rng))
                        .collect::<Vec<_>>()
                );
            }
            out[i] = format!("G{grant}");
            continue;
        }
        match rng.below(4) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.remove(i);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = random_rule(rng);
            }
            2 if out.len() > 1 => {
                let (i, j) = (rng.below(out.len()), rng.below(out.len()));
                out.swap(i, j);
            }
            _ => {
                let at = rng.below(out.len() + 1);
                out.insert(at, random_rule(rng));
            }
        }
    }
    out
}

fn valid(rng: &mut Rng, make: &mut dyn FnMut(&mut Rng) -> Vec<String>) -> (Vec<String>, Policy) {
    loop {
        let rules = make(rng);
        if let Ok(policy) = parse_valid(&policy_text(&rules), &CheckOptions::default()) {
            return (rules, policy);
        }
    }
}

/// A count from the environment (to run more or fewer cases), or `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_pairs_match_brute_force() {
    let pairs: usize = env_count("DIFF_PAIRS", 600);
    let mut rng = Rng(0x7a11_9011c7);
    let mut counts = Counts::default();
    let mut unchanged = 0;
    for case in 0..pairs {
        let inventory = random_inventory(&mut rng);
        let (old_rules, old) = valid(&mut rng, &mut |rng| {
            (0..1 + rng.below(5)).map(|_| random_rule(rng)).collect()
        });
        let (_, new) = valid(&mut rng, &mut |rng| mutate(rng, &old_rules));
        let result = diff(&old, &new, Some(&inventory));
        if result.unchanged() {
            unchanged += 1;
        }
        let (old_world, new_world) = (
            World::compiled(&old, &inventory),
            World::compiled(&new, &inventory),
        );
        let mut srcs: Vec<IpAddr> = inventory.nodes.iter().flat_map(|n| n.addrs()).collect();
        srcs.extend(["10.1.0.9", "198.51.100.7", "8.8.8.8"].map(|a| a.parse::<IpAddr>().unwrap()));
        let mut dsts: Vec<IpAddr> = inventory.nodes.iter().flat_map(|n| n.addrs()).collect();
        dsts.extend(
            [
                "10.0.0.5",
                "10.1.0.9",
                "10.1.200.1",
                "10.2.3.4",
                "10.9.0.1",
                "198.51.100.7",
                "8.8.8.8",
                "2606:4700::1",
            ]
            .map(|a| a.parse::<IpAddr>().unwrap()),
        );
        check_pair(
            &format!(
                "case {case}:\n{}\n---\n{}",
                policy_text(&old_rules),
                "(new)"
            ),
            (&result.added, &result.removed),
            &old_world,
            &new_world,
            &old_world,
            &srcs,
            &dsts,
            &|a| a,
            &|a| a,
            &mut counts,
        );
    }
    println!(
        "random pairs: {} pairs ({unchanged} unchanged), {} flows checked, {} changed, {} rows; \
         capabilities: {} (node, source, destination) checked, {} changed, {} rows ({} of values only)",
        counts.pairs,
        counts.flows,
        counts.changed,
        counts.rows,
        counts.cap_flows,
        counts.cap_changed,
        counts.cap_rows,
        counts.cap_values_only
    );
    assert!(counts.pairs >= 500 || pairs < 500);
    assert!(counts.changed > 0);
    assert!(counts.cap_changed > 0 && counts.cap_values_only > 0);
}

// ---------------------------------------------------------------------------------------
// Corpus pairs.

/// Valid captures that `keep` selects, by tailnet shape (node names, owners, tags, routes;
/// users and tailnet settings), only groups of two or more.
fn shape_groups(
    cases: &[common::Case],
    keep: impl Fn(&common::Case) -> bool,
) -> Vec<Vec<&common::Case>> {
    let mut shapes: BTreeMap<String, Vec<&common::Case>> = BTreeMap::new();
    for case in cases {
        if !keep(case) || case.expect.get("valid").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let shape: Vec<Value> = case
            .nodes
            .iter()
            .map(|n| {
                json!([
                    n["name"],
                    n["tags"],
                    n["user"],
                    n["routable_ips"],
                    n["approved_routes"]
                ])
            })
            .collect();
        let key = json!([case.users, shape, case.tailnet]).to_string();
        shapes.entry(key).or_default().push(case);
    }
    shapes.into_values().filter(|g| g.len() > 1).collect()
}

/// About `limit / 2` pairs (each run both ways) spread over the groups: neighbours in a group,
/// then further apart.
type GroupPairs<'g, 'c> = Vec<(&'g [&'c common::Case], Vec<(usize, usize)>)>;

fn group_pairs<'g, 'c>(groups: &'g [Vec<&'c common::Case>], limit: usize) -> GroupPairs<'g, 'c> {
    let per_group = (limit / 2).div_ceil(groups.len().max(1));
    groups
        .iter()
        .map(|group| {
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            for step in 1..group.len() {
                for i in 0..group.len() {
                    if pairs.len() >= per_group {
                        break;
                    }
                    pairs.push((i, (i + step) % group.len()));
                }
            }
            (group.as_slice(), pairs)
        })
        .collect()
}

#[test]
fn corpus_pairs_match_their_captured_filters() {
    let Some(cases) = common::load_cases("saas") else {
        return;
    };
    let limit: usize = env_count("DIFF_CORPUS_PAIRS", 600);
    let groups_of = shape_groups(&cases, |case| {
        matches!(case.category.as_str(), "acl" | "grant" | "routes")
            && case.expect.get("filter").is_some()
    });
    let mut counts = Counts::default();
    let mut groups = 0;
    for (group, pairs) in group_pairs(&groups_of, limit) {
        groups += 1;
        for (i, j) in pairs {
            let (a, b) = (group[i], group[j]);
            let inventory = a.inventory();
            let (Ok(old), Ok(new)) = (
                parse_valid(&a.policy, &CheckOptions::default()),
                parse_valid(&b.policy, &CheckOptions::default()),
            ) else {
                continue;
            };
            let captured = |case: &common::Case| {
                let mut filters = BTreeMap::new();
                let mut caps = BTreeMap::new();
                for (name, rules) in case.expect["filter"].as_object().unwrap() {
                    let rules = rules.as_array().cloned().unwrap_or_default();
                    filters.insert(name.clone(), wire_rules(&rules));
                    caps.insert(name.clone(), cap_rules(&rules));
                }
                (filters, caps)
            };
            let b_inventory = b.inventory();
            let (a_filters, a_caps) = captured(a);
            let (b_filters, b_caps) = captured(b);
            let old_world = World::new(&old, &inventory, a_filters, a_caps);
            let new_world = World::new(&new, &b_inventory, b_filters, b_caps);
            // The same endpoint in b's tailnet: node addresses by node name.
            let by_name: BTreeMap<IpAddr, IpAddr> = inventory
                .nodes
                .iter()
                .filter_map(|n| {
                    let other = b_inventory.nodes.iter().find(|m| m.name == n.name)?;
                    Some(n.addrs().zip(other.addrs()).collect::<Vec<_>>())
                })
                .flatten()
                .collect();
            let to_b = |addr: IpAddr| by_name.get(&addr).copied().unwrap_or(addr);
            let mut srcs: Vec<IpAddr> = inventory.nodes.iter().flat_map(|n| n.addrs()).collect();
            srcs.extend(
                ["10.33.0.9", "192.168.1.7", "8.8.8.8"].map(|a| a.parse::<IpAddr>().unwrap()),
            );
            let mut dsts = srcs.clone();
            for node in &inventory.nodes {
                for route in &node.routable_ips {
                    if route.prefix_len() > 0 {
                        dsts.push(route.network());
                        dsts.push(route.broadcast());
                    }
                }
            }
            dsts.push("2606:4700::1".parse().unwrap());
            for (label, (o, n), (ow, nw), (oa, na)) in [
                (
                    "forward",
                    (&old, &new),
                    (&old_world, &new_world),
                    (false, true),
                ),
                (
                    "backward",
                    (&new, &old),
                    (&new_world, &old_world),
                    (true, false),
                ),
            ] {
                let result = diff(o, n, Some(&inventory));
                let map = |to_other: bool| -> Box<dyn Fn(IpAddr) -> IpAddr + '_> {
                    if to_other {
                        Box::new(to_b)
                    } else {
                        Box::new(|a| a)
                    }
                };
                let (old_addr, new_addr) = (map(oa), map(na));
                check_pair(
                    &format!("{} -> {} ({label})", a.name, b.name),
                    (&result.added, &result.removed),
                    ow,
                    nw,
                    &old_world,
                    &srcs,
                    &dsts,
                    &*old_addr,
                    &*new_addr,
                    &mut counts,
                );
            }
        }
    }
    println!(
        "corpus pairs: {} diffs ({} pairs both ways) in {groups} tailnet shapes, {} flows checked, {} changed, {} rows; \
         capabilities: {} (node, source, destination) checked, {} changed, {} rows",
        counts.pairs,
        counts.pairs / 2,
        counts.flows,
        counts.changed,
        counts.rows,
        counts.cap_flows,
        counts.cap_changed,
        counts.cap_rows
    );
    assert!(counts.pairs > 0);
}

// ---------------------------------------------------------------------------------------
// Corpus SSH pairs.

/// A captured `SSHRule`: the addresses of its `nodeIP` principals, `sshUsers`, and its
/// verdict (`accept`, or `check` for `holdAndDelegate`).
struct CapturedSsh {
    principals: Vec<IpAddr>,
    users: BTreeMap<String, String>,
    verdict: &'static str,
}

fn captured_ssh(rules: &Value) -> Vec<CapturedSsh> {
    rules
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let action = &r["action"];
            let verdict = if action["accept"] == true {
                "accept"
            } else if action.get("holdAndDelegate").is_some_and(|h| h.is_string()) {
                "check"
            } else {
                "deny"
            };
            CapturedSsh {
                principals: r["principals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["nodeIP"].as_str().unwrap().parse().unwrap())
                    .collect(),
                users: r["sshUsers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect(),
                verdict,
            }
        })
        .collect()
}

/// The client's decision (`tailssh`): the first rule with a principal at one of the source
/// node's addresses that maps the login (its own entry, else `*`; `=` the login itself, an
/// empty user no match).
fn ssh_decide(
    rules: &[CapturedSsh],
    src: &[IpAddr],
    login: &str,
) -> (&'static str, Option<String>) {
    for rule in rules {
        if !rule.principals.iter().any(|p| src.contains(p)) {
            continue;
        }
        let Some(mapped) = rule.users.get(login).or_else(|| rule.users.get("*")) else {
            continue;
        };
        let local = if mapped == "=" {
            login
        } else {
            mapped.as_str()
        };
        if local.is_empty() {
            continue;
        }
        return (rule.verdict, Some(local.to_owned()));
    }
    ("deny", None)
}

fn ssh_rank(verdict: &str) -> u8 {
    match verdict {
        "accept" => 2,
        "check" => 1,
        _ => 0,
    }
}

/// (source node, destination node, login, old verdict, new verdict, old user, new user).
type SshTuple = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Pairs of SSH captures with the same tailnet shape: the diff's SSH rows, expanded to
/// (source node, destination node, login) tuples, equal both ways what the two captures'
/// per-node SSH rules decide for every source node and every login either side names (and
/// one no rule names, the rows' `*`).
#[test]
fn corpus_ssh_pairs_match_their_captured_rules() {
    let Some(cases) = common::load_cases("saas") else {
        return;
    };
    let limit: usize = env_count("DIFF_CORPUS_SSH_PAIRS", 1000);
    const OTHER: &str = "login-no-rule-names";
    let groups = shape_groups(&cases, |case| case.expect.get("ssh_rules").is_some());
    let (mut diffs, mut tuples, mut changed, mut rows_seen) = (0, 0, 0, 0);
    for (group, pairs) in group_pairs(&groups, limit) {
        for (i, j) in pairs {
            let (a, b) = (group[i], group[j]);
            let (Ok(pa), Ok(pb)) = (
                parse_valid(&a.policy, &CheckOptions::default()),
                parse_valid(&b.policy, &CheckOptions::default()),
            ) else {
                continue;
            };
            let inventory = a.inventory();
            let b_inventory = b.inventory();
            let addrs = |inv: &Inventory, name: &str| -> Vec<IpAddr> {
                inv.nodes
                    .iter()
                    .find(|n| n.name == name)
                    .map(|n| n.addrs().collect())
                    .unwrap_or_default()
            };
            for (old_case, new_case, old_policy, new_policy, old_inv, new_inv) in [
                (a, b, &pa, &pb, &inventory, &b_inventory),
                (b, a, &pb, &pa, &b_inventory, &inventory),
            ] {
                let result = diff(old_policy, new_policy, Some(&inventory));
                let expand = |rows: &[Row]| -> Vec<SshTuple> {
                    let mut out = Vec::new();
                    for row in rows {
                        let Row::Ssh(r) = row else { continue };
                        for s in &r.src_nodes {
                            for d in &r.dst_nodes {
                                out.push((
                                    s.clone(),
                                    d.clone(),
                                    r.login.clone(),
                                    format!("{:?}", r.old).to_lowercase(),
                                    format!("{:?}", r.new).to_lowercase(),
                                    r.old_user.clone(),
                                    r.new_user.clone(),
                                ));
                            }
                        }
                    }
                    out.sort();
                    out
                };
                rows_seen += result
                    .added
                    .iter()
                    .chain(&result.removed)
                    .filter(|r| matches!(r, Row::Ssh(_)))
                    .count();
                let (got_added, got_removed) = (expand(&result.added), expand(&result.removed));
                let (mut want_added, mut want_removed) = (Vec::new(), Vec::new());
                for dst in &inventory.nodes {
                    let old_rules = captured_ssh(&old_case.expect["ssh_rules"][&dst.name]);
                    let new_rules = captured_ssh(&new_case.expect["ssh_rules"][&dst.name]);
                    let mut logins: Vec<String> = old_rules
                        .iter()
                        .chain(&new_rules)
                        .flat_map(|r| r.users.keys().cloned())
                        .filter(|l| l != "*")
                        .collect();
                    logins.push(OTHER.to_owned());
                    logins.sort();
                    logins.dedup();
                    for src in &inventory.nodes {
                        for login in &logins {
                            tuples += 1;
                            let was = ssh_decide(&old_rules, &addrs(old_inv, &src.name), login);
                            let is = ssh_decide(&new_rules, &addrs(new_inv, &src.name), login);
                            if was == is {
                                continue;
                            }
                            changed += 1;
                            let star = |text: &str| {
                                if text == OTHER {
                                    "*".to_owned()
                                } else {
                                    text.to_owned()
                                }
                            };
                            let tuple = (
                                src.name.clone(),
                                dst.name.clone(),
                                star(login),
                                was.0.to_owned(),
                                is.0.to_owned(),
                                was.1.as_deref().map(star),
                                is.1.as_deref().map(star),
                            );
                            if ssh_rank(is.0) >= ssh_rank(was.0) {
                                want_added.push(tuple);
                            } else {
                                want_removed.push(tuple);
                            }
                        }
                    }
                }
                want_added.sort();
                want_removed.sort();
                assert_eq!(
                    (&got_added, &got_removed),
                    (&want_added, &want_removed),
                    "{} -> {}",
                    old_case.name,
                    new_case.name
                );
                diffs += 1;
            }
        }
    }
    println!(
        "corpus SSH pairs: {diffs} diffs ({} pairs both ways), {tuples} (source node, destination node, login) tuples compared, {changed} changed, {rows_seen} SSH rows",
        diffs / 2
    );
    assert!(diffs > 0 && changed > 0);
}

// ---------------------------------------------------------------------------------------
// Symbolic diffs (no inventory) against random inventories.

/// Without an inventory, every identity and address the policies name stands for a
/// hypothetical device. On a random tailnet whose devices have those identities (one tag, or
/// a user the hypothetical tailnet has), some at addresses no rule names and some inside the
/// sources the rules name by address (a host alias, a CIDR), every concrete changed flow must
/// show in the symbolic diff as a row with the same source label, the same destination
/// (identity, or address), protocol and port; every changed capability value likewise.
#[test]
fn symbolic_rows_cover_random_inventories() {
    /// Node addresses inside the generator's address sources: `vip` (100.64.0.2) and
    /// `100.64.0.0/29` (not 100.64.0.4, a destination by address).
    const IN_ADDRESS_SOURCES: [&str; 6] = [
        "100.64.0.1",
        "100.64.0.2",
        "100.64.0.3",
        "100.64.0.5",
        "100.64.0.6",
        "100.64.0.7",
    ];
    // The same destination: the same identity, or addresses inside the same prefix a rule
    // names (a concrete device there stands for the hypothetical one at the prefix).
    let named: Vec<IpSet> = ["100.64.0.2", "100.64.0.4", "100.64.0.0/29"]
        .iter()
        .map(|t| IpSet::parse_tailscale(t).unwrap())
        .collect();
    let same_destination = |a: &[String], a_ips: &IpSet, b: &[String], b_ips: &IpSet| {
        a == b
            || a_ips.overlaps(b_ips)
            || named.iter().any(|n| n.overlaps(a_ips) && n.overlaps(b_ips))
    };
    let mut rng = Rng(0x005e_ed0f_5e1f);
    let (mut pairs, mut checked, mut cap_checked, mut address_sources) = (0, 0, 0, 0);
    for _ in 0..400 {
        let (old_rules, old) = valid(&mut rng, &mut |rng| {
            (0..1 + rng.below(5)).map(|_| random_rule(rng)).collect()
        });
        let (new_rules, new) = valid(&mut rng, &mut |rng| mutate(rng, &old_rules));
        let symbolic = diff(&old, &new, None);
        let tailnet = tailpolicy::diff::symbolic_tailnet(&old, &new, &[]);
        let tags: Vec<String> = tailnet
            .nodes
            .iter()
            .filter(|n| n.tags.len() == 1)
            .flat_map(|n| n.tags.clone())
            .collect();
        let users: Vec<&str> = USERS
            .iter()
            .copied()
            .filter(|u| {
                tailnet
                    .nodes
                    .iter()
                    .any(|n| n.tags.is_empty() && n.user.as_deref() == Some(*u))
            })
            .collect();
        for _ in 0..3 {
            let mut nodes = Vec::new();
            let mut inside: Vec<&str> = IN_ADDRESS_SOURCES.to_vec();
            for i in 0..2 + rng.below(6) {
                // Inside a source named by address (`vip`, `100.64.0.0/29`), or far from
                // every address the generator's rules name.
                let ipv4 = if !inside.is_empty() && rng.chance(35) {
                    inside.remove(rng.below(inside.len())).to_owned()
                } else {
                    format!("100.100.{}.{}", rng.below(200), 1 + rng.below(200))
                };
                let mut node = json!({"name": format!("d{i}"), "ipv4": ipv4});
                if !users.is_empty() && (tags.is_empty() || rng.chance(40)) {
                    node["user"] = json!(rng.pick(&users).split('@').next().unwrap());
                } else if !tags.is_empty() {
                    node["tags"] = json!([rng.pick(&tags)]);
                } else {
                    continue;
                }
                nodes.push(node);
            }
            let user_list: Vec<Value> = USERS
                .iter()
                .enumerate()
                .map(
                    |(i, u)| json!({"id": i + 1, "name": u.split('@').next().unwrap(), "email": u}),
                )
                .collect();
            let Ok(inventory) =
                Inventory::parse(&json!({"users": user_list, "nodes": nodes}).to_string())
            else {
                continue;
            };
            let concrete = diff(&old, &new, Some(&inventory));
            for (rows, symbolic_rows) in [
                (&concrete.added, &symbolic.added),
                (&concrete.removed, &symbolic.removed),
            ] {
                for row in rows {
                    if let Row::Capability(row) = row {
                        let wanted: Vec<Option<&Value>> = if row.whole {
                            vec![None]
                        } else {
                            row.values.iter().map(Some).collect()
                        };
                        for value in wanted {
                            cap_checked += 1;
                            let found = symbolic_rows.iter().any(|s| match s {
                                Row::Capability(s) => {
                                    s.src == row.src
                                        && same_destination(
                                            &s.dst,
                                            &s.dst_ips,
                                            &row.dst,
                                            &row.dst_ips,
                                        )
                                        && s.capability == row.capability
                                        && value.is_none_or(|v| s.values.contains(v))
                                        && (value.is_some() || s.whole)
                                }
                                _ => false,
                            });
                            assert!(
                                found,
                                "{}\n---\n{}\nconcrete row {row:#?}\nnot in the symbolic rows {symbolic_rows:#?}",
                                policy_text(&old_rules),
                                policy_text(&new_rules)
                            );
                        }
                        continue;
                    }
                    let Row::Network(row) = row else { continue };
                    if row
                        .src
                        .iter()
                        .any(|l| !l.starts_with(['t', 'g', 'a', '*']) && !l.contains('@'))
                    {
                        address_sources += 1;
                    }
                    for &proto in &row.protos {
                        for range in &row.ports {
                            checked += 1;
                            let found = symbolic_rows.iter().any(|s| match s {
                                Row::Network(s) => {
                                    s.src == row.src
                                        && same_destination(
                                            &s.dst,
                                            &s.dst_ips,
                                            &row.dst,
                                            &row.dst_ips,
                                        )
                                        && s.protos.contains(&proto)
                                        && s.ports.iter().any(|p| p.contains(range.first))
                                }
                                _ => false,
                            });
                            assert!(
                                found,
                                "{}\n---\n{}\nconcrete row {row:#?}\nnot in the symbolic rows {symbolic_rows:#?}",
                                policy_text(&old_rules),
                                policy_text(&new_rules)
                            );
                        }
                    }
                }
            }
            pairs += 1;
        }
    }
    println!(
        "symbolic: {pairs} random inventories, {checked} concrete row cells ({address_sources} rows from sources named by address) and {cap_checked} capability values found in the symbolic diff"
    );
    assert!(checked > 0 && cap_checked > 0 && address_sources > 0);
}
