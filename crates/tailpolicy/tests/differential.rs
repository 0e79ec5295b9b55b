//! Differential property test of the access simulator.
//!
//! Random but valid small tailnets and policies are generated; for each, queries (source
//! node, destination node or address behind a subnet route or exit node, port, protocol)
//! are answered three ways, which must agree:
//!
//! 1. [`Simulator::query`];
//! 2. a reading of the compiled wire filters (`Compiled::node_rules(..).to_wire()`) of the
//!    receiving node (or of the routers / exit nodes for a routed address) by the client's
//!    rules: the source in `SrcIPs`; ICMP allowed when a rule covers the destination address;
//!    otherwise the protocol in `IPProto` (default `[6, 17, 1, 58]`) and the port in range;
//! 3. a deliberately naive reference evaluator, written here from the policy semantics and
//!    working on the generator's own description of the policy (not on the engine's model):
//!    for every rule, does a source selector name the source node, does a destination
//!    selector cover the destination address, do the ports and protocol fit?
//!
//! When a query is allowed, the rules listed in `Answer::matches` must be exactly the rules
//! the naive evaluator finds covering it (so every listed rule really covers it). And for
//! every node, `Compiled::reduced` (the indexed lookup of what a node receives) must give
//! exactly what scanning every piece with `Compiled::reduce` gives.
//!
//! Every generated policy must pass [`tailpolicy::parse_valid`].
//!
//! # What the generator covers
//!
//! * 2–12 nodes, each owned by one of 3 users or carrying 1–2 of 4 tags, with IPv4 and IPv6
//!   addresses; some advertise a subnet route `10.k.0.0/16` (k in 0..3, so several routers
//!   may share a route), approved or not; some advertise exit routes, approved or not.
//! * `groups` (2, of 1–3 users), `hosts` (3 aliases, each a node address, a tailnet /29, a
//!   subnet /16 or /24, or a public /24), `tagOwners` for every tag.
//! * 1–8 rules, ACLs and grants in any mix.
//!   * Sources: `*`, users, groups, tags, `autogroup:member`, `autogroup:tagged`, hosts, CIDRs.
//!   * ACL destinations: the same selectors plus `autogroup:internet`, with ports `*`, single
//!     ports, ranges and lists; optional `proto` `tcp`, `udp` or `icmp` (with `*` ports).
//!   * Grant destinations: the same selectors; `ip` entries `*`, `443`, `tcp:22`, `udp:53`,
//!     `icmp:*`, `tcp:80-90`, `22,8000-8100`.
//! * Queries over TCP, UDP and ICMP, from every node, to every other node, to addresses inside
//!   and outside the `/24` of each subnet route, and to a public address (exit nodes).
//!
//! # What it leaves out
//!
//! `via`, `autogroup:self`, app (capability) grants, `ipsets`, IP ranges, role autogroups,
//! `autogroup:danger-all`, `user:*@domain`, `autoApprovers`, HA primary selection, IPv6
//! query addresses, hypothetical nodes (queries by identity rather than node name), SSH, and
//! the "no `acls` and no `grants`" allow-all policy. Those are covered by the conformance
//! suites (`compile_conformance.rs`, `query_conformance.rs`).

#![allow(clippy::print_stdout, reason = "the test reports its case counts")]
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic fails the test, and clippy.toml's test exemptions do not reach helpers outside `#[test]` functions"
)]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use tailpolicy::addr::IpSet;
use tailpolicy::compile::{Compiled, FilterRule, Section};
use tailpolicy::inventory::{Inventory, Node, User};
use tailpolicy::query::Simulator;
use tailpolicy::{CheckOptions, parse_valid};

const USERS: [&str; 3] = ["alice", "bob", "carol"];
const TAGS: [&str; 4] = ["tag:web", "tag:db", "tag:ci", "tag:router"];
const GROUPS: [&str; 2] = ["group:eng", "group:ops"];
const HOSTS: [&str; 3] = ["vip", "lab", "office"];
const ROUTES: u8 = 3;
const MAX_NODES: usize = 12;
const ALL_PORTS: &[(u16, u16)] = &[(0, 65535)];

/// ACL destination port specs, with the ranges they stand for.
const ACL_PORTS: &[(&str, &[(u16, u16)])] = &[
    ("*", ALL_PORTS),
    ("22", &[(22, 22)]),
    ("443", &[(443, 443)]),
    ("80-90", &[(80, 90)]),
    ("22,443", &[(22, 22), (443, 443)]),
    ("53,8000-8100", &[(53, 53), (8000, 8100)]),
];

/// Grant `ip` entries: text, protocol number (`None`: any of TCP, UDP, ICMP), ranges.
type PortRanges = &'static [(u16, u16)];

const GRANT_IPS: &[(&str, Option<Proto>, PortRanges)] = &[
    ("*", None, ALL_PORTS),
    ("443", None, &[(443, 443)]),
    ("tcp:22", Some(Proto::Tcp), &[(22, 22)]),
    ("udp:53", Some(Proto::Udp), &[(53, 53)]),
    ("icmp:*", Some(Proto::Icmp), ALL_PORTS),
    ("tcp:80-90", Some(Proto::Tcp), &[(80, 90)]),
    ("22,8000-8100", None, &[(22, 22), (8000, 8100)]),
];

/// Ports queries use: the edges of every range above, and neighbours.
const QUERY_PORTS: &[u16] = &[
    0, 1, 21, 22, 23, 53, 79, 80, 85, 90, 91, 442, 443, 444, 7999, 8000, 8100, 8101, 65535,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Icmp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
        }
    }

    fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The generated world.

#[derive(Debug, Clone)]
enum Owner {
    User(usize),
    Tags(BTreeSet<usize>),
}

#[derive(Debug, Clone)]
struct NodeSpec {
    owner: Owner,
    /// An advertised subnet route `10.k.0.0/16`, and whether it is approved.
    route: Option<(u8, bool)>,
    /// Advertises exit routes; `true` when they are approved.
    exit: Option<bool>,
}

/// An IPv4 network used by `hosts` values and CIDR selectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// The address of node `n` (which may not exist): `100.64.0.{n+1}`.
    NodeIp(u8),
    /// `100.64.0.0/29`: nodes 0 to 6.
    TailnetLow,
    /// `10.k.0.0/16`, a whole subnet route.
    Route16(u8),
    /// `10.k.5.0/24`, part of one.
    Route24(u8),
    /// `8.8.8.0/24`, on the internet.
    Public,
}

impl Net {
    fn base_and_len(self) -> (Ipv4Addr, u32) {
        match self {
            Net::NodeIp(n) => (node_ip(usize::from(n)), 32),
            Net::TailnetLow => (Ipv4Addr::new(100, 64, 0, 0), 29),
            Net::Route16(k) => (Ipv4Addr::new(10, k, 0, 0), 16),
            Net::Route24(k) => (Ipv4Addr::new(10, k, 5, 0), 24),
            Net::Public => (Ipv4Addr::new(8, 8, 8, 0), 24),
        }
    }

    fn text(self) -> String {
        match self.base_and_len() {
            (ip, 32) => ip.to_string(),
            (ip, len) => format!("{ip}/{len}"),
        }
    }

    fn contains(self, ip: Ipv4Addr) -> bool {
        let (base, len) = self.base_and_len();
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        u32::from(base) & mask == u32::from(ip) & mask
    }
}

/// A selector, as the generator writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sel {
    Any,
    User(usize),
    Group(usize),
    Tag(usize),
    Member,
    Tagged,
    Host(usize),
    Cidr(Net),
    /// Destinations only.
    Internet,
}

impl Sel {
    fn text(self) -> String {
        match self {
            Sel::Any => "*".to_owned(),
            Sel::User(u) => login(u),
            Sel::Group(g) => GROUPS[g].to_owned(),
            Sel::Tag(t) => TAGS[t].to_owned(),
            Sel::Member => "autogroup:member".to_owned(),
            Sel::Tagged => "autogroup:tagged".to_owned(),
            Sel::Host(h) => HOSTS[h].to_owned(),
            Sel::Cidr(net) => net.text(),
            Sel::Internet => "autogroup:internet".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
enum Rule {
    Acl {
        src: Vec<Sel>,
        /// Selector and index into [`ACL_PORTS`].
        dst: Vec<(Sel, usize)>,
        proto: Option<Proto>,
    },
    Grant {
        src: Vec<Sel>,
        dst: Vec<Sel>,
        /// Indexes into [`GRANT_IPS`].
        ip: Vec<usize>,
    },
}

#[derive(Debug, Clone)]
struct World {
    nodes: Vec<NodeSpec>,
    groups: [BTreeSet<usize>; 2],
    hosts: [Net; 3],
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Node(Index),
    /// An address in `10.k.0.0/16`: inside `10.k.5.0/24` when `true`.
    Subnet(u8, bool),
    Internet,
}

#[derive(Debug, Clone, Copy)]
struct Query {
    src: Index,
    dst: Target,
    port: u16,
    proto: Proto,
}

fn login(user: usize) -> String {
    format!("{}@example.com", USERS[user])
}

fn node_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(100, 64, 0, (i + 1) as u8)
}

fn node_ip6(i: usize) -> Ipv6Addr {
    Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, (i + 1) as u16)
}

fn subnet_addr(k: u8, inner: bool) -> Ipv4Addr {
    if inner {
        Ipv4Addr::new(10, k, 5, 9)
    } else {
        Ipv4Addr::new(10, k, 200, 1)
    }
}

const PUBLIC_ADDR: Ipv4Addr = Ipv4Addr::new(8, 8, 8, 8);

// ---------------------------------------------------------------------------------------
// Strategies.

fn owner() -> impl Strategy<Value = Owner> {
    prop_oneof![
        3 => (0..USERS.len()).prop_map(Owner::User),
        2 => prop::collection::btree_set(0..TAGS.len(), 1..=2).prop_map(Owner::Tags),
    ]
}

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    (
        owner(),
        prop::option::weighted(0.3, (0..ROUTES, prop::bool::weighted(0.8))),
        prop::option::weighted(0.1, prop::bool::weighted(0.7)),
    )
        .prop_map(|(owner, route, exit)| NodeSpec { owner, route, exit })
}

fn net() -> impl Strategy<Value = Net> {
    prop_oneof![
        (0..14u8).prop_map(Net::NodeIp),
        Just(Net::TailnetLow),
        (0..ROUTES).prop_map(Net::Route16),
        (0..ROUTES).prop_map(Net::Route24),
        Just(Net::Public),
    ]
}

fn src_sel() -> impl Strategy<Value = Sel> {
    prop_oneof![
        Just(Sel::Any),
        (0..USERS.len()).prop_map(Sel::User),
        (0..GROUPS.len()).prop_map(Sel::Group),
        (0..TAGS.len()).prop_map(Sel::Tag),
        Just(Sel::Member),
        Just(Sel::Tagged),
        (0..HOSTS.len()).prop_map(Sel::Host),
        net().prop_map(Sel::Cidr),
    ]
}

fn dst_sel() -> impl Strategy<Value = Sel> {
    prop_oneof![
        10 => src_sel(),
        1 => Just(Sel::Internet),
    ]
}

fn proto() -> impl Strategy<Value = Proto> {
    prop_oneof![Just(Proto::Tcp), Just(Proto::Udp), Just(Proto::Icmp)]
}

fn rule() -> impl Strategy<Value = Rule> {
    let acl = (
        prop::collection::vec(src_sel(), 1..=3),
        prop::collection::vec((dst_sel(), 0..ACL_PORTS.len()), 1..=3),
        prop::option::weighted(0.3, proto()),
    )
        .prop_map(|(src, mut dst, proto)| {
            // ICMP has no ports: only `*` is valid.
            if proto == Some(Proto::Icmp) {
                for (_, ports) in &mut dst {
                    *ports = 0;
                }
            }
            Rule::Acl { src, dst, proto }
        });
    let grant = (
        prop::collection::vec(src_sel(), 1..=3),
        prop::collection::vec(dst_sel(), 1..=3),
        prop::collection::vec(0..GRANT_IPS.len(), 1..=3),
    )
        .prop_map(|(src, dst, ip)| Rule::Grant { src, dst, ip });
    prop_oneof![acl, grant]
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(node_spec(), 2..=MAX_NODES),
        [
            prop::collection::btree_set(0..USERS.len(), 1..=3),
            prop::collection::btree_set(0..USERS.len(), 1..=3),
        ],
        [net(), net(), net()],
        prop::collection::vec(rule(), 1..=8),
    )
        .prop_map(|(nodes, groups, hosts, rules)| World {
            nodes,
            groups,
            hosts,
            rules,
        })
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => any::<Index>().prop_map(Target::Node),
        3 => ((0..ROUTES), any::<bool>()).prop_map(|(k, inner)| Target::Subnet(k, inner)),
        1 => Just(Target::Internet),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    (
        any::<Index>(),
        target(),
        prop_oneof![
            4 => prop::sample::select(QUERY_PORTS),
            1 => any::<u16>(),
        ],
        proto(),
    )
        .prop_map(|(src, dst, port, proto)| Query {
            src,
            dst,
            port,
            proto,
        })
}

// ---------------------------------------------------------------------------------------
// The policy and inventory as text.

impl World {
    fn policy_json(&self) -> Value {
        let groups: Map<String, Value> = GROUPS
            .iter()
            .zip(&self.groups)
            .map(|(name, members)| {
                (
                    (*name).to_owned(),
                    members.iter().map(|&u| Value::from(login(u))).collect(),
                )
            })
            .collect();
        let hosts: Map<String, Value> = HOSTS
            .iter()
            .zip(&self.hosts)
            .map(|(name, net)| ((*name).to_owned(), Value::from(net.text())))
            .collect();
        let tag_owners: Map<String, Value> = TAGS
            .iter()
            .map(|tag| ((*tag).to_owned(), json!(["autogroup:admin"])))
            .collect();
        let texts = |sels: &[Sel]| -> Vec<String> { sels.iter().map(|s| s.text()).collect() };
        let mut acls = Vec::new();
        let mut grants = Vec::new();
        for rule in &self.rules {
            match rule {
                Rule::Acl { src, dst, proto } => {
                    let dst: Vec<String> = dst
                        .iter()
                        .map(|(sel, ports)| format!("{}:{}", sel.text(), ACL_PORTS[*ports].0))
                        .collect();
                    let mut acl = json!({"action": "accept", "src": texts(src), "dst": dst});
                    if let Some(proto) = proto {
                        acl["proto"] = Value::from(proto.name());
                    }
                    acls.push(acl);
                }
                Rule::Grant { src, dst, ip } => {
                    let ip: Vec<&str> = ip.iter().map(|&i| GRANT_IPS[i].0).collect();
                    grants.push(json!({"src": texts(src), "dst": texts(dst), "ip": ip}));
                }
            }
        }
        let mut policy = json!({"groups": groups, "hosts": hosts, "tagOwners": tag_owners});
        if !acls.is_empty() {
            policy["acls"] = Value::from(acls);
        }
        if !grants.is_empty() {
            policy["grants"] = Value::from(grants);
        }
        policy
    }

    fn inventory(&self) -> Inventory {
        let users = USERS
            .iter()
            .enumerate()
            .map(|(i, name)| User {
                id: i as u64 + 1,
                name: (*name).to_owned(),
                email: Some(login(i)),
                roles: Vec::new(),
                shared: false,
            })
            .collect();
        let nodes = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let mut routable_ips = Vec::new();
                let mut approved_routes = Vec::new();
                if let Some((k, approved)) = spec.route {
                    let route = format!("10.{k}.0.0/16").parse().unwrap();
                    routable_ips.push(route);
                    if approved {
                        approved_routes.push(route);
                    }
                }
                if let Some(approved) = spec.exit {
                    for route in ["0.0.0.0/0", "::/0"] {
                        routable_ips.push(route.parse().unwrap());
                        if approved {
                            approved_routes.push(route.parse().unwrap());
                        }
                    }
                }
                let (user, tags) = match &spec.owner {
                    Owner::User(u) => (Some(USERS[*u].to_owned()), Vec::new()),
                    Owner::Tags(tags) => (None, tags.iter().map(|&t| TAGS[t].to_owned()).collect()),
                };
                Node {
                    name: format!("n{i}"),
                    ipv4: Some(node_ip(i)),
                    ipv6: Some(node_ip6(i)),
                    user,
                    tags,
                    routable_ips,
                    approved_routes,
                    primary_routes: Vec::new(),
                    created_by: None,
                    ephemeral: false,
                    shared: false,
                }
            })
            .collect();
        Inventory {
            users,
            nodes,
            tailnet: Default::default(),
            unknown: Default::default(),
            services: Vec::new(),
            assume_nodes: Vec::new(),
        }
    }

    /// One line per node, for failure messages.
    fn describe_nodes(&self) -> String {
        let mut out = String::new();
        for (i, spec) in self.nodes.iter().enumerate() {
            let owner = match &spec.owner {
                Owner::User(u) => login(*u),
                Owner::Tags(tags) => tags.iter().map(|&t| TAGS[t]).collect::<Vec<_>>().join(","),
            };
            let _ = write!(out, "  n{i} {} {owner}", node_ip(i));
            if let Some((k, approved)) = spec.route {
                let state = if approved { "approved" } else { "unapproved" };
                let _ = write!(out, " route 10.{k}.0.0/16 ({state})");
            }
            if let Some(approved) = spec.exit {
                let state = if approved { "approved" } else { "unapproved" };
                let _ = write!(out, " exit ({state})");
            }
            out.push('\n');
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// The naive reference evaluator.

fn is_internet(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(o[0] == 10
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 169 && o[1] == 254)
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168))
}

impl World {
    /// Does a selector name node `i` (by identity, or by its address)?
    fn names_node(&self, sel: Sel, i: usize) -> bool {
        let Some(node) = self.nodes.get(i) else {
            return false;
        };
        match (sel, &node.owner) {
            (Sel::Any, _) => true,
            (Sel::User(u), Owner::User(owner)) => u == *owner,
            (Sel::Group(g), Owner::User(owner)) => self.groups[g].contains(owner),
            (Sel::Tag(t), Owner::Tags(tags)) => tags.contains(&t),
            (Sel::Member, Owner::User(_)) => true,
            (Sel::Tagged, Owner::Tags(_)) => true,
            (Sel::Host(h), _) => self.hosts[h].contains(node_ip(i)),
            (Sel::Cidr(net), _) => net.contains(node_ip(i)),
            _ => false,
        }
    }

    /// Does a destination selector cover address `ip`?
    fn covers(&self, sel: Sel, ip: Ipv4Addr) -> bool {
        match sel {
            Sel::Any => true,
            Sel::Host(h) => self.hosts[h].contains(ip),
            Sel::Cidr(net) => net.contains(ip),
            Sel::Internet => is_internet(ip),
            _ => (0..self.nodes.len()).any(|j| node_ip(j) == ip && self.names_node(sel, j)),
        }
    }

    /// Does some node take packets for `ip`: its owner, an approved subnet route, or (for
    /// internet addresses) an approved exit node?
    fn delivered(&self, ip: Ipv4Addr) -> bool {
        (0..self.nodes.len()).any(|j| node_ip(j) == ip)
            || self.nodes.iter().any(|n| {
                n.route
                    .is_some_and(|(k, approved)| approved && Net::Route16(k).contains(ip))
            })
            || (is_internet(ip) && self.nodes.iter().any(|n| n.exit == Some(true)))
    }

    /// Does rule `r` allow node `src` to send to `ip`:`port` over `proto`?
    fn rule_allows(&self, rule: &Rule, src: usize, ip: Ipv4Addr, port: u16, proto: Proto) -> bool {
        let in_ranges = |ranges: &[(u16, u16)]| ranges.iter().any(|&(a, b)| a <= port && port <= b);
        if !self.delivered(ip) {
            return false;
        }
        match rule {
            Rule::Acl {
                src: sources,
                dst,
                proto: rule_proto,
            } => {
                if !sources.iter().any(|&s| self.names_node(s, src)) {
                    return false;
                }
                dst.iter().any(|&(sel, ports)| {
                    self.covers(sel, ip)
                        && (proto == Proto::Icmp
                            || (rule_proto.is_none_or(|p| p == proto)
                                && in_ranges(ACL_PORTS[ports].1)))
                })
            }
            Rule::Grant {
                src: sources,
                dst,
                ip: entries,
            } => {
                if !sources.iter().any(|&s| self.names_node(s, src)) {
                    return false;
                }
                if !dst.iter().any(|&sel| self.covers(sel, ip)) {
                    return false;
                }
                proto == Proto::Icmp
                    || entries.iter().any(|&e| {
                        let (_, entry_proto, ranges) = GRANT_IPS[e];
                        entry_proto.is_none_or(|p| p == proto) && in_ranges(ranges)
                    })
            }
        }
    }

    /// The rules (section, index in section) that allow the query.
    fn naive_matches(
        &self,
        src: usize,
        ip: Ipv4Addr,
        port: u16,
        proto: Proto,
    ) -> BTreeSet<(u8, usize)> {
        let (mut acl, mut grant) = (0, 0);
        let mut out = BTreeSet::new();
        for rule in &self.rules {
            let key = match rule {
                Rule::Acl { .. } => {
                    acl += 1;
                    (0, acl - 1)
                }
                Rule::Grant { .. } => {
                    grant += 1;
                    (1, grant - 1)
                }
            };
            if self.rule_allows(rule, src, ip, port, proto) {
                out.insert(key);
            }
        }
        out
    }

    /// The nodes whose filters decide a packet to `ip`.
    fn receivers(&self, ip: Ipv4Addr) -> Vec<usize> {
        if let Some(j) = (0..self.nodes.len()).find(|&j| node_ip(j) == ip) {
            return vec![j];
        }
        let routers: Vec<usize> = (0..self.nodes.len())
            .filter(|&j| {
                self.nodes[j]
                    .route
                    .is_some_and(|(k, approved)| approved && Net::Route16(k).contains(ip))
            })
            .collect();
        if !routers.is_empty() || !is_internet(ip) {
            return routers;
        }
        (0..self.nodes.len())
            .filter(|&j| self.nodes[j].exit == Some(true))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Reading the wire filters by the client's rules.

/// A wire filter rule with its address strings parsed.
struct ParsedRule {
    src: IpSet,
    protocols: Vec<u8>,
    dsts: Vec<(IpSet, u16, u16)>,
}

fn parse_wire(rules: &[FilterRule]) -> Vec<ParsedRule> {
    let set = |s: &str| IpSet::parse_tailscale(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    rules
        .iter()
        .filter(|r| r.cap_grant.is_none())
        .map(|r| ParsedRule {
            src: r
                .src_ips
                .iter()
                .fold(IpSet::new(), |acc, s| acc.union(&set(s))),
            protocols: r
                .ip_proto
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| vec![6, 17, 1, 58]),
            dsts: r
                .dst_ports
                .iter()
                .map(|d| (set(&d.ip), d.ports.first, d.ports.last))
                .collect(),
        })
        .collect()
}

fn wire_allows(
    rules: &[ParsedRule],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    port: u16,
    proto: Proto,
) -> bool {
    let (src, dst) = (IpAddr::V4(src), IpAddr::V4(dst));
    rules.iter().any(|rule| {
        if !rule.src.contains(src) {
            return false;
        }
        if proto == Proto::Icmp {
            return rule.dsts.iter().any(|(set, _, _)| set.contains(dst));
        }
        rule.protocols.contains(&proto.number())
            && rule
                .dsts
                .iter()
                .any(|(set, first, last)| set.contains(dst) && *first <= port && port <= *last)
    })
}

// ---------------------------------------------------------------------------------------
// The test.

#[derive(Debug, Default)]
struct Stats {
    cases: usize,
    queries: usize,
    allowed: usize,
    allowed_by_kind: [usize; 3],
    queries_by_kind: [usize; 3],
    allowed_icmp: usize,
}

struct Case<'w> {
    world: &'w World,
    policy_text: String,
    simulator: Simulator<'w>,
    wire: Vec<Vec<ParsedRule>>,
}

/// A resolved query destination.
#[derive(Debug, Clone, Copy)]
enum Dest {
    Node(usize),
    Subnet(u8, bool),
    Internet,
}

impl Dest {
    fn resolve(target: Target, src: usize, nodes: usize) -> Dest {
        match target {
            Target::Node(index) => {
                let j = index.index(nodes);
                Dest::Node(if j == src { (j + 1) % nodes } else { j })
            }
            Target::Subnet(k, inner) => Dest::Subnet(k, inner),
            Target::Internet => Dest::Internet,
        }
    }
}

fn check_query(
    case: &Case<'_>,
    src: usize,
    dst: Dest,
    port: u16,
    proto: Proto,
    stats: &mut Stats,
) -> Result<(), TestCaseError> {
    let world = case.world;
    let (dst_ip, dst_text, kind) = match dst {
        Dest::Node(j) => (node_ip(j), format!("n{j}"), 0),
        Dest::Subnet(k, inner) => {
            let ip = subnet_addr(k, inner);
            (ip, ip.to_string(), 1)
        }
        Dest::Internet => (PUBLIC_ADDR, PUBLIC_ADDR.to_string(), 2),
    };
    let src_text = format!("n{src}");
    let dst_port = format!("{dst_text}:{port}");
    let answer = case
        .simulator
        .query(&src_text, &dst_port, Some(proto.name()))
        .map_err(|e| TestCaseError::fail(format!("query failed: {e}")))?;
    let wire = world
        .receivers(dst_ip)
        .iter()
        .any(|&r| wire_allows(&case.wire[r], node_ip(src), dst_ip, port, proto));
    let naive = world.naive_matches(src, dst_ip, port, proto);
    let matches: BTreeSet<(u8, usize)> = answer
        .matches
        .iter()
        .map(|o| (u8::from(o.section == Section::Grants), o.index))
        .collect();

    let context = || {
        format!(
            "query: {src_text} -> {dst_port} over {}\n\
             simulator: allowed={} matches={:?} ({})\n\
             wire filters of receivers {:?}: allowed={wire}\n\
             naive: allowed={} matches={naive:?}   (section 0 = acls, 1 = grants)\n\
             nodes:\n{}policy:\n{}",
            proto.name(),
            answer.allowed,
            matches,
            answer.explanation,
            world.receivers(dst_ip),
            !naive.is_empty(),
            world.describe_nodes(),
            case.policy_text,
        )
    };
    prop_assert!(
        answer.allowed != naive.is_empty() && wire == answer.allowed,
        "answers disagree\n{}",
        context()
    );
    prop_assert!(
        matches == naive,
        "the matching rules disagree\n{}",
        context()
    );

    stats.queries += 1;
    stats.queries_by_kind[kind] += 1;
    if answer.allowed {
        stats.allowed += 1;
        stats.allowed_by_kind[kind] += 1;
        if proto == Proto::Icmp {
            stats.allowed_icmp += 1;
        }
    }
    Ok(())
}

fn run_case(world: &World, queries: &[Query], stats: &mut Stats) -> Result<(), TestCaseError> {
    let policy_text = serde_json::to_string_pretty(&world.policy_json()).unwrap();
    let inventory = world.inventory();
    #[allow(clippy::needless_update, reason = "CheckOptions may gain fields")]
    let options = CheckOptions {
        inventory: Some(&inventory),
        ..Default::default()
    };
    let policy = match parse_valid(&policy_text, &options) {
        Ok(policy) => policy,
        Err(report) => {
            return Err(TestCaseError::fail(format!(
                "generated policy is not valid: {:?}\n{policy_text}",
                report.diagnostics.first()
            )));
        }
    };
    let compiled = Compiled::new(&policy, &inventory);
    // The indexed per-node reduction finds exactly what scanning every piece finds.
    for (i, node) in compiled.resolver.nodes.iter().enumerate() {
        let indexed: Vec<_> = compiled
            .reduced(i)
            .into_iter()
            .map(|(p, r)| (p, r.origins.clone(), r.to_wire()))
            .collect();
        let scanned: Vec<_> = compiled
            .pieces
            .iter()
            .enumerate()
            .flat_map(|(p, piece)| {
                compiled
                    .reduce(piece, node)
                    .into_iter()
                    .map(move |r| (p, r))
            })
            .map(|(p, r)| (p, r.origins.clone(), r.to_wire()))
            .collect();
        prop_assert!(
            indexed == scanned,
            "Compiled::reduced({i}) differs from the scan\n{policy_text}"
        );
    }
    let wire: Vec<Vec<ParsedRule>> = (0..world.nodes.len())
        .map(|i| {
            let rules: Vec<FilterRule> =
                compiled.node_rules(i).iter().map(|r| r.to_wire()).collect();
            parse_wire(&rules)
        })
        .collect();
    let case = Case {
        world,
        policy_text,
        simulator: Simulator::new(&policy, Some(&inventory)),
        wire,
    };
    stats.cases += 1;

    // The random queries.
    for q in queries {
        let src = q.src.index(world.nodes.len());
        let dst = Dest::resolve(q.dst, src, world.nodes.len());
        check_query(&case, src, dst, q.port, q.proto, stats)?;
    }
    // And a sweep: every source against every target, every protocol, on ports taken in turn
    // from the random queries.
    let mut targets: Vec<Dest> = (0..world.nodes.len()).map(Dest::Node).collect();
    for k in 0..ROUTES {
        targets.push(Dest::Subnet(k, true));
        targets.push(Dest::Subnet(k, false));
    }
    targets.push(Dest::Internet);
    let mut turn = 0;
    for src in 0..world.nodes.len() {
        for &target in &targets {
            if let Dest::Node(j) = target
                && j == src
            {
                continue;
            }
            for proto in [Proto::Tcp, Proto::Udp, Proto::Icmp] {
                let port = queries
                    .get(turn % queries.len().max(1))
                    .map_or(443, |q| q.port);
                turn += 1;
                check_query(&case, src, target, port, proto, stats)?;
            }
        }
    }
    Ok(())
}

#[test]
fn simulator_wire_filters_and_naive_evaluator_agree() {
    // 512 cases unless `PROPTEST_CASES` asks for another number.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let stats = RefCell::new(Stats::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(
        &(world(), prop::collection::vec(query(), 16..=48)),
        |(world, queries)| run_case(&world, &queries, &mut stats.borrow_mut()),
    );
    if let Err(error) = result {
        panic!("{error}");
    }
    let stats = stats.into_inner();
    println!("{stats:?}");
    // The generator must exercise both outcomes on every kind of destination.
    assert!(stats.cases >= cases.min(256) as usize, "{stats:?}");
    assert!(
        stats.allowed * 10 > stats.queries,
        "too few allowed: {stats:?}"
    );
    assert!(
        stats.allowed * 10 < stats.queries * 9,
        "too few denied: {stats:?}"
    );
    assert!(stats.allowed_by_kind.iter().all(|&a| a > 0), "{stats:?}");
    assert!(stats.allowed_icmp > 0, "{stats:?}");
}

// ---------------------------------------------------------------------------------------
// Listings against queries.

/// The first address of a listed range (`a.b.c.d/n`, `a-b`, or an address).
fn first_addr(text: &str) -> Option<IpAddr> {
    let first = text.split(',').next()?;
    IpSet::parse_tailscale(first)
        .ok()?
        .ranges()
        .next()
        .map(|r| r.first())
}

/// The first port of a listed port text, and whether it holds `port`.
fn port_bounds(text: &str) -> (u16, u16) {
    if text == "*" {
        return (0, u16::MAX);
    }
    match text.split_once('-') {
        Some((a, b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
        None => {
            let p = text.parse().unwrap_or(0);
            (p, p)
        }
    }
}

/// A protocol a listing line names that a query can ask about, with a port to ask on.
fn probe(line: &tailpolicy::query::Reach, ports: &str) -> (&'static str, u16) {
    let (first, _) = port_bounds(ports);
    for proto in ["tcp", "udp", "sctp"] {
        if line.protocols.iter().any(|p| p == proto) {
            return (proto, first);
        }
    }
    ("icmp", 0)
}

fn check_listings(
    world: &World,
    simulator: &Simulator<'_>,
    with_inventory: bool,
) -> Result<(), TestCaseError> {
    let n = world.nodes.len();
    let sources: Vec<String> = if with_inventory {
        (0..n).map(|i| format!("n{i}")).collect()
    } else {
        let mut s: Vec<String> = TAGS.iter().map(|t| (*t).to_owned()).collect();
        s.extend((0..USERS.len()).map(login));
        s
    };
    for src in &sources {
        let listing = simulator
            .reachable_from(src)
            .map_err(|e| TestCaseError::fail(format!("reach --from {src}: {e}")))?;
        // Sound: every line's destination, on every listed port range's first port, is allowed.
        for line in &listing {
            let host = match &line.addr {
                None => line.name.clone(),
                Some(addr) => first_addr(addr)
                    .map(|ip| ip.to_string())
                    .ok_or_else(|| TestCaseError::fail(format!("unreadable addr {addr}")))?,
            };
            for ports in &line.ports {
                let (proto, port) = probe(line, ports);
                let answer = simulator
                    .query(src, &format!("{host}:{port}"), Some(proto))
                    .map_err(|e| {
                        TestCaseError::fail(format!("query {src} -> {host}:{port}: {e}"))
                    })?;
                prop_assert!(
                    answer.allowed || !line.members.is_empty(),
                    "reach --from {src} lists {line:?} but query {src} -> {host}:{port} ({proto}) says {}\npolicy:\n{}\nnodes:\n{}",
                    answer.explanation,
                    serde_json::to_string_pretty(&world.policy_json()).unwrap_or_default(),
                    world.describe_nodes()
                );
            }
        }
        if !with_inventory {
            continue;
        }
        // Complete: every allowed node (TCP, the sweep's ports) has a line holding the port.
        let me: usize = src[1..].parse().unwrap_or(0);
        for j in (0..n).filter(|&j| j != me) {
            for &port in &[22u16, 443, 5432] {
                let answer = simulator
                    .query(src, &format!("n{j}:{port}"), Some("tcp"))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let listed = listing.iter().any(|l| {
                    l.name == format!("n{j}")
                        && l.addr.is_none()
                        && l.protocols.iter().any(|p| p == "tcp")
                        && l.ports.iter().any(|p| {
                            let (a, b) = port_bounds(p);
                            a <= port && port <= b
                        })
                });
                prop_assert!(
                    answer.allowed == listed,
                    "query {src} -> n{j}:{port} says allowed={} ({}) but reach --from {src} lists it: {listed}\n{listing:#?}\npolicy:\n{}\nnodes:\n{}",
                    answer.allowed,
                    answer.explanation,
                    serde_json::to_string_pretty(&world.policy_json()).unwrap_or_default(),
                    world.describe_nodes()
                );
            }
        }
        // Routed and internet addresses: allowed exactly when some line's range holds it.
        let addrs = (0..ROUTES)
            .flat_map(|k| [subnet_addr(k, true), subnet_addr(k, false)])
            .chain([PUBLIC_ADDR]);
        for ip in addrs {
            {
                let answer = simulator
                    .query(src, &format!("{ip}:443"), Some("tcp"))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let listed = listing.iter().any(|l| {
                    l.addr.as_deref().is_some_and(|a| {
                        a.split(',').any(|r| {
                            IpSet::parse_tailscale(r).is_ok_and(|s| s.contains(IpAddr::V4(ip)))
                        })
                    }) && l.protocols.iter().any(|p| p == "tcp")
                        && l.ports.iter().any(|p| {
                            let (a, b) = port_bounds(p);
                            a <= 443 && 443 <= b
                        })
                });
                prop_assert!(
                    answer.allowed == listed,
                    "query {src} -> {ip}:443 says allowed={} ({}) but reach --from {src} lists it: {listed}\n{listing:#?}\npolicy:\n{}\nnodes:\n{}",
                    answer.allowed,
                    answer.explanation,
                    serde_json::to_string_pretty(&world.policy_json()).unwrap_or_default(),
                    world.describe_nodes()
                );
            }
        }
    }
    // reach --to: every node the query allows is listed, and every line is allowed.
    let destinations: Vec<String> = if with_inventory {
        (0..n).map(|j| format!("n{j}:443")).collect()
    } else {
        TAGS.iter()
            .chain(HOSTS.iter())
            .map(|t| format!("{t}:443"))
            .collect()
    };
    for (j, dst) in destinations.into_iter().enumerate() {
        let listing = simulator
            .reachable_to(&dst)
            .map_err(|e| TestCaseError::fail(format!("reach --to {dst}: {e}")))?;
        for line in &listing {
            if !line.members.is_empty() {
                continue;
            }
            let answer = simulator
                .query(&line.name, &dst, Some(probe(line, "443").0))
                .map_err(|e| TestCaseError::fail(format!("query {} -> {dst}: {e}", line.name)))?;
            prop_assert!(
                answer.allowed,
                "reach --to {dst} lists {line:?} but the query says {}",
                answer.explanation
            );
        }
        if !with_inventory {
            continue;
        }
        for i in (0..n).filter(|&i| i != j) {
            let answer = simulator
                .query(&format!("n{i}"), &dst, Some("tcp"))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let listed = listing
                .iter()
                .any(|l| l.name == format!("n{i}") && l.protocols.iter().any(|p| p == "tcp"));
            prop_assert!(
                answer.allowed == listed,
                "query n{i} -> {dst} allowed={} ({}) but reach --to lists it: {listed}\n{listing:#?}",
                answer.allowed,
                answer.explanation
            );
        }
    }
    Ok(())
}

#[test]
fn listings_agree_with_queries() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&world(), |world| {
        let policy_text = serde_json::to_string_pretty(&world.policy_json()).unwrap();
        let inventory = world.inventory();
        let policy = parse_valid(&policy_text, &CheckOptions::default())
            .map_err(|r| TestCaseError::fail(format!("{:?}", r.diagnostics.first())))?;
        check_listings(&world, &Simulator::new(&policy, Some(&inventory)), true)?;
        check_listings(&world, &Simulator::new(&policy, None), false)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
