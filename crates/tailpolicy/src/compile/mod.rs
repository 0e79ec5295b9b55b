//! Compilation of `acls` and `grants` into the per-node packet filters Tailscale sends
//! (`tailcfg.FilterRule`), keeping for every rule the policy rule it came from.
//!
//! The pipeline follows policy-semantics §6.2: each ACL destination and each grant protocol
//! becomes a *piece* (source addresses, protocols, destination addresses × ports); pieces with
//! the same sources and protocols are merged in first-seen order; then every node keeps the
//! pieces whose destinations are its own addresses, its approved subnet routes, or (on an exit
//! node) the internet.

mod capmap;
mod peers;
mod ssh;
mod wire;

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::addr::{IpSet, internet};
use crate::inventory::Inventory;
use crate::model::{AclRule, Grant, Policy};
use crate::ports::{PortRange, parse_port_spec, split_destination_and_port};
use crate::proto::{parse_grant_ip, parse_protocol};
use crate::resolve::{Addr, NodeInfo, Resolver};
use crate::selector::{Autogroup, Selector};
use crate::span::Span;

pub use capmap::{
    TAILNET_STATE_CAP_PREFIXES, TAILNET_STATE_CAPS, is_tailnet_state_cap, strip_tailnet_state_caps,
};
pub use peers::Peer;
pub use ssh::{
    CHECK_ACTION_URL, SshAction, SshDecision, SshOrigin, SshPrincipal, SshRuleOut, SshRuleWire,
    SshVerdict,
};
pub use wire::{CapGrant, FilterRule, NetPortRange, WirePorts};

/// Which section a compiled rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Acls,
    Grants,
}

/// The policy rule a piece of filter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    pub section: Section,
    /// Index in its section.
    pub index: usize,
    #[serde(skip)]
    pub span: Span,
}

/// What a piece grants at its destinations.
#[derive(Debug, Clone)]
pub enum PieceKind {
    /// Packets to `dsts`.
    Network { dsts: Vec<(Addr, PortRange)> },
    /// Packets to each user's own devices (`autogroup:self`), from that user's devices in
    /// `src`.
    SelfDevices { ports: Vec<PortRange> },
    /// Application capabilities at `dsts`, or at each user's own devices (`to_self`).
    Capability {
        dsts: Vec<Addr>,
        cap_map: serde_json::Map<String, serde_json::Value>,
        to_self: bool,
    },
}

/// One unit of access from one policy rule.
#[derive(Debug, Clone)]
pub struct Piece {
    pub origin: Origin,
    /// `SrcIPs` entries.
    pub src: Vec<Addr>,
    /// `None`: the client default protocols.
    pub protocols: Option<Vec<u8>>,
    pub kind: PieceKind,
    /// Grant `via` tags (lowercase): only routers with one of them carry this access.
    pub via: Vec<String>,
}

impl Piece {
    /// The addresses of `src` as a set.
    pub fn src_set(&self) -> IpSet {
        let mut set = IpSet::default();
        for addr in &self.src {
            set.insert_set(&addr.to_set());
        }
        set
    }
}

/// A rule as delivered to one node, with where it came from.
#[derive(Debug, Clone)]
pub struct NodeRule {
    pub origins: Vec<Origin>,
    pub src: Vec<Addr>,
    pub protocols: Option<Vec<u8>>,
    pub dsts: Vec<(Addr, PortRange)>,
    pub cap: Option<(Vec<Addr>, serde_json::Map<String, serde_json::Value>)>,
}

impl NodeRule {
    pub fn to_wire(&self) -> FilterRule {
        wire::to_wire(self)
    }
}

/// A compiled policy for one inventory.
#[derive(Clone)]
pub struct Compiled<'a> {
    pub resolver: Resolver<'a>,
    pub pieces: Vec<Piece>,
    /// Neither `acls` nor `grants`: everything is allowed.
    pub allow_all: bool,
}

impl<'a> Compiled<'a> {
    pub fn new(policy: &'a Policy, inventory: &Inventory) -> Self {
        let resolver = Resolver::new(policy, inventory);
        let allow_all = policy.acls.is_none() && policy.grants.is_none();
        let mut pieces = Vec::new();
        if allow_all {
            pieces.push(Piece {
                origin: Origin {
                    section: Section::Acls,
                    index: 0,
                    span: policy.span,
                },
                src: resolver.wildcard_sources(),
                protocols: None,
                kind: PieceKind::Network {
                    dsts: vec![(Addr::Any, PortRange::ALL)],
                },
                via: Vec::new(),
            });
        }
        for (index, grant) in policy.grants.iter().flat_map(|l| l.iter()).enumerate() {
            let origin = Origin {
                section: Section::Grants,
                index,
                span: grant.span,
            };
            grant_pieces(&resolver, origin, grant, &mut pieces);
        }
        for (index, rule) in policy.acls.iter().flat_map(|l| l.iter()).enumerate() {
            let origin = Origin {
                section: Section::Acls,
                index,
                span: rule.span,
            };
            acl_pieces(&resolver, origin, rule, &mut pieces);
        }
        Self {
            resolver,
            pieces,
            allow_all,
        }
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.resolver.nodes.iter().position(|n| n.name == name)
    }

    /// The rules delivered to node `index`, in Tailscale's order.
    pub fn node_rules(&self, index: usize) -> Vec<NodeRule> {
        let Some(node) = self.resolver.nodes.get(index) else {
            return Vec::new();
        };
        let mut rules: Vec<NodeRule> = Vec::new();
        // Network rules with equal sources and protocols merge into the first of them;
        // destinations are concatenated without de-duplication, as Tailscale does.
        let mut merged: HashMap<(Vec<String>, Option<Vec<u8>>), usize> = HashMap::new();
        for piece in &self.pieces {
            for rule in self.reduce(piece, node) {
                if rule.cap.is_some() {
                    rules.push(rule);
                    continue;
                }
                let key = (
                    rule.src.iter().map(Addr::wire).collect(),
                    rule.protocols.clone(),
                );
                match merged.get(&key).and_then(|&i| rules.get_mut(i)) {
                    Some(existing) => {
                        existing.dsts.extend(rule.dsts);
                        for origin in rule.origins {
                            if !existing.origins.contains(&origin) {
                                existing.origins.push(origin);
                            }
                        }
                    }
                    None => {
                        merged.insert(key, rules.len());
                        rules.push(rule);
                    }
                }
            }
        }
        rules
    }

    /// The part of `piece` that node `node` receives (zero, one or two rules: a capability
    /// piece may bring its companion).
    pub(crate) fn reduce(&self, piece: &Piece, node: &NodeInfo) -> Vec<NodeRule> {
        if !piece.via.is_empty() && !piece.via.iter().any(|t| node.has_tag(t)) {
            return Vec::new();
        }
        let via_only = !piece.via.is_empty();
        match &piece.kind {
            PieceKind::Network { dsts } => {
                let kept: Vec<(Addr, PortRange)> = dsts
                    .iter()
                    .filter(|(addr, _)| delivers_to(addr, node, via_only))
                    .cloned()
                    .collect();
                if kept.is_empty() {
                    return Vec::new();
                }
                vec![NodeRule {
                    origins: vec![piece.origin],
                    src: piece.src.clone(),
                    protocols: piece.protocols.clone(),
                    dsts: kept,
                    cap: None,
                }]
            }
            PieceKind::SelfDevices { ports } => {
                let src = self.same_user_sources(piece, node);
                if src.is_empty() {
                    return Vec::new();
                }
                let dsts = node
                    .host_nets()
                    .flat_map(|net| ports.iter().map(move |p| (Addr::Net(net), *p)))
                    .collect();
                vec![NodeRule {
                    origins: vec![piece.origin],
                    src,
                    protocols: piece.protocols.clone(),
                    dsts,
                    cap: None,
                }]
            }
            PieceKind::Capability {
                dsts,
                cap_map,
                to_self,
            } => {
                // Capabilities are delivered for the node's own addresses only, never for
                // the subnets it routes [captures grant-k12, grant-k13].
                if via_only {
                    return Vec::new();
                }
                let src = if *to_self {
                    self.same_user_sources(piece, node)
                } else if dsts
                    .iter()
                    .any(|addr| node.addrs.iter().any(|a| addr.contains(*a)))
                {
                    piece.src.clone()
                } else {
                    Vec::new()
                };
                if src.is_empty() {
                    return Vec::new();
                }
                let own: Vec<Addr> = node.host_nets().map(Addr::Net).collect();
                vec![NodeRule {
                    origins: vec![piece.origin],
                    src,
                    protocols: None,
                    dsts: Vec::new(),
                    cap: Some((own, cap_map.clone())),
                }]
            }
        }
    }

    /// For an `autogroup:self` piece at `node`: the addresses of the node owner's untagged
    /// devices that are among the piece's sources.
    fn same_user_sources(&self, piece: &Piece, node: &NodeInfo) -> Vec<Addr> {
        if node.is_tagged() || node.login.is_none() {
            return Vec::new();
        }
        let src_set = piece.src_set();
        self.resolver
            .nodes
            .iter()
            .filter(|n| !n.is_tagged() && n.login == node.login)
            .flat_map(|n| n.addrs.iter().copied())
            .filter(|a| src_set.contains(*a))
            .map(|a| Addr::Net(a.into()))
            .collect()
    }

    /// Every node's rules in wire form, keyed by node name.
    pub fn wire_filters(&self) -> Vec<(String, Vec<FilterRule>)> {
        (0..self.resolver.nodes.len())
            .map(|i| {
                let name = self
                    .resolver
                    .nodes
                    .get(i)
                    .map(|n| n.name.clone())
                    .unwrap_or_default();
                (
                    name,
                    self.node_rules(i).iter().map(NodeRule::to_wire).collect(),
                )
            })
            .collect()
    }
}

/// Is a destination entry delivered to `node`: `*`, one of its addresses, inside one of its
/// approved subnet routes, or (exit nodes) in the internet?
fn delivers_to(addr: &Addr, node: &NodeInfo, via_only: bool) -> bool {
    if *addr == Addr::Any {
        return true;
    }
    let set = addr.to_set();
    if !via_only && node.addrs.iter().any(|a| set.contains(*a)) {
        return true;
    }
    if node.subnet_routes.iter().any(|r| set.overlaps_net(r)) {
        return true;
    }
    node.exit_node && set.is_subset(&internet())
}

fn sources(resolver: &Resolver<'_>, src: &[crate::model::Str]) -> Vec<Addr> {
    let mut out: Vec<Addr> = Vec::new();
    for text in src {
        for addr in resolver.source_addrs(&Selector::parse(&text.value)) {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    out
}

fn destinations(
    resolver: &Resolver<'_>,
    selector: &Selector<'_>,
    ports: &[PortRange],
) -> Vec<(Addr, PortRange)> {
    resolver
        .destination_addrs(selector)
        .into_iter()
        .flat_map(|addr| ports.iter().map(move |p| (addr.clone(), *p)))
        .collect()
}

fn acl_pieces(resolver: &Resolver<'_>, origin: Origin, rule: &AclRule, out: &mut Vec<Piece>) {
    let src = sources(resolver, &rule.src.items);
    let protocols = match &rule.proto {
        Some(p) => match parse_protocol(p.value.trim()) {
            Ok(proto) => Some(vec![proto.number()]),
            Err(_) => return,
        },
        None => None,
    };
    if src.is_empty() {
        return;
    }
    // Tailscale emits an ACL's `autogroup:self` destinations after its others, unless every
    // destination is an autogroup (then policy order holds) [captures acl-s08, acl-sf06].
    let all_autogroups = rule
        .dst
        .iter()
        .all(|d| d.value.trim_start().starts_with("autogroup:"));
    let mut self_pieces = Vec::new();
    for entry in rule.dst.iter() {
        let Ok((selector_text, port_text)) = split_destination_and_port(&entry.value) else {
            continue;
        };
        let Ok(ports) = parse_port_spec(port_text) else {
            continue;
        };
        let selector = Selector::parse(&selector_text);
        let piece = |kind| Piece {
            origin,
            src: src.clone(),
            protocols: protocols.clone(),
            kind,
            via: Vec::new(),
        };
        if selector == Selector::Autogroup(Autogroup::SelfDevices) && !all_autogroups {
            self_pieces.push(piece(PieceKind::SelfDevices { ports }));
        } else if selector == Selector::Autogroup(Autogroup::SelfDevices) {
            out.push(piece(PieceKind::SelfDevices { ports }));
        } else {
            out.push(piece(PieceKind::Network {
                dsts: destinations(resolver, &selector, &ports),
            }));
        }
    }
    out.extend(self_pieces);
}

fn grant_pieces(resolver: &Resolver<'_>, origin: Origin, grant: &Grant, out: &mut Vec<Piece>) {
    let src = sources(resolver, &grant.src.items);
    if src.is_empty() {
        return;
    }
    let via: Vec<String> = grant
        .via
        .iter()
        .map(|t| t.value.trim().to_ascii_lowercase())
        .collect();
    let selectors: Vec<Selector<'_>> = grant
        .dst
        .iter()
        .map(|d| Selector::parse(&d.value))
        .collect();
    let has_self = selectors.contains(&Selector::Autogroup(Autogroup::SelfDevices));

    // One piece per distinct protocol, grouping that protocol's ports in entry order.
    let mut by_protocol: Vec<(Option<u8>, Vec<PortRange>)> = Vec::new();
    for entry in grant.ip.iter().flat_map(|l| l.iter()) {
        let Ok(ip) = parse_grant_ip(entry.value.trim()) else {
            continue;
        };
        let key = ip.proto.map(|p| p.number());
        match by_protocol.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ports)) => ports.extend(ip.ports),
            None => by_protocol.push((key, ip.ports)),
        }
    }
    for (protocol, ports) in &by_protocol {
        let protocols = protocol.map(|p| vec![p]);
        let dsts: Vec<(Addr, PortRange)> = selectors
            .iter()
            .filter(|s| **s != Selector::Autogroup(Autogroup::SelfDevices))
            .flat_map(|s| destinations(resolver, s, ports))
            .collect();
        if !dsts.is_empty() || !has_self {
            out.push(Piece {
                origin,
                src: src.clone(),
                protocols: protocols.clone(),
                kind: PieceKind::Network { dsts },
                via: via.clone(),
            });
        }
        if has_self {
            out.push(Piece {
                origin,
                src: src.clone(),
                protocols,
                kind: PieceKind::SelfDevices {
                    ports: ports.clone(),
                },
                via: via.clone(),
            });
        }
    }

    if let Some(app) = &grant.app {
        if app.entries.is_empty() {
            return;
        }
        let cap_map: serde_json::Map<String, serde_json::Value> = app
            .entries
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect();
        let cap_dsts: Vec<Addr> = selectors
            .iter()
            .flat_map(|s| resolver.destination_addrs(s))
            .collect();
        let cap_piece = |dsts: Vec<Addr>, cap_map, to_self, src: &Vec<Addr>| Piece {
            origin,
            src: src.clone(),
            protocols: None,
            kind: PieceKind::Capability {
                dsts,
                cap_map,
                to_self,
            },
            via: via.clone(),
        };
        if !cap_dsts.is_empty() {
            out.push(cap_piece(cap_dsts, cap_map.clone(), false, &src));
        }
        if has_self {
            out.push(cap_piece(Vec::new(), cap_map.clone(), true, &src));
        }
        // Sharing and relaying work both ways: Tailscale adds a reversed companion capability.
        for (cap, companion) in [
            ("tailscale.com/cap/drive", "tailscale.com/cap/drive-sharer"),
            ("tailscale.com/cap/relay", "tailscale.com/cap/relay-target"),
        ] {
            if !cap_map.contains_key(cap) {
                continue;
            }
            let mut companion_map = serde_json::Map::new();
            companion_map.insert(companion.to_owned(), serde_json::Value::Null);
            if has_self {
                out.push(cap_piece(Vec::new(), companion_map.clone(), true, &src));
            }
            let reversed_src = sources_from_selectors(resolver, &selectors);
            if reversed_src.is_empty() {
                continue;
            }
            let reversed_dst: Vec<Addr> = grant
                .src
                .iter()
                .flat_map(|s| resolver.destination_addrs(&Selector::parse(&s.value)))
                .collect();
            out.push(cap_piece(reversed_dst, companion_map, false, &reversed_src));
        }
    }
}

fn sources_from_selectors(resolver: &Resolver<'_>, selectors: &[Selector<'_>]) -> Vec<Addr> {
    let mut out: Vec<Addr> = Vec::new();
    for selector in selectors {
        for addr in resolver.source_addrs(selector) {
            if !out.contains(&addr) {
                out.push(addr);
            }
        }
    }
    out
}

/// True when `ip` is one of the node's own addresses.
pub fn is_own_address(node: &NodeInfo, ip: IpAddr) -> bool {
    node.has_addr(ip)
}
