//! Network rows: the packets one policy's filters admit and the other's do not, node by node.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;

use super::capability::{self, CapEntry, CapFact};
use super::{Example, NetworkRow, Row};
use crate::addr::{IpRange, IpSet, format_net, internet};
use crate::compile::{Compiled, Delivered, Origin, Section};
use crate::fasthash::FastMap as HashMap;
use crate::model::Policy;
use crate::ports::PortRange;
use crate::proto::DEFAULT_PROTOCOLS;
use crate::resolve::{Addr, NodeInfo, union_of};

/// A point of the address line: family (0 IPv4, 1 IPv6, 2 past the end) and value.
type Pt = (u8, u128);

fn pt(ip: IpAddr) -> Pt {
    match ip {
        IpAddr::V4(a) => (0, u128::from(u32::from(a))),
        IpAddr::V6(a) => (1, u128::from(a)),
    }
}

fn ip_of(p: Pt) -> IpAddr {
    if p.0 == 0 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(p.1).unwrap_or(u32::MAX)))
    } else {
        IpAddr::V6(Ipv6Addr::from(p.1))
    }
}

fn family_max(family: u8) -> u128 {
    if family == 0 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    }
}

fn succ(p: Pt) -> Pt {
    if p.1 >= family_max(p.0) {
        (p.0.saturating_add(1), 0)
    } else {
        (p.0, p.1 + 1)
    }
}

fn pred(p: Pt) -> Pt {
    match p {
        (0, 0) => (0, 0),
        (f, 0) => (f - 1, family_max(f - 1)),
        (f, v) => (f, v - 1),
    }
}

fn range_set(first: Pt, last: Pt) -> IpSet {
    IpRange::new(ip_of(first), ip_of(last))
        .map(IpSet::from_range)
        .unwrap_or_default()
}

fn pts(set: &IpSet) -> Vec<(Pt, Pt)> {
    set.ranges()
        .map(|r| (pt(r.first()), pt(r.last())))
        .collect()
}

/// One destination entry of a rule as a node receives it, its addresses cut to those the
/// node receives.
struct Entry {
    src: Rc<IpSet>,
    /// Equal for equal source sets, on both sides.
    src_id: u32,
    protocols: Option<Vec<u8>>,
    dst: Vec<(Pt, Pt)>,
    port: PortRange,
    origin: Origin,
}

impl Entry {
    /// The ports this entry admits for protocol `proto` (`query::admits`): every port for
    /// ICMP whatever the rule's protocols; for other protocols without ports, only a rule
    /// on every port.
    fn ports_for(&self, proto: u8) -> Option<PortRange> {
        if proto == 1 || proto == 58 {
            return Some(PortRange::ALL);
        }
        let protocols = self.protocols.as_deref().unwrap_or(&DEFAULT_PROTOCOLS);
        if !protocols.contains(&proto) {
            return None;
        }
        if matches!(proto, 6 | 17 | 132) {
            Some(self.port)
        } else if self.port.is_all() {
            Some(PortRange::ALL)
        } else {
            None
        }
    }

    fn covers(&self, p: Pt) -> bool {
        self.dst.iter().any(|&(a, b)| a <= p && p <= b)
    }
}

/// Numbers source sets by content, so that cells compare lists of numbers.
#[derive(Default)]
struct Interner {
    ids: HashMap<Rc<IpSet>, u32>,
}

impl Interner {
    fn intern(&mut self, set: IpSet) -> (u32, Rc<IpSet>) {
        if let Some((key, &id)) = self.ids.get_key_value(&set) {
            return (id, Rc::clone(key));
        }
        let id = self.ids.len() as u32;
        let set = Rc::new(set);
        self.ids.insert(Rc::clone(&set), id);
        (id, set)
    }
}

/// One policy's side of the comparison.
struct Side<'c, 'p> {
    compiled: &'c Compiled<'p>,
    /// Per piece: its sources as a set, built on first use.
    piece_src: Vec<Option<(u32, Rc<IpSet>)>>,
    /// Every approved subnet route (they take destinations from exit nodes).
    routes: IpSet,
    /// Per piece: its capabilities as JSON, built on first use.
    piece_caps: Vec<Option<Rc<CapList>>>,
    /// Only these sources are compared (all when `None`).
    only: Option<&'c IpSet>,
}

type CapList = Vec<(Rc<str>, Rc<Vec<serde_json::Value>>)>;

impl<'c, 'p> Side<'c, 'p> {
    fn new(compiled: &'c Compiled<'p>, only: Option<&'c IpSet>) -> Self {
        let mut routes: Vec<ipnet::IpNet> = Vec::new();
        for node in &compiled.resolver.nodes {
            routes.extend(node.subnet_routes.iter().copied());
        }
        Side {
            compiled,
            piece_src: vec![None; compiled.pieces.len()],
            routes: routes.into_iter().collect(),
            piece_caps: vec![None; compiled.pieces.len()],
            only,
        }
    }

    /// `set` cut to the sources compared.
    fn restrict(&self, set: IpSet) -> IpSet {
        match self.only {
            Some(only) => set.intersection(only),
            None => set,
        }
    }

    /// The destinations node `node` receives (`query::receivers`): its own addresses, its
    /// approved routes except node addresses, and on an exit node the internet outside every
    /// route.
    fn delivered_to(&self, node: &NodeInfo, node_addrs: &IpSet) -> IpSet {
        let mut set: IpSet = node.addrs.iter().copied().collect();
        if !node.subnet_routes.is_empty() {
            let routes: IpSet = node.subnet_routes.iter().copied().collect();
            set.insert_set(&routes.difference(node_addrs));
        }
        if node.exit_node {
            set.insert_set(&internet().difference(&self.routes).difference(node_addrs));
        }
        set
    }

    fn src_of(&mut self, piece: usize, interner: &mut Interner) -> (u32, Rc<IpSet>) {
        if let Some(Some((id, set))) = self.piece_src.get(piece) {
            return (*id, Rc::clone(set));
        }
        let set = self
            .compiled
            .pieces
            .get(piece)
            .map(|p| p.src_set())
            .unwrap_or_default();
        let (id, set) = interner.intern(self.restrict(set));
        if let Some(slot) = self.piece_src.get_mut(piece) {
            *slot = Some((id, Rc::clone(&set)));
        }
        (id, set)
    }

    fn caps_of(&mut self, piece: usize, cap_map: &crate::compile::CapValues) -> Rc<CapList> {
        if let Some(Some(list)) = self.piece_caps.get(piece) {
            return Rc::clone(list);
        }
        let list = Rc::new(capability::cap_values(cap_map));
        if let Some(slot) = self.piece_caps.get_mut(piece) {
            *slot = Some(Rc::clone(&list));
        }
        list
    }

    /// The network entries node `index` receives, and its capabilities (into `caps`).
    fn entries(
        &mut self,
        index: usize,
        delivered: &IpSet,
        interner: &mut Interner,
        caps: &mut Vec<CapEntry>,
    ) -> Vec<Entry> {
        let mut out = Vec::new();
        let compiled = self.compiled;
        for (p, share) in compiled.delivered(index) {
            match share {
                Delivered::Network(dsts) => {
                    let Some(piece) = compiled.pieces.get(p) else {
                        continue;
                    };
                    let (src_id, src) = self.src_of(p, interner);
                    if self.only.is_some() && src.is_empty() {
                        continue;
                    }
                    for (addr, port) in dsts {
                        let dst = clip(addr, delivered);
                        if !dst.is_empty() {
                            out.push(Entry {
                                src: Rc::clone(&src),
                                src_id,
                                protocols: piece.protocols.clone(),
                                dst,
                                port: *port,
                                origin: piece.origin,
                            });
                        }
                    }
                }
                Delivered::Rule(rule) => {
                    let (src_id, src) = interner.intern(self.restrict(union_of(&rule.src)));
                    if self.only.is_some() && src.is_empty() {
                        continue;
                    }
                    if let Some((_, cap_map)) = &rule.cap {
                        for (name, values) in self.caps_of(p, cap_map).iter() {
                            for origin in &rule.origins {
                                caps.push(CapEntry {
                                    src: Rc::clone(&src),
                                    src_id,
                                    name: Rc::clone(name),
                                    values: Rc::clone(values),
                                    origin: *origin,
                                });
                            }
                        }
                        continue;
                    }
                    for (addr, port) in &rule.dsts {
                        let dst = clip(addr, delivered);
                        if dst.is_empty() {
                            continue;
                        }
                        for origin in &rule.origins {
                            out.push(Entry {
                                src: Rc::clone(&src),
                                src_id,
                                protocols: rule.protocols.clone(),
                                dst: dst.clone(),
                                port: *port,
                                origin: *origin,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

fn clip(addr: &Addr, delivered: &IpSet) -> Vec<(Pt, Pt)> {
    match addr {
        Addr::Net(net) if net.prefix_len() == net.max_prefix_len() => {
            if delivered.contains(net.addr()) {
                let p = pt(net.addr());
                vec![(p, p)]
            } else {
                Vec::new()
            }
        }
        _ => pts(&addr.to_set().intersection(delivered)),
    }
}

/// Both sides' entries describe the same packets (same destinations, ports, protocols and
/// sources, whatever rules they came from): the node's filter did not change.
fn same_entries(old: &[Entry], new: &[Entry]) -> bool {
    type Key = (Vec<(Pt, Pt)>, PortRange, Option<Vec<u8>>, u64);
    fn key(e: &Entry) -> Key {
        let mut hasher = crate::fasthash::Fnv::default();
        e.src.hash(&mut hasher);
        (e.dst.clone(), e.port, e.protocols.clone(), hasher.finish())
    }
    if old.len() != new.len() {
        return false;
    }
    let mut a: Vec<_> = old.iter().map(|e| (key(e), &*e.src)).collect();
    let mut b: Vec<_> = new.iter().map(|e| (key(e), &*e.src)).collect();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    a == b
}

/// A changed flow set: sources × destinations × protocols × ports (× receiving nodes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Fact {
    added: bool,
    protos: Vec<u8>,
    via: Vec<String>,
    src_label: String,
    dst_label: String,
    src: IpSet,
    dst: IpSet,
    ports: Vec<PortRange>,
    cause: Vec<Origin>,
}

/// The dimension a merge joins along.
#[derive(Clone, Copy)]
enum Dim {
    Ports,
    Via,
    Protos,
    Dst,
    Src,
}

/// Joins facts that agree on every dimension but `dim`: the union along one dimension of
/// products that agree on the others is still a product, so rows stay exact.
fn merge(facts: Vec<Fact>, dim: Dim) -> Vec<Fact> {
    let mut out: Vec<Fact> = Vec::with_capacity(facts.len());
    let mut at: HashMap<Fact, usize> = HashMap::default();
    for fact in facts {
        let mut key = fact.clone();
        match dim {
            Dim::Ports => key.ports.clear(),
            Dim::Via => key.via.clear(),
            Dim::Protos => key.protos.clear(),
            Dim::Dst => key.dst = IpSet::new(),
            Dim::Src => key.src = IpSet::new(),
        }
        match at.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) => match dim {
                Dim::Ports => {
                    existing.ports.extend(fact.ports);
                    existing.ports = join_ports(std::mem::take(&mut existing.ports));
                }
                Dim::Via => {
                    existing.via.extend(fact.via);
                    existing.via.sort();
                    existing.via.dedup();
                }
                Dim::Protos => {
                    existing.protos.extend(fact.protos);
                    existing.protos.sort_unstable();
                    existing.protos.dedup();
                }
                Dim::Dst => existing.dst.insert_set(&fact.dst),
                Dim::Src => existing.src.insert_set(&fact.src),
            },
            None => {
                at.insert(key, out.len());
                out.push(fact);
            }
        }
    }
    out
}

/// Sorted, with overlapping and adjacent ranges joined.
fn join_ports(mut ports: Vec<PortRange>) -> Vec<PortRange> {
    ports.sort_unstable();
    let mut out: Vec<PortRange> = Vec::with_capacity(ports.len());
    for range in ports {
        match out.last_mut() {
            Some(prev) if u32::from(range.first) <= u32::from(prev.last) + 1 => {
                prev.last = prev.last.max(range.last);
            }
            _ => out.push(range),
        }
    }
    out
}

/// How rows name addresses.
pub(super) struct Labels<'a> {
    pub(super) nodes: &'a [NodeInfo],
    /// Every node address with its node, sorted.
    node_addrs: Vec<(IpAddr, usize)>,
    node_set: IpSet,
    /// `hosts` aliases of both policies (new first), as sets.
    hosts: Vec<(String, IpSet)>,
}

impl<'a> Labels<'a> {
    fn new(nodes: &'a [NodeInfo], old: &Compiled<'_>, new: &Compiled<'_>) -> Self {
        let mut node_addrs: Vec<(IpAddr, usize)> = nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.addrs.iter().map(move |a| (*a, i)))
            .collect();
        node_addrs.sort_unstable();
        let node_set = node_addrs.iter().map(|(a, _)| *a).collect();
        let mut hosts: Vec<(String, IpSet)> = Vec::new();
        for compiled in [new, old] {
            for entry in &compiled.resolver.policy.hosts {
                let name = entry.name.value.trim().to_owned();
                if hosts.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                if let Some(net) = compiled.resolver.host(&name) {
                    hosts.push((name, IpSet::from_net(&net)));
                }
            }
        }
        Labels {
            nodes,
            node_addrs,
            node_set,
            hosts,
        }
    }

    /// A node's identity: its tags, or its owner's login; for a node with neither, a host
    /// alias for its address, else its name.
    pub(super) fn identity(&self, node: &NodeInfo) -> String {
        if node.is_tagged() {
            return node.tags.join(",");
        }
        if let Some(login) = &node.login {
            return login.clone();
        }
        let own: IpSet = node.addrs.iter().copied().collect();
        self.hosts
            .iter()
            .find(|(_, alias)| !own.is_empty() && own.is_subset(alias))
            .map_or_else(|| node.name.clone(), |(name, _)| name.clone())
    }

    /// `set` (addresses that are not node addresses) by host alias, else `other`.
    fn by_alias(&self, set: &IpSet, other: &str, out: &mut Vec<(String, IpSet)>) {
        let mut rest = set.clone();
        for (name, alias) in &self.hosts {
            if rest.is_empty() {
                break;
            }
            let part = rest.intersection(alias);
            if !part.is_empty() {
                rest = rest.difference(alias);
                out.push((name.clone(), part));
            }
        }
        if !rest.is_empty() {
            out.push((other.to_owned(), rest));
        }
    }

    /// `set` split by the identity of the addresses' nodes, then by host alias.
    fn split_sources(&self, set: &IpSet) -> Vec<(String, IpSet)> {
        let mut by_identity: HashMap<String, Vec<IpAddr>> = HashMap::default();
        let mut order: Vec<String> = Vec::new();
        for range in set.ranges() {
            let start = self.node_addrs.partition_point(|(a, _)| *a < range.first());
            let end = self.node_addrs.partition_point(|(a, _)| *a <= range.last());
            for (addr, i) in self.node_addrs.get(start..end).unwrap_or_default() {
                let Some(node) = self.nodes.get(*i) else {
                    continue;
                };
                let label = self.identity(node);
                by_identity
                    .entry(label.clone())
                    .or_insert_with(|| {
                        order.push(label);
                        Vec::new()
                    })
                    .push(*addr);
            }
        }
        let mut out: Vec<(String, IpSet)> = order
            .into_iter()
            .filter_map(|label| {
                let addrs = by_identity.remove(&label)?;
                Some((label, addrs.into_iter().collect()))
            })
            .collect();
        self.by_alias(&set.difference(&self.node_set), "other addresses", &mut out);
        out
    }

    /// The destination label of `dst` (inside one elementary interval) on node `node`: its
    /// identity for its own addresses, else a host alias, an approved route, or the internet.
    fn destination(&self, node: &NodeInfo, dst: &IpSet) -> (String, Vec<String>) {
        if dst
            .ranges()
            .all(|r| r.is_single() && node.has_addr(r.first()))
        {
            return (self.identity(node), Vec::new());
        }
        let via = vec![node.name.clone()];
        if let Some((name, _)) = self.hosts.iter().find(|(_, alias)| dst.is_subset(alias)) {
            return (name.clone(), via);
        }
        for route in &node.subnet_routes {
            if dst.is_subset(&IpSet::from_net(route)) {
                return (format_net(route), via);
            }
        }
        ("autogroup:internet".to_owned(), via)
    }
}

/// The source selectors of the rules responsible for a row, as address sets, so that rows
/// name sources the way the policy does (`group:eng`, `tag:ci`, a host alias).
pub(super) struct SelectorSets<'c, 'p> {
    compiled: &'c Compiled<'p>,
    sets: HashMap<String, IpSet>,
}

impl<'c, 'p> SelectorSets<'c, 'p> {
    fn new(compiled: &'c Compiled<'p>) -> Self {
        SelectorSets {
            compiled,
            sets: HashMap::default(),
        }
    }

    /// The source selectors of rule `origin` as written (`*` for the allow-all policy).
    pub(super) fn texts(&self, origin: &Origin) -> Vec<String> {
        match origin.rule_in(self.compiled.resolver.policy) {
            Some(rule) => written(rule.src()),
            None => vec!["*".to_owned()],
        }
    }

    /// The destination selectors of grant `origin` as written (none for an ACL).
    pub(super) fn dst_texts(&self, origin: &Origin) -> Vec<String> {
        match origin.rule_in(self.compiled.resolver.policy) {
            Some(rule @ crate::compile::RuleAt::Grant(_)) => written(rule.dst()),
            _ => Vec::new(),
        }
    }

    /// `src` split by the first source selector of the `causes` rules holding each part;
    /// what none holds (not expected) by node identity.
    pub(super) fn split(
        &mut self,
        src: &IpSet,
        causes: &[Origin],
        labels: &Labels<'_>,
    ) -> Vec<(String, IpSet)> {
        // Lazily: the first rule's selectors usually hold every source.
        let mut out: Vec<(String, IpSet)> = Vec::new();
        let mut rest = src.clone();
        for origin in causes {
            for text in self.texts(origin) {
                if rest.is_empty() {
                    return out;
                }
                self.take(&mut rest, text, &mut out);
            }
        }
        if !rest.is_empty() {
            out.extend(labels.split_sources(&rest));
        }
        out
    }

    /// Moves the part of `rest` that selector `text` holds into `out`, under that label.
    fn take(&mut self, rest: &mut IpSet, text: String, out: &mut Vec<(String, IpSet)>) {
        let resolver = &self.compiled.resolver;
        let set = self.sets.entry(text.clone()).or_insert_with(|| {
            union_of(&resolver.source_addrs(&crate::selector::Selector::parse(&text)))
        });
        let part = rest.intersection(set);
        if part.is_empty() {
            return;
        }
        *rest = rest.difference(set);
        match out.iter_mut().find(|(label, _)| *label == text) {
            Some((_, existing)) => existing.insert_set(&part),
            None => out.push((text, part)),
        }
    }

    /// `src` split by the first of `texts` (selectors, as sources) holding each part; what
    /// none holds by node identity.
    pub(super) fn split_by(
        &mut self,
        src: &IpSet,
        texts: Vec<String>,
        labels: &Labels<'_>,
    ) -> Vec<(String, IpSet)> {
        let mut out: Vec<(String, IpSet)> = Vec::new();
        let mut rest = src.clone();
        for text in texts {
            if rest.is_empty() {
                return out;
            }
            self.take(&mut rest, text, &mut out);
        }
        if !rest.is_empty() {
            out.extend(labels.split_sources(&rest));
        }
        out
    }
}

/// The (added, removed) network rows between two policies on one tailnet.
pub fn network_changes(
    old_compiled: &Compiled<'_>,
    new_compiled: &Compiled<'_>,
) -> (Vec<Row>, Vec<Row>) {
    let (added, removed) = access_changes(old_compiled, new_compiled);
    let network = |rows: Vec<Row>| -> Vec<Row> {
        rows.into_iter()
            .filter(|r| matches!(r, Row::Network(_)))
            .collect()
    };
    (network(added), network(removed))
}

/// The (added, removed) network and capability rows between two policies on one tailnet
/// (one pass over the nodes for both).
pub fn access_changes(
    old_compiled: &Compiled<'_>,
    new_compiled: &Compiled<'_>,
) -> (Vec<Row>, Vec<Row>) {
    access_changes_of(old_compiled, new_compiled, None)
}

/// [`access_changes`] for the sources in `only` (all when `None`).
pub(super) fn access_changes_of(
    old_compiled: &Compiled<'_>,
    new_compiled: &Compiled<'_>,
    only: Option<&IpSet>,
) -> (Vec<Row>, Vec<Row>) {
    let nodes = &new_compiled.resolver.nodes;
    let labels = Labels::new(nodes, old_compiled, new_compiled);
    let mut selectors = [
        SelectorSets::new(old_compiled),
        SelectorSets::new(new_compiled),
    ];
    let (facts, cap_facts) = cell_facts(old_compiled, new_compiled, &labels, &mut selectors, only);
    let rows = rows(facts, old_compiled, new_compiled);
    let (added, removed): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.0);
    let (cap_added, cap_removed) = capability::rows(
        cap_facts,
        &labels,
        &mut selectors,
        old_compiled,
        new_compiled,
    );
    let mut added: Vec<Row> = added
        .into_iter()
        .map(|r| Row::Network(Box::new(r.1)))
        .collect();
    let mut removed: Vec<Row> = removed
        .into_iter()
        .map(|r| Row::Network(Box::new(r.1)))
        .collect();
    added.extend(cap_added);
    removed.extend(cap_removed);
    (added, removed)
}

/// Every changed cell of every node, split by the rules responsible, ports joined; and every
/// node's changed capabilities.
fn cell_facts(
    old: &Compiled<'_>,
    new: &Compiled<'_>,
    labels: &Labels<'_>,
    selectors: &mut [SelectorSets<'_, '_>; 2],
    only: Option<&IpSet>,
) -> (Vec<Fact>, Vec<CapFact>) {
    let nodes = &new.resolver.nodes;
    let mut interner = Interner::default();
    let mut unions: HashMap<Vec<u32>, Rc<IpSet>> = HashMap::default();
    let mut old_side = Side::new(old, only);
    let mut new_side = Side::new(new, only);
    let mut facts = Vec::new();
    let mut cap_facts = Vec::new();
    let (mut old_caps, mut new_caps) = (Vec::new(), Vec::new());
    for (index, node) in nodes.iter().enumerate() {
        let Some(old_node) = old.resolver.nodes.get(index) else {
            continue;
        };
        let old_to = old_side.delivered_to(old_node, &labels.node_set);
        let new_to = new_side.delivered_to(node, &labels.node_set);
        old_caps.clear();
        new_caps.clear();
        let old_entries = old_side.entries(index, &old_to, &mut interner, &mut old_caps);
        let new_entries = new_side.entries(index, &new_to, &mut interner, &mut new_caps);
        if !capability::same(&old_caps, &new_caps) {
            capability::node_facts(index, &old_caps, &new_caps, &mut cap_facts);
        }
        if same_entries(&old_entries, &new_entries) {
            continue;
        }
        let mut node_facts = Vec::new();
        node_cells(
            &old_entries,
            &new_entries,
            &mut unions,
            &mut |added, proto, dst, port, parts| {
                let dst = range_set(dst.0, dst.1);
                let (dst_label, via) = labels.destination(node, &dst);
                for (src, cause) in parts {
                    node_facts.push(Fact {
                        added,
                        protos: vec![proto],
                        via: via.clone(),
                        src_label: String::new(),
                        dst_label: dst_label.clone(),
                        src,
                        dst: dst.clone(),
                        ports: vec![port],
                        cause,
                    });
                }
            },
        );
        facts.extend(merge(node_facts, Dim::Ports));
    }
    // Join along destinations and protocols first (few distinct source sets), then name the
    // sources and join again.
    let facts = merge(facts, Dim::Via);
    let facts = merge(facts, Dim::Protos);
    let facts = merge(facts, Dim::Dst);
    let mut labelled = Vec::with_capacity(facts.len());
    for fact in facts {
        let side = usize::from(fact.added);
        let parts = match selectors.get_mut(side) {
            Some(sets) => sets.split(&fact.src, &fact.cause, labels),
            None => Vec::new(),
        };
        for (label, src) in parts {
            labelled.push(Fact {
                src_label: label,
                src,
                ..fact.clone()
            });
        }
    }
    let facts = merge(labelled, Dim::Dst);
    (merge(facts, Dim::Src), cap_facts)
}

type CellSink<'s> = dyn FnMut(bool, u8, (Pt, Pt), PortRange, Vec<(IpSet, Vec<Origin>)>) + 's;

/// Calls `sink` for every cell (protocol × elementary destination interval × elementary
/// port interval) where one side admits sources the other does not.
fn node_cells(
    old: &[Entry],
    new: &[Entry],
    unions: &mut HashMap<Vec<u32>, Rc<IpSet>>,
    sink: &mut CellSink<'_>,
) {
    let mut protos: BTreeSet<u8> = BTreeSet::new();
    for e in old.iter().chain(new) {
        protos.extend(e.protocols.as_deref().unwrap_or(&DEFAULT_PROTOCOLS));
    }
    if !(old.is_empty() && new.is_empty()) {
        protos.extend([1u8, 58]);
    }
    for proto in protos {
        let olds: Vec<(&Entry, PortRange)> = old
            .iter()
            .filter_map(|e| Some((e, e.ports_for(proto)?)))
            .collect();
        let news: Vec<(&Entry, PortRange)> = new
            .iter()
            .filter_map(|e| Some((e, e.ports_for(proto)?)))
            .collect();
        if olds.is_empty() && news.is_empty() {
            continue;
        }
        let mut bounds: Vec<Pt> = vec![(1, 0)];
        for (e, _) in olds.iter().chain(&news) {
            for &(a, b) in &e.dst {
                bounds.push(a);
                bounds.push(succ(b));
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        for pair in bounds.windows(2) {
            let (Some(&x), Some(&y)) = (pair.first(), pair.get(1)) else {
                continue;
            };
            let last = pred(y);
            if x.0 > 1 || last.0 != x.0 {
                continue;
            }
            let o: Vec<&(&Entry, PortRange)> = olds.iter().filter(|(e, _)| e.covers(x)).collect();
            let n: Vec<&(&Entry, PortRange)> = news.iter().filter(|(e, _)| e.covers(x)).collect();
            if o.is_empty() && n.is_empty() {
                continue;
            }
            port_cells(proto, (x, last), &o, &n, unions, sink);
        }
    }
}

fn port_cells(
    proto: u8,
    dst: (Pt, Pt),
    old: &[&(&Entry, PortRange)],
    new: &[&(&Entry, PortRange)],
    unions: &mut HashMap<Vec<u32>, Rc<IpSet>>,
    sink: &mut CellSink<'_>,
) {
    let mut bounds: Vec<u32> = vec![0, 65536];
    for (_, port) in old.iter().chain(new).copied() {
        bounds.push(u32::from(port.first));
        bounds.push(u32::from(port.last) + 1);
    }
    bounds.sort_unstable();
    bounds.dedup();
    for pair in bounds.windows(2) {
        let (Some(&x), Some(&y)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let (Ok(first), Ok(last)) = (u16::try_from(x), u16::try_from(y - 1)) else {
            continue;
        };
        let o: Vec<&Entry> = old
            .iter()
            .filter(|(_, p)| p.contains(first))
            .map(|(e, _)| *e)
            .collect();
        let n: Vec<&Entry> = new
            .iter()
            .filter(|(_, p)| p.contains(first))
            .map(|(e, _)| *e)
            .collect();
        let ids = |entries: &[&Entry]| {
            let mut ids: Vec<u32> = entries.iter().map(|e| e.src_id).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let (old_ids, new_ids) = (ids(&o), ids(&n));
        if old_ids == new_ids {
            continue;
        }
        let old_src = union_src(old_ids, &o, unions);
        let new_src = union_src(new_ids, &n, unions);
        let range = PortRange { first, last };
        let added = new_src.difference(&old_src);
        if !added.is_empty() {
            sink(true, proto, dst, range, by_cause(&added, &n));
        }
        let removed = old_src.difference(&new_src);
        if !removed.is_empty() {
            sink(false, proto, dst, range, by_cause(&removed, &o));
        }
    }
}

/// The union of the entries' sources (numbered `ids`), kept for the next cell with the same.
fn union_src(
    ids: Vec<u32>,
    entries: &[&Entry],
    unions: &mut HashMap<Vec<u32>, Rc<IpSet>>,
) -> Rc<IpSet> {
    if let Some(set) = unions.get(&ids) {
        return Rc::clone(set);
    }
    let mut set = IpSet::new();
    let mut seen: Vec<u32> = Vec::new();
    for e in entries {
        if !seen.contains(&e.src_id) {
            seen.push(e.src_id);
            set.insert_set(&e.src);
        }
    }
    let set = Rc::new(set);
    unions.insert(ids, Rc::clone(&set));
    set
}

pub(super) fn origin_key(o: &Origin) -> (u8, usize) {
    (u8::from(o.section == Section::Acls), o.index)
}

/// `set` split by which of `entries`' rules admit each part.
fn by_cause(set: &IpSet, entries: &[&Entry]) -> Vec<(IpSet, Vec<Origin>)> {
    let mut rules: Vec<(Origin, IpSet)> = Vec::new();
    for e in entries {
        if !e.src.overlaps(set) {
            continue;
        }
        match rules.iter_mut().find(|(o, _)| *o == e.origin) {
            Some((_, src)) => src.insert_set(&e.src),
            None => rules.push((e.origin, (*e.src).clone())),
        }
    }
    rules.sort_by_key(|(o, _)| origin_key(o));
    if let [(origin, _)] = rules.as_slice() {
        return vec![(set.clone(), vec![*origin])];
    }
    let mut parts: Vec<(IpSet, Vec<Origin>)> = vec![(set.clone(), Vec::new())];
    for (origin, src) in &rules {
        let mut next = Vec::with_capacity(parts.len() + 1);
        for (part, causes) in parts {
            let inside = part.intersection(src);
            let outside = part.difference(src);
            if !inside.is_empty() {
                let mut with = causes.clone();
                with.push(*origin);
                next.push((inside, with));
            }
            if !outside.is_empty() {
                next.push((outside, causes));
            }
        }
        parts = next;
    }
    parts
}

/// The rule at the same place in `other`, when it is recognisably the same rule (same
/// sources or same destinations as written).
pub(super) fn counterpart(origin: &Origin, this: &Policy, other: &Policy) -> Option<Origin> {
    fn texts(list: &crate::model::List<crate::model::Str>) -> Vec<&str> {
        list.items.iter().map(|s| s.value.trim()).collect()
    }
    let a = origin.rule_in(this)?;
    let b = origin.rule_in(other)?;
    (texts(a.src()) == texts(b.src()) || texts(a.dst()) == texts(b.dst())).then_some(Origin {
        span: b.span(),
        ..*origin
    })
}

fn rows(facts: Vec<Fact>, old: &Compiled<'_>, new: &Compiled<'_>) -> Vec<(bool, NetworkRow)> {
    let (old_policy, new_policy) = (old.resolver.policy, new.resolver.policy);
    let mut rows: Vec<(bool, NetworkRow)> = facts
        .into_iter()
        .filter_map(|fact| {
            let example = Example {
                src_ip: fact.src.ranges().next()?.first(),
                dst_ip: fact.dst.ranges().next()?.first(),
                proto: *fact.protos.first()?,
                port: fact.ports.first()?.first,
            };
            let (this, other) = if fact.added {
                (new_policy, old_policy)
            } else {
                (old_policy, new_policy)
            };
            let mut others: Vec<Origin> = fact
                .cause
                .iter()
                .filter_map(|o| counterpart(o, this, other))
                .collect();
            others.sort_by_key(origin_key);
            others.dedup();
            let (old_rules, new_rules) = if fact.added {
                (others, fact.cause)
            } else {
                (fact.cause, others)
            };
            Some((
                fact.added,
                NetworkRow {
                    src: vec![fact.src_label],
                    dst: vec![fact.dst_label],
                    src_ips: fact.src,
                    dst_ips: fact.dst,
                    protos: fact.protos,
                    ports: fact.ports,
                    via: fact.via,
                    old_rules,
                    new_rules,
                    example,
                },
            ))
        })
        .collect();
    rows.sort_by(|(_, a), (_, b)| {
        (
            &a.src,
            &a.dst,
            &a.protos,
            &a.ports,
            &a.via,
            a.example.src_ip,
            a.example.dst_ip,
        )
            .cmp(&(
                &b.src,
                &b.dst,
                &b.protos,
                &b.ports,
                &b.via,
                b.example.src_ip,
                b.example.dst_ip,
            ))
    });
    rows
}

/// A selector list's entries as written, trimmed.
fn written(list: &crate::model::List<crate::model::Str>) -> Vec<String> {
    list.items
        .iter()
        .map(|s| s.value.trim().to_owned())
        .collect()
}
