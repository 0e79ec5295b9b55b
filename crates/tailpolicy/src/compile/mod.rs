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

use crate::text::{Trimmed, items};

use crate::fasthash::{FastMap as HashMap, FastSet as HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, OnceLock};

use serde::Serialize;

use crate::addr::{IpRange, IpSet, internet};
use crate::inventory::Inventory;
use crate::model::{AclRule, Grant, List, Policy, Str};
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
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Acls,
    Grants,
}

impl Section {
    /// The section's key in the policy file: `acls` or `grants`.
    pub fn name(self) -> &'static str {
        match self {
            Section::Acls => "acls",
            Section::Grants => "grants",
        }
    }
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

impl Origin {
    /// `acls[0]`, `grants[3]`: how answers and findings name the rule.
    pub fn label(&self) -> String {
        format!("{}[{}]", self.section.name(), self.index)
    }

    /// The rule this origin points at in `policy` (`None` for the allow-all policy's
    /// origin, which names no written rule).
    pub fn rule_in<'p>(&self, policy: &'p Policy) -> Option<RuleAt<'p>> {
        match self.section {
            Section::Acls => items(&policy.acls).get(self.index).map(RuleAt::Acl),
            Section::Grants => items(&policy.grants).get(self.index).map(RuleAt::Grant),
        }
    }
}

/// An ACL or a grant, for the fields both have.
#[derive(Debug, Clone, Copy)]
pub enum RuleAt<'p> {
    Acl(&'p AclRule),
    Grant(&'p Grant),
}

impl<'p> RuleAt<'p> {
    pub fn src(self) -> &'p List<Str> {
        match self {
            RuleAt::Acl(rule) => &rule.src,
            RuleAt::Grant(grant) => &grant.src,
        }
    }

    pub fn dst(self) -> &'p List<Str> {
        match self {
            RuleAt::Acl(rule) => &rule.dst,
            RuleAt::Grant(grant) => &grant.dst,
        }
    }

    pub fn src_posture(self) -> &'p [Str] {
        match self {
            RuleAt::Acl(rule) => &rule.src_posture,
            RuleAt::Grant(grant) => &grant.src_posture,
        }
    }

    pub fn span(self) -> Span {
        match self {
            RuleAt::Acl(rule) => rule.span,
            RuleAt::Grant(grant) => grant.span,
        }
    }
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
        cap_map: CapValues,
        to_self: bool,
    },
}

/// One unit of access from one policy rule.
#[derive(Debug, Clone)]
pub struct Piece {
    pub origin: Origin,
    /// `SrcIPs` entries, shared by every piece of one rule (a rule with many destinations
    /// would otherwise hold its source list once per destination).
    pub src: Arc<[Addr]>,
    /// `None`: the client default protocols.
    pub protocols: Option<Vec<u8>>,
    pub kind: PieceKind,
    /// Grant `via` tags (lowercase): only routers with one of them carry this access.
    pub via: Vec<String>,
}

impl Piece {
    /// The addresses of `src` as a set.
    pub fn src_set(&self) -> IpSet {
        crate::resolve::union_of(self.src.iter())
    }
}

/// A rule as delivered to one node, with where it came from.
#[derive(Debug, Clone)]
pub struct NodeRule {
    pub origins: Vec<Origin>,
    pub src: Vec<Addr>,
    pub protocols: Option<Vec<u8>>,
    pub dsts: Vec<(Addr, PortRange)>,
    pub cap: Option<(Vec<Addr>, CapValues)>,
}

/// Application capabilities by name, as written in the policy. They become JSON only when a
/// filter is written out ([`NodeRule::to_wire`]), so answering queries needs no JSON numbers.
pub type CapValues = std::sync::Arc<Vec<(String, crate::syntax::Value)>>;

impl NodeRule {
    pub fn to_wire(&self) -> FilterRule {
        wire::to_wire(self)
    }
}

/// What a node receives from one piece (see [`Compiled::delivered`]).
#[derive(Debug, Clone)]
pub enum Delivered<'c> {
    /// From a network piece: these of its destinations, with the piece's sources and
    /// protocols.
    Network(Vec<&'c (Addr, PortRange)>),
    /// From any other piece: the rule as [`Compiled::reduce`] gives it.
    Rule(NodeRule),
}

/// A list of addresses as sorted, disjoint ranges, for membership tests by binary search.
#[derive(Debug, Clone, Default)]
struct Ranges(Vec<(IpAddr, IpAddr)>);

impl Ranges {
    fn new(addrs: &[Addr]) -> Self {
        let mut ranges: Vec<(IpAddr, IpAddr)> = Vec::with_capacity(addrs.len());
        for addr in addrs {
            match addr {
                Addr::Any => {
                    ranges.push((IpAddr::from([0u8; 4]), IpAddr::from([255u8; 4])));
                    ranges.push((IpAddr::from([0u8; 16]), IpAddr::from([255u8; 16])));
                }
                Addr::Net(net) => ranges.push((net.network(), net.broadcast())),
                Addr::Range(range) => ranges.push((range.first(), range.last())),
            }
        }
        ranges.sort_unstable();
        // Merge overlapping ranges (IPv4 sorts before IPv6, so families never meet).
        let mut merged: Vec<(IpAddr, IpAddr)> = Vec::with_capacity(ranges.len());
        for (first, last) in ranges {
            match merged.last_mut() {
                Some(prev) if first <= prev.1 && first.is_ipv4() == prev.1.is_ipv4() => {
                    prev.1 = prev.1.max(last);
                }
                _ => merged.push((first, last)),
            }
        }
        Ranges(merged)
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let after = self.0.partition_point(|(first, _)| *first <= ip);
        after
            .checked_sub(1)
            .and_then(|i| self.0.get(i))
            .is_some_and(|&(first, last)| first.is_ipv4() == ip.is_ipv4() && ip <= last)
    }
}

/// A compiled policy for one inventory.
#[derive(Clone)]
pub struct Compiled<'a> {
    pub resolver: Resolver<'a>,
    pub pieces: Vec<Piece>,
    /// Neither `acls` nor `grants`: everything is allowed.
    pub allow_all: bool,
    /// Built from `resolver.nodes` and `pieces` by [`Compiled::new`].
    index: Index,
}

/// Lookup tables built once per compilation, so that the rules of one node are found
/// without scanning every destination of every piece (see [`Compiled::reduced`]).
#[derive(Clone, Default)]
struct Index {
    /// Destination entries of network pieces, as (address, piece, entry), sorted by
    /// address: a single address (`/32`, `/128`) under itself, a wider prefix or range
    /// under every node address it holds. (A sorted `Vec`: built in one sort, where a
    /// `BTreeMap` of `Vec`s allocated per address.)
    by_addr: Vec<(IpAddr, u32, u32)>,
    /// Destination entries `*`.
    any: Vec<(u32, u32)>,
    /// For routers and exit nodes: the destination entries wider than one address that
    /// reach their subnets or the internet (whether or not they hold a node address).
    carried: HashMap<usize, Vec<(u32, u32)>>,
    /// `autogroup:self` pieces by the login of an untagged node with a source address in
    /// them: only that user's devices can receive them.
    self_by_login: HashMap<String, Vec<u32>>,
    /// Capability pieces.
    other: Vec<u32>,
    /// Per piece, for `autogroup:self` pieces: the sources as a set.
    self_src: Vec<Option<IpSet>>,
    /// Per piece: a number shared by the pieces whose `SrcIPs` are written alike.
    src_key: Vec<u32>,
    /// Source lists, numbered by their wire form.
    src_keys: SourceKeys,
    /// Per source-list number: the sources as sorted ranges, built on first use by queries.
    src_sets: Vec<OnceLock<Ranges>>,
    /// Untagged nodes by owner login, in inventory order.
    by_login: HashMap<String, Vec<usize>>,
    /// Every node address with its node, sorted.
    node_addrs: Vec<(IpAddr, usize)>,
    /// The nodes with an approved subnet route or exit route, in inventory order.
    carriers: Vec<usize>,
    /// For those nodes: their candidates (see [`Compiled::candidates`]), kept on first use.
    carrier_candidates: HashMap<usize, OnceLock<Vec<(u32, u32)>>>,
}

impl Index {
    fn new(resolver: &Resolver<'_>, pieces: &[Piece]) -> Self {
        let mut index = Index {
            self_src: vec![None; pieces.len()],
            ..Index::default()
        };
        let mut wide: Vec<((u32, u32), &Addr)> = Vec::new();
        let mut node_addrs: Vec<(IpAddr, usize)> = Vec::new();
        for (i, node) in resolver.nodes.iter().enumerate() {
            for addr in &node.addrs {
                node_addrs.push((*addr, i));
            }
        }
        node_addrs.sort_unstable();
        // The nodes with an address in `first..=last`.
        let holding = |first: IpAddr, last: IpAddr| {
            let start = node_addrs.partition_point(|(a, _)| *a < first);
            let end = node_addrs.partition_point(|(a, _)| *a <= last);
            node_addrs.get(start..end).unwrap_or_default()
        };
        let mut previous: Option<(&[Addr], u32)> = None;
        for (p, piece) in pieces.iter().enumerate() {
            let p32 = p as u32;
            // The pieces of one rule follow each other and share their sources: one lookup
            // per rule.
            let key = match previous {
                Some((src, key)) if src == &*piece.src => key,
                _ => index.src_keys.number(&piece.src, || Arc::clone(&piece.src)),
            };
            previous = Some((&*piece.src, key));
            index.src_key.push(key);
            match &piece.kind {
                PieceKind::Network { dsts } => {
                    for (e, (addr, _)) in dsts.iter().enumerate() {
                        let entry = (p32, e as u32);
                        let (first, last) = match addr {
                            Addr::Any => {
                                index.any.push(entry);
                                continue;
                            }
                            Addr::Net(net) if net.prefix_len() == net.max_prefix_len() => {
                                index.by_addr.push((net.addr(), entry.0, entry.1));
                                continue;
                            }
                            Addr::Net(net) => (net.network(), net.broadcast()),
                            Addr::Range(range) => (range.first(), range.last()),
                        };
                        wide.push((entry, addr));
                        for (a, _) in holding(first, last) {
                            index.by_addr.push((*a, entry.0, entry.1));
                        }
                    }
                }
                PieceKind::SelfDevices { .. } => {
                    let set = piece.src_set();
                    // (Each login's list gets this piece once; lists stay in piece order.)
                    let mut logins: HashSet<&String> = HashSet::default();
                    for range in set.ranges() {
                        for (_, i) in holding(range.first(), range.last()) {
                            if let Some(node) = resolver.nodes.get(*i)
                                && let Some(login) = &node.login
                                && !node.is_tagged()
                            {
                                logins.insert(login);
                            }
                        }
                    }
                    for login in logins {
                        index
                            .self_by_login
                            .entry(login.clone())
                            .or_default()
                            .push(p32);
                    }
                    if let Some(slot) = index.self_src.get_mut(p) {
                        *slot = Some(set);
                    }
                }
                PieceKind::Capability { to_self, .. } => {
                    index.other.push(p32);
                    if *to_self && let Some(slot) = index.self_src.get_mut(p) {
                        *slot = Some(piece.src_set());
                    }
                }
            }
        }
        for (i, node) in resolver.nodes.iter().enumerate() {
            if let Some(login) = &node.login
                && !node.is_tagged()
            {
                index.by_login.entry(login.clone()).or_default().push(i);
            }
            if !node.subnet_routes.is_empty() || node.exit_node {
                index.carriers.push(i);
                let mut carried = Vec::new();
                for (entry, addr) in &wide {
                    if carried_by(addr, node) {
                        carried.push(*entry);
                    }
                }
                index.carried.insert(i, carried);
                index.carrier_candidates.insert(i, OnceLock::new());
            }
        }
        index.by_addr.sort_unstable();
        index.node_addrs = node_addrs;
        index.src_sets = vec![OnceLock::new(); index.src_keys.len()];
        index
    }
}

impl Index {
    /// Pushes the (piece, entry) pairs of `by_addr` at an address in `first..=last` (a plain
    /// loop: one body instead of an adapter chain per caller).
    fn entries_in(&self, first: IpAddr, last: IpAddr, out: &mut Vec<(u32, u32)>) {
        let start = self.by_addr.partition_point(|(a, _, _)| *a < first);
        let end = self.by_addr.partition_point(|(a, _, _)| *a <= last);
        for &(_, p, e) in self.by_addr.get(start..end).unwrap_or_default() {
            out.push((p, e));
        }
    }
}

/// The pieces' source lists numbered by their wire form (two lists written alike share a
/// number), holding the pieces' own shared lists rather than a second copy of each: by
/// the hash of the wire form, compared element by element through [`WireKey::of`].
#[derive(Clone, Default)]
struct SourceKeys {
    /// The first list seen with each hash, and its number.
    first: HashMap<u64, (Arc<[Addr]>, u32)>,
    /// Lists whose hash an earlier, different list already took (rare).
    collided: Vec<(u64, Arc<[Addr]>, u32)>,
}

impl SourceKeys {
    fn len(&self) -> usize {
        self.first.len() + self.collided.len()
    }

    fn hash(list: &[Addr]) -> u64 {
        let mut hasher = crate::fasthash::Fnv::default();
        list.len().hash(&mut hasher);
        for addr in list {
            WireKey::of(addr).hash(&mut hasher);
        }
        hasher.finish()
    }

    fn alike(a: &[Addr], b: &[Addr]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| WireKey::of(x) == WireKey::of(y))
    }

    fn find(&self, hash: u64, list: &[Addr]) -> Option<u32> {
        match self.first.get(&hash) {
            Some((seen, key)) if Self::alike(seen, list) => Some(*key),
            Some(_) => self
                .collided
                .iter()
                .find(|(h, seen, _)| *h == hash && Self::alike(seen, list))
                .map(|(_, _, key)| *key),
            None => None,
        }
    }

    /// The number of a list written like `list`.
    fn get(&self, list: &[Addr]) -> Option<u32> {
        self.find(Self::hash(list), list)
    }

    /// The number of `list`, numbering it next when it is new and storing `keep()`, the
    /// shared copy of it.
    fn number(&mut self, list: &[Addr], keep: impl FnOnce() -> Arc<[Addr]>) -> u32 {
        let hash = Self::hash(list);
        if let Some(key) = self.find(hash, list) {
            return key;
        }
        let key = self.len() as u32;
        if self.first.contains_key(&hash) {
            self.collided.push((hash, keep(), key));
        } else {
            self.first.insert(hash, (keep(), key));
        }
        key
    }
}

/// An address as [`Addr::wire`] writes it, without writing it: two lists are written alike
/// exactly when their keys are equal (a host prefix and a one-address range are both a bare
/// IP; a prefix is written truncated). Formatting every source list to compare them was a
/// tenth of a query's time on a large tailnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum WireKey {
    Any,
    One(IpAddr),
    Net(IpAddr, u8),
    Range(IpAddr, IpAddr),
}

impl WireKey {
    fn of(addr: &Addr) -> Self {
        match addr {
            Addr::Any => WireKey::Any,
            Addr::Net(net) if net.prefix_len() == net.max_prefix_len() => WireKey::One(net.addr()),
            Addr::Net(net) => WireKey::Net(net.trunc().addr(), net.prefix_len()),
            Addr::Range(range) if range.is_single() => WireKey::One(range.first()),
            Addr::Range(range) => WireKey::Range(range.first(), range.last()),
        }
    }
}

impl<'a> Compiled<'a> {
    pub fn new(policy: &'a Policy, inventory: &Inventory) -> Self {
        let resolver = Resolver::new(policy, inventory);
        let mut cache = SelectorCache::new(&resolver);
        let allow_all = policy.acls.is_none() && policy.grants.is_none();
        let mut pieces = Vec::new();
        if allow_all {
            pieces.push(Piece {
                origin: Origin {
                    section: Section::Acls,
                    index: 0,
                    span: policy.span,
                },
                src: resolver.wildcard_sources().into(),
                protocols: None,
                kind: PieceKind::Network {
                    dsts: vec![(Addr::Any, PortRange::ALL)],
                },
                via: Vec::new(),
            });
        }
        for (index, grant) in items(&policy.grants).iter().enumerate() {
            let origin = Origin {
                section: Section::Grants,
                index,
                span: grant.span,
            };
            grant_pieces(&mut cache, origin, grant, &mut pieces);
        }
        for (index, rule) in items(&policy.acls).iter().enumerate() {
            let origin = Origin {
                section: Section::Acls,
                index,
                span: rule.span,
            };
            acl_pieces(&mut cache, origin, rule, &mut pieces);
        }
        let index = Index::new(&resolver, &pieces);
        Self {
            resolver,
            pieces,
            allow_all,
            index,
        }
    }

    /// The first node, in inventory order, with address `ip`.
    pub fn node_with_addr(&self, ip: IpAddr) -> Option<usize> {
        let addrs = &self.index.node_addrs;
        let at = addrs.partition_point(|(a, _)| *a < ip);
        addrs.get(at).filter(|(a, _)| *a == ip).map(|&(_, i)| i)
    }

    /// The nodes with an approved subnet route or exit route, in inventory order.
    pub fn carriers(&self) -> &[usize] {
        &self.index.carriers
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.resolver.nodes.iter().position(|n| n.name == name)
    }

    /// The rules delivered to node `index`, in Tailscale's order.
    pub fn node_rules(&self, index: usize) -> Vec<NodeRule> {
        let mut rules: Vec<NodeRule> = Vec::new();
        // Network rules with equal sources (as written on the wire) and protocols merge into
        // the first of them; destinations are concatenated without de-duplication, as
        // Tailscale does.
        let mut merged: HashMap<(u32, Option<Vec<u8>>), usize> = HashMap::default();
        let mut extra_keys = SourceKeys::default();
        for (piece, rule) in self.reduced(index) {
            if rule.cap.is_some() {
                rules.push(rule);
                continue;
            }
            let key = (
                self.src_key(piece, &rule, &mut extra_keys),
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
        rules
    }

    /// The number of the wire form of `rule.src`, for a rule that piece `piece` gave: the
    /// piece's own for network pieces (whose rules keep the piece's sources), otherwise
    /// looked up, or numbered in `extra` when no piece has that source list.
    fn src_key(&self, piece: usize, rule: &NodeRule, extra: &mut SourceKeys) -> u32 {
        if let Some(Piece {
            kind: PieceKind::Network { .. },
            ..
        }) = self.pieces.get(piece)
            && let Some(&key) = self.index.src_key.get(piece)
        {
            return key;
        }
        if let Some(key) = self.index.src_keys.get(&rule.src) {
            return key;
        }
        // Numbered after the pieces' lists.
        self.index.src_keys.len() as u32 + extra.number(&rule.src, || rule.src.as_slice().into())
    }

    /// What node `index` receives from each piece, in piece order, with the piece's index:
    /// the same as `reduce` over every piece, but only the pieces with a destination that
    /// can be delivered to the node are looked at (single addresses by table lookup: the
    /// node's own, those inside its approved routes, and internet ones on an exit node).
    pub fn reduced(&self, index: usize) -> Vec<(usize, NodeRule)> {
        let mut out = Vec::new();
        for (p, delivered) in self.delivered(index) {
            match delivered {
                Delivered::Network(dsts) => {
                    if let Some(piece) = self.pieces.get(p) {
                        let mut owned = Vec::with_capacity(dsts.len());
                        for dst in dsts {
                            owned.push(dst.clone());
                        }
                        out.push((p, network_rule(piece, owned)));
                    }
                }
                Delivered::Rule(rule) => out.push((p, rule)),
            }
        }
        out
    }

    /// Does the source list of piece `piece` hold `ip`? (A set lookup, built on first use and
    /// shared by the pieces with the same sources.)
    pub fn src_contains(&self, piece: usize, ip: IpAddr) -> bool {
        let Some(p) = self.pieces.get(piece) else {
            return false;
        };
        let cell = self
            .index
            .src_key
            .get(piece)
            .and_then(|&key| self.index.src_sets.get(key as usize));
        match cell {
            Some(cell) => cell.get_or_init(|| Ranges::new(&p.src)).contains(ip),
            None => p.src.iter().any(|a| a.contains(ip)),
        }
    }

    /// [`Compiled::reduced`] without copying: a network piece's share is the destinations the
    /// node receives, borrowed (its sources and protocols are the piece's own).
    pub fn delivered(&self, index: usize) -> Vec<(usize, Delivered<'_>)> {
        let Some(node) = self.resolver.nodes.get(index) else {
            return Vec::new();
        };
        let ix = &self.index;
        // Routers and exit nodes receive many wide entries; their candidates are kept.
        let computed;
        let candidates: &[(u32, u32)] = match ix.carrier_candidates.get(&index) {
            Some(cell) => cell.get_or_init(|| self.candidates(index, node)),
            None => {
                computed = self.candidates(index, node);
                &computed
            }
        };

        let mut out = Vec::new();
        for group in candidates.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(p, _)) = group.first() else {
                continue;
            };
            let Some(piece) = self.pieces.get(p as usize) else {
                continue;
            };
            if let PieceKind::Network { dsts } = &piece.kind {
                if !piece.via.is_empty() && !piece.via.iter().any(|t| node.has_tag(t)) {
                    continue;
                }
                let via_only = !piece.via.is_empty();
                let mut kept: Vec<&(Addr, PortRange)> = Vec::new();
                for &(_, e) in group {
                    if let Some(dst) = dsts.get(e as usize)
                        && delivers_to(&dst.0, node, via_only)
                    {
                        kept.push(dst);
                    }
                }
                if !kept.is_empty() {
                    out.push((p as usize, Delivered::Network(kept)));
                }
            } else {
                let self_src = ix.self_src.get(p as usize).and_then(Option::as_ref);
                for rule in self.reduce_with(piece, node, self_src) {
                    out.push((p as usize, Delivered::Rule(rule)));
                }
            }
        }
        out
    }

    /// Every (piece, destination entry) that can be delivered to node `index` (and some that
    /// cannot: [`Compiled::delivered`] tests each exactly), sorted: `*`, entries holding one
    /// of its addresses, for routers and exit nodes the wider entries they carry and the
    /// single addresses in their routes, and the `autogroup:self` and capability pieces
    /// that may concern it (entry `u32::MAX`).
    fn candidates(&self, index: usize, node: &NodeInfo) -> Vec<(u32, u32)> {
        let ix = &self.index;
        let mut candidates: Vec<(u32, u32)> = ix.any.clone();
        for addr in &node.addrs {
            ix.entries_in(*addr, *addr, &mut candidates);
        }
        if let Some(entries) = ix.carried.get(&index) {
            candidates.extend_from_slice(entries);
        }
        for route in &node.subnet_routes {
            ix.entries_in(route.network(), route.broadcast(), &mut candidates);
        }
        if node.exit_node {
            for range in INTERNET_RANGES.iter() {
                ix.entries_in(range.first(), range.last(), &mut candidates);
            }
        }
        if let Some(login) = &node.login
            && let Some(pieces) = ix.self_by_login.get(login)
        {
            for &p in pieces {
                candidates.push((p, u32::MAX));
            }
        }
        for &p in &ix.other {
            candidates.push((p, u32::MAX));
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }

    /// The part of `piece` that node `node` receives (zero, one or two rules: a capability
    /// piece may bring its companion). This is the definition; [`Compiled::reduced`] finds
    /// the same for every piece at once through the index, and is tested against it.
    pub fn reduce(&self, piece: &Piece, node: &NodeInfo) -> Vec<NodeRule> {
        self.reduce_with(piece, node, None)
    }

    /// [`Compiled::reduce`], with the piece's sources as a set when already known.
    fn reduce_with(
        &self,
        piece: &Piece,
        node: &NodeInfo,
        src_set: Option<&IpSet>,
    ) -> Vec<NodeRule> {
        if !piece.via.is_empty() && !piece.via.iter().any(|t| node.has_tag(t)) {
            return Vec::new();
        }
        let via_only = !piece.via.is_empty();
        match &piece.kind {
            PieceKind::Network { dsts } => {
                let mut kept: Vec<(Addr, PortRange)> = Vec::new();
                for dst in dsts.iter() {
                    if delivers_to(&dst.0, node, via_only) {
                        kept.push(dst.clone());
                    }
                }
                if kept.is_empty() {
                    return Vec::new();
                }
                vec![network_rule(piece, kept)]
            }
            PieceKind::SelfDevices { ports } => {
                let src = self.same_user_sources(piece, node, src_set);
                if src.is_empty() {
                    return Vec::new();
                }
                let mut dsts = Vec::new();
                for net in node.host_nets() {
                    for p in ports {
                        dsts.push((Addr::Net(net), *p));
                    }
                }
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
                // Sources without an address still deliver the capability (see
                // `grant_pieces`); a self grant needs a device of the node's owner among them.
                let src = if *to_self {
                    let own = self.same_user_sources(piece, node, src_set);
                    if own.is_empty() {
                        return Vec::new();
                    }
                    own
                } else if dsts
                    .iter()
                    .any(|addr| node.addrs.iter().any(|a| addr.contains(*a)))
                {
                    piece.src.to_vec()
                } else {
                    return Vec::new();
                };
                let mut own: Vec<Addr> = Vec::with_capacity(node.addrs.len());
                for net in node.host_nets() {
                    own.push(Addr::Net(net));
                }
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
    fn same_user_sources(
        &self,
        piece: &Piece,
        node: &NodeInfo,
        src_set: Option<&IpSet>,
    ) -> Vec<Addr> {
        let Some(login) = node.login.as_ref().filter(|_| !node.is_tagged()) else {
            return Vec::new();
        };
        let computed;
        let src_set = match src_set {
            Some(set) => set,
            None => {
                computed = piece.src_set();
                &computed
            }
        };
        let same_user = self.index.by_login.get(login).map(Vec::as_slice);
        let mut out = Vec::new();
        for &i in same_user.unwrap_or_default() {
            for &addr in self
                .resolver
                .nodes
                .get(i)
                .map_or(&[] as &[IpAddr], |n| n.addrs.as_slice())
            {
                if src_set.contains(addr) {
                    out.push(Addr::Net(addr.into()));
                }
            }
        }
        out
    }

    /// Every node's rules in wire form, keyed by node name.
    pub fn wire_filters(&self) -> Vec<(String, Vec<FilterRule>)> {
        let mut out = Vec::with_capacity(self.resolver.nodes.len());
        for (i, node) in self.resolver.nodes.iter().enumerate() {
            let rules = self.node_rules(i);
            let mut wire = Vec::with_capacity(rules.len());
            for rule in rules.iter() {
                wire.push(rule.to_wire());
            }
            out.push((node.name.clone(), wire));
        }
        out
    }
}

/// The rule a network piece gives a node that receives `dsts` of it.
fn network_rule(piece: &Piece, dsts: Vec<(Addr, PortRange)>) -> NodeRule {
    NodeRule {
        origins: vec![piece.origin],
        src: piece.src.to_vec(),
        protocols: piece.protocols.clone(),
        dsts,
        cap: None,
    }
}

/// Is a destination entry delivered to `node`: `*`, one of its addresses, inside one of its
/// approved subnet routes, or (exit nodes) in the internet?
fn delivers_to(addr: &Addr, node: &NodeInfo, via_only: bool) -> bool {
    if *addr == Addr::Any {
        return true;
    }
    if !via_only && node.addrs.iter().any(|a| addr.contains(*a)) {
        return true;
    }
    carried_by(addr, node)
}

/// Does `node` take traffic for (part of) a destination entry as a router or exit node: the
/// entry overlaps one of its approved subnet routes, or it is an exit node and the entry is
/// in the internet?
fn carried_by(addr: &Addr, node: &NodeInfo) -> bool {
    if node.subnet_routes.is_empty() && !node.exit_node {
        return false;
    }
    // The entry as one range; `*` reaches every node.
    let (first, last) = match addr {
        Addr::Any => return true,
        Addr::Net(net) => (net.network(), net.broadcast()),
        Addr::Range(range) => (range.first(), range.last()),
    };
    let same_family = |a: &IpAddr, b: &IpAddr| a.is_ipv4() == b.is_ipv4();
    let overlaps = |lo: IpAddr, hi: IpAddr| same_family(&lo, &first) && lo <= last && first <= hi;
    if node
        .subnet_routes
        .iter()
        .any(|r| overlaps(r.network(), r.broadcast()))
    {
        return true;
    }
    // Inside the internet: inside one of its (maximal, disjoint) ranges.
    node.exit_node
        && INTERNET_RANGES
            .iter()
            .any(|r| same_family(&r.first(), &first) && r.first() <= first && last <= r.last())
}

/// `autogroup:internet` as its maximal ranges.
static INTERNET_RANGES: LazyLock<Vec<IpRange>> = LazyLock::new(|| internet().ranges().collect());

/// Resolves selectors once per compilation: the same tag, group or host appears in many
/// rules.
struct SelectorCache<'r, 'a> {
    resolver: &'r Resolver<'a>,
    sources: HashMap<String, Vec<Addr>>,
    destinations: HashMap<String, Vec<Addr>>,
}

impl<'r, 'a> SelectorCache<'r, 'a> {
    fn new(resolver: &'r Resolver<'a>) -> Self {
        Self {
            resolver,
            sources: HashMap::default(),
            destinations: HashMap::default(),
        }
    }

    /// [`Resolver::source_addrs`] of the selector written `text`.
    fn source_addrs(&mut self, text: &str) -> &[Addr] {
        let resolver = self.resolver;
        self.sources
            .entry(text.to_owned())
            .or_insert_with(|| resolver.source_addrs(&Selector::parse(text)))
    }

    /// [`Resolver::destination_addrs`] of the selector written `text`.
    fn destination_addrs(&mut self, text: &str) -> &[Addr] {
        let resolver = self.resolver;
        self.destinations
            .entry(text.to_owned())
            .or_insert_with(|| resolver.destination_addrs(&Selector::parse(text)))
    }
}

fn sources(cache: &mut SelectorCache<'_, '_>, src: &[crate::model::Str]) -> Arc<[Addr]> {
    let mut out: Vec<Addr> = Vec::new();
    let mut seen: HashSet<Addr> = HashSet::default();
    for text in src {
        for addr in cache.source_addrs(&text.value) {
            if seen.insert(addr.clone()) {
                out.push(addr.clone());
            }
        }
    }
    out.into()
}

fn destinations(
    cache: &mut SelectorCache<'_, '_>,
    text: &str,
    ports: &[PortRange],
) -> Vec<(Addr, PortRange)> {
    let mut out = Vec::new();
    for addr in cache.destination_addrs(text) {
        for p in ports {
            out.push((addr.clone(), *p));
        }
    }
    out
}

fn acl_pieces(
    cache: &mut SelectorCache<'_, '_>,
    origin: Origin,
    rule: &AclRule,
    out: &mut Vec<Piece>,
) {
    let src = sources(cache, &rule.src.items);
    let protocols = match &rule.proto {
        Some(p) => match parse_protocol(p.value.trimmed()) {
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
                dsts: destinations(cache, &selector_text, &ports),
            }));
        }
    }
    out.extend(self_pieces);
}

fn grant_pieces(
    cache: &mut SelectorCache<'_, '_>,
    origin: Origin,
    grant: &Grant,
    out: &mut Vec<Piece>,
) {
    let resolver = cache.resolver;
    // A grant with an empty `src` list is dropped [capture grant-h4]; one whose sources hold
    // no address still sends its capability, with empty `SrcIPs` (held-out grant capture).
    if grant.src.items.is_empty() {
        return;
    }
    let src = sources(cache, &grant.src.items);
    let mut via: Vec<String> = Vec::with_capacity(grant.via.len());
    for t in grant.via.iter() {
        via.push(t.value.trimmed().to_ascii_lowercase());
    }
    let mut selectors: Vec<Selector<'_>> = Vec::with_capacity(grant.dst.items.len());
    for d in grant.dst.iter() {
        selectors.push(Selector::parse(&d.value));
    }
    let has_self = selectors.contains(&Selector::Autogroup(Autogroup::SelfDevices));

    // One piece per distinct protocol, grouping that protocol's ports in entry order.
    let mut by_protocol: Vec<(Option<u8>, Vec<PortRange>)> = Vec::new();
    for entry in items(&grant.ip) {
        let Ok(ip) = parse_grant_ip(entry.value.trimmed()) else {
            continue;
        };
        let key = ip.proto.map(|p| p.number());
        match by_protocol.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ports)) => ports.extend(ip.ports),
            None => by_protocol.push((key, ip.ports)),
        }
    }
    // Network rules need a source address; capabilities are sent without one (below).
    if src.is_empty() {
        by_protocol.clear();
    }
    for (protocol, ports) in &by_protocol {
        let protocols = protocol.map(|p| vec![p]);
        let mut dsts: Vec<(Addr, PortRange)> = Vec::new();
        for (selector, text) in selectors.iter().zip(grant.dst.iter()) {
            if *selector != Selector::Autogroup(Autogroup::SelfDevices) {
                dsts.extend(destinations(cache, &text.value, ports));
            }
        }
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
        let mut entries = Vec::with_capacity(app.entries.len());
        for (k, v) in app.entries.iter() {
            entries.push((k.value.clone(), v.clone()));
        }
        let cap_map: CapValues = std::sync::Arc::new(entries);
        let mut cap_dsts: Vec<Addr> = Vec::new();
        for selector in &selectors {
            cap_dsts.extend(resolver.destination_addrs(selector));
        }
        let cap_piece = |dsts: Vec<Addr>, cap_map, to_self, src: &Arc<[Addr]>| Piece {
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
            if !cap_map.iter().any(|(name, _)| name == cap) {
                continue;
            }
            let null = crate::syntax::Value {
                kind: crate::syntax::ValueKind::Null,
                span: app.span,
            };
            let companion_map: CapValues = std::sync::Arc::new(vec![(companion.to_owned(), null)]);
            if has_self {
                out.push(cap_piece(Vec::new(), companion_map.clone(), true, &src));
            }
            let reversed_src = sources_from_selectors(resolver, &selectors);
            if reversed_src.is_empty() {
                continue;
            }
            let mut reversed_dst: Vec<Addr> = Vec::new();
            for s in grant.src.iter() {
                reversed_dst.extend(resolver.destination_addrs(&Selector::parse(&s.value)));
            }
            out.push(cap_piece(
                reversed_dst,
                companion_map,
                false,
                &reversed_src.into(),
            ));
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
