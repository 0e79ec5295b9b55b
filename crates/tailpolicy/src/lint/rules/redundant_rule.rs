use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Sub;
use std::rc::Rc;

use crate::addr::IpSet;
use crate::compile::{Origin, Section};
use crate::fasthash::{FastMap, FastSet};
use crate::inventory::{Inventory, Node};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{AclRule, Grant, Policy, Str};
use crate::ports::{PortRange, parse_port_spec, split_destination_and_port};
use crate::proto::{DEFAULT_PROTOCOLS, parse_grant_ip, parse_protocol};
use crate::resolve::{NodeInfo, Resolver};
use crate::selector::{Autogroup, Selector};
use crate::text::{Trimmed, ascii_lowercase, items};

declare_rule! {
    /// ### What it does
    /// Flags an ACL or grant that adds no access: every source, destination, port and
    /// protocol it allows is already allowed by the other rules together. The finding
    /// names the rules that cover it.
    ///
    /// The comparison is on address, port and protocol sets. Identities are compared
    /// through one stand-in device per tag and per named user (plus one unnamed member), so
    /// `tag:ci` is covered by `autogroup:tagged` and a user by a group that holds them.
    /// Tailscale's own service identities (`logstream@tailscale` and the rest of the
    /// `@tailscale` domain) are not tailnet members: only a rule that names them (`*`, the
    /// user, a group holding them) covers them, never `autogroup:member`.
    /// Rules with `autogroup:self`, `via` or `app` are neither flagged nor counted as cover.
    /// The work is bounded: each rule may take time in proportion to its own size (plus a
    /// constant), so the whole check is linear in the size of the policy; a rule whose
    /// comparison needs more (thousands of overlapping rules) is not flagged.
    ///
    /// ### Why is this bad
    /// Access policies are read by people deciding who can reach production. A rule that
    /// changes nothing suggests access that is not really there to remove: deleting it
    /// "to lock down the database" does nothing while the broader rule stays. Redundant
    /// rules also hide the real source of access from reviewers.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [
    ///   {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    ///   {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    /// ],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "acls": [
    ///   {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    /// ],
    /// ```
    code: "TP022",
    name: "redundant-rule",
    category: Suspicious,
    severity: Warning,
    summary: "an ACL or grant that adds no access beyond the union of the other rules, naming the rules that cover it",
}

/// Past this many pieces of uncovered remainder, the rule is assumed to add access.
const RESIDUAL_LIMIT: usize = 4096;

/// The work one rule may take: this many units per unit of its own size (the ranges of its
/// blocks) plus a floor. A rule that needs more is not flagged; the whole check stays
/// linear in the size of the policy.
const BUDGET_PER_UNIT: usize = 32;
const BUDGET_PER_RULE: usize = 512;

/// Port ranges: sorted, disjoint and non-adjacent.
type Ports = Vec<(u16, u16)>;

fn port(x: u32) -> u16 {
    u16::try_from(x).unwrap_or(u16::MAX)
}

fn normalize_ports(mut ranges: Vec<(u16, u16)>) -> Ports {
    ranges.sort_unstable();
    let mut out: Ports = Vec::with_capacity(ranges.len());
    for (first, last) in ranges {
        match out.last_mut() {
            Some(prev) if u32::from(first) <= u32::from(prev.1) + 1 => prev.1 = prev.1.max(last),
            _ => out.push((first, last)),
        }
    }
    out
}

/// The first range of `ports` that ends at or after `first` (binary search: comparing a
/// few ports with a list of thousands costs a few steps, not thousands).
fn from(ports: &[(u16, u16)], first: u16) -> &[(u16, u16)] {
    let start = ports.partition_point(|r| r.1 < first);
    ports.get(start..).unwrap_or_default()
}

fn ports_overlap(a: &[(u16, u16)], b: &[(u16, u16)]) -> bool {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .any(|&(first, last)| from(large, first).first().is_some_and(|r| r.0 <= last))
}

fn ports_intersection(a: &[(u16, u16)], b: &[(u16, u16)]) -> Ports {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::new();
    for &(first, last) in small {
        for &(f, l) in from(large, first) {
            if f > last {
                break;
            }
            out.push((f.max(first), l.min(last)));
        }
    }
    out
}

fn ports_difference(a: &[(u16, u16)], b: &[(u16, u16)]) -> Ports {
    let mut out = Vec::new();
    for &(a0, a1) in a {
        let (mut start, end) = (u32::from(a0), u32::from(a1));
        for &(b0, b1) in from(b, a0) {
            let (b0, b1) = (u32::from(b0), u32::from(b1));
            if b0 > end {
                break;
            }
            if b0 > start {
                out.push((port(start), port(b0 - 1)));
            }
            start = b1 + 1;
        }
        if start <= end {
            out.push((port(start), port(end)));
        }
    }
    out
}

/// Does `outer` hold all of `inner`? Cheap tests first: the ports' hulls, then the sets.
fn contains(outer: &Access, inner: &Access, budget: &mut Budget) -> bool {
    let hull = |a: &Access| Some((a.ports.first()?.0, a.ports.last()?.1));
    let (Some((first, last)), Some((o_first, o_last))) = (hull(inner), hull(outer)) else {
        return false;
    };
    o_first <= first
        && last <= o_last
        && inner.protocols.minus(outer.protocols).is_empty()
        && budget.spend(inner.src.range_count() + inner.dst.range_count() + inner.ports.len())
        && inner.src.is_subset(&outer.src)
        && inner.dst.is_subset(&outer.dst)
        && ports_difference(&inner.ports, &outer.ports).is_empty()
}

/// Blocks with the very same sources, destinations and protocols.
fn alike(a: &Access, b: &Access) -> bool {
    Rc::ptr_eq(&a.src, &b.src) && Rc::ptr_eq(&a.dst, &b.dst) && a.protocols == b.protocols
}

/// [`alike`] blocks share this key.
fn group_key(access: &Access) -> u64 {
    let mix = |x: u64, y: u64| (x ^ y).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    let mut key = mix(
        Rc::as_ptr(&access.src) as u64,
        Rc::as_ptr(&access.dst) as u64,
    );
    for word in access.protocols.0 {
        key = mix(key, word);
    }
    key
}

/// Of `owners` (in order, each with its ports), those that are the first to hold some
/// port of `ports`: the rules a finding names. A sweep, `k log k` in the ranges involved.
fn first_holders(ports: &[(u16, u16)], owners: &[(usize, &[(u16, u16)])]) -> Vec<usize> {
    use std::cmp::Reverse;
    // (position, is a start, rank): ends (false) sort before starts at one position.
    let mut events: Vec<(u32, bool, usize)> = Vec::new();
    for (rank, (_, own)) in owners.iter().enumerate() {
        for (first, last) in ports_intersection(ports, own) {
            events.push((u32::from(first), true, rank));
            events.push((u32::from(last) + 1, false, rank));
        }
    }
    events.sort_unstable();
    let mut active = vec![0usize; owners.len()];
    let mut heap = std::collections::BinaryHeap::new();
    let mut named = vec![false; owners.len()];
    let mut i = 0;
    while let Some(&(at, _, _)) = events.get(i) {
        while let Some(&(_, start, rank)) = events.get(i).filter(|e| e.0 == at) {
            if let Some(count) = active.get_mut(rank) {
                if start {
                    *count += 1;
                    heap.push(Reverse(rank));
                } else {
                    *count = count.saturating_sub(1);
                }
            }
            i += 1;
        }
        while let Some(&Reverse(rank)) = heap.peek() {
            if active.get(rank).copied().unwrap_or(0) > 0 {
                break;
            }
            heap.pop();
        }
        if let Some(&Reverse(rank)) = heap.peek()
            && let Some(flag) = named.get_mut(rank)
        {
            *flag = true;
        }
    }
    let mut out = Vec::new();
    for (&(owner, _), named) in owners.iter().zip(named) {
        if named {
            out.push(owner);
        }
    }
    out
}

/// A block of access: sources × destinations × ports × protocols.
#[derive(Debug, Clone)]
struct Access {
    src: Rc<IpSet>,
    dst: Rc<IpSet>,
    ports: Ports,
    protocols: Protocols,
}

/// A set of IP protocol numbers, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Protocols([u64; 4]);

impl Protocols {
    fn of(numbers: &[u8]) -> Self {
        let mut bits = [0; 4];
        for &n in numbers {
            if let Some(word) = bits.get_mut(usize::from(n / 64)) {
                *word |= 1 << (n % 64);
            }
        }
        Self(bits)
    }

    fn is_empty(self) -> bool {
        self.0 == [0; 4]
    }

    /// The lowest protocol number in the set.
    fn lowest(self) -> Option<u8> {
        let mut base = 0u32;
        for word in self.0 {
            if word != 0 {
                return u8::try_from(base + word.trailing_zeros()).ok();
            }
            base += 64;
        }
        None
    }

    fn has(self, n: u8) -> bool {
        self.0
            .get(usize::from(n / 64))
            .is_some_and(|word| word & (1 << (n % 64)) != 0)
    }

    fn intersects(self, other: Self) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    fn minus(self, other: Self) -> Self {
        let mut bits = self.0;
        for (bit, remove) in bits.iter_mut().zip(other.0) {
            *bit &= !remove;
        }
        Self(bits)
    }
}

impl Access {
    /// What comparing with this block costs, in units of the budget.
    fn size(&self) -> usize {
        1 + self.src.range_count() + self.dst.range_count() + self.ports.len()
    }

    fn intersects(&self, other: &Access) -> bool {
        self.protocols.intersects(other.protocols)
            && ports_overlap(&self.ports, &other.ports)
            && self.src.overlaps(&other.src)
            && self.dst.overlaps(&other.dst)
    }

    /// `self` minus `other`, as disjoint blocks (at most four).
    fn minus(&self, other: &Access) -> Vec<Access> {
        if !self.intersects(other) {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let src_out = self.src.difference(&other.src);
        let src = self.src.intersection(&other.src);
        let src = Rc::new(src);
        if !src_out.is_empty() {
            out.push(Access {
                src: Rc::new(src_out),
                ..self.clone()
            });
        }
        let dst_out = self.dst.difference(&other.dst);
        let dst = Rc::new(self.dst.intersection(&other.dst));
        if !dst_out.is_empty() {
            out.push(Access {
                src: Rc::clone(&src),
                dst: Rc::new(dst_out),
                ..self.clone()
            });
        }
        let ports_out = ports_difference(&self.ports, &other.ports);
        if !ports_out.is_empty() {
            out.push(Access {
                src: src.clone(),
                dst: dst.clone(),
                ports: ports_out,
                protocols: self.protocols,
            });
        }
        let protocols = self.protocols.minus(other.protocols);
        if !protocols.is_empty() {
            out.push(Access {
                src,
                dst,
                ports: ports_intersection(&self.ports, &other.ports),
                protocols,
            });
        }
        out
    }
}

/// A bitmap over `0..n`, kept clear between uses: sorts and deduplicates long index lists in
/// one pass over the map (`n / 64` words) instead of a comparison sort.
struct Marks {
    words: Vec<u64>,
}

impl Marks {
    fn new(n: usize) -> Self {
        Self {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Marks `i` (ignored past the map's end: sized for every index by construction).
    fn set(&mut self, i: usize) {
        if let Some(word) = self.words.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    /// Appends the marked indices to `out`, ascending, and clears the map.
    fn drain_into(&mut self, out: &mut Vec<usize>) {
        for (at, word) in self.words.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                out.push(at * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
    }

    /// `list` sorted, without repeats (the same as `sort_unstable` then `dedup`).
    fn sort_unique(&mut self, list: &mut Vec<usize>) {
        // Short lists sort faster than a pass over the whole map.
        let capacity = self.words.len().saturating_mul(64);
        if list.len() < 32
            || list.len().saturating_mul(8) < self.words.len()
            || list.iter().any(|&i| i >= capacity)
        {
            list.sort_unstable();
            list.dedup();
            return;
        }
        for &i in list.iter() {
            self.set(i);
        }
        list.clear();
        self.drain_into(list);
    }
}

/// Work done and allowed, in units of [`Access::size`] and index entries visited.
struct Budget {
    left: usize,
}

impl Budget {
    /// Takes `units`; false once the budget is spent.
    fn spend(&mut self, units: usize) -> bool {
        self.left = self.left.saturating_sub(units);
        self.left > 0
    }
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    if policy.acls.is_none() && policy.grants.is_none() {
        return;
    }
    let empty = Inventory::default();
    let base = cx.inventory().unwrap_or(&empty);
    let StandIns {
        inventory,
        extra,
        outsiders,
    } = stand_ins(policy, base);
    // Blocks are built from the policy with every selector resolved once (as the compiler
    // would, without writing each rule's sources out address by address).
    let resolver = Resolver::with_extra_nodes(policy, inventory.as_ref().unwrap_or(base), extra);
    let mut memo = Memo {
        resolver: &resolver,
        sources: FastMap::default(),
        destinations: FastMap::default(),
    };
    // Per origin, grants first as the compiler orders them: its blocks of access, or
    // `None` when it cannot be judged.
    let mut origins: Vec<(Origin, Option<Vec<Access>>)> = Vec::new();
    for (index, grant) in items(&policy.grants).iter().enumerate() {
        let origin = Origin {
            section: Section::Grants,
            index,
            span: grant.span,
        };
        origins.push((origin, grant_blocks(&mut memo, grant)));
    }
    for (index, rule) in items(&policy.acls).iter().enumerate() {
        let origin = Origin {
            section: Section::Acls,
            index,
            span: rule.span,
        };
        origins.push((origin, acl_blocks(&mut memo, rule)));
    }
    // Identities outside the tailnet count only where a rule names them.
    if !outsiders.is_empty() {
        let mut groups: FastMap<&str, &[Str]> = FastMap::default();
        for g in &policy.groups {
            groups.insert(g.name.value.trimmed(), &g.values.items[..]);
        }
        for (origin, blocks) in &mut origins {
            let Some(blocks) = blocks else { continue };
            let src = rule_sources(policy, origin);
            let mut nets: Vec<ipnet::IpNet> = Vec::new();
            for (login, addrs) in &outsiders {
                if !src.iter().any(|s| names(&groups, s, login)) {
                    for &addr in addrs {
                        nets.push(ipnet::IpNet::from(addr));
                    }
                }
            }
            let unnamed = IpSet::from_nets(nets);
            if unnamed.is_empty() {
                continue;
            }
            for block in blocks.iter_mut() {
                block.src = Rc::new(block.src.difference(&unnamed));
            }
            drop_empty(blocks);
        }
    }

    // Every block, indexed by destination and ports so each rule meets only the blocks
    // that overlap it.
    let mut blocks: Vec<(usize, &Access)> = Vec::new();
    for (i, (_, origin_blocks)) in origins.iter().enumerate() {
        for access in origin_blocks.iter().flatten() {
            blocks.push((i, access));
        }
    }
    let index = Index::new(blocks.iter().map(|(_, a)| *a));
    let mut marks = Marks::new(blocks.len());
    let mut lookups = Lookups {
        classes: vec![None; index.classes.len()],
        marks: Marks::new(index.classes.len()),
        scratch: Vec::new(),
    };
    // Where each origin's blocks start in `blocks`.
    let mut first_block = Vec::with_capacity(origins.len());
    let mut count = 0;
    for (_, own) in &origins {
        first_block.push(count);
        count += own.as_ref().map_or(0, Vec::len);
    }

    // Later duplicates are flagged, the first of equal rules is kept.
    let mut redundant: Vec<(Origin, Vec<Origin>)> = Vec::new();
    let mut removed = vec![false; origins.len()];
    let mut candidates = Vec::new();
    let mut cover: Vec<(usize, &Access)> = Vec::new();
    for (position, (origin, own)) in origins.iter().enumerate().rev() {
        let Some(own) = own else { continue };
        if own.is_empty() {
            continue;
        }
        let mut size = 0;
        for block in own {
            size += block.size();
        }
        let mut budget = Budget {
            left: size.saturating_mul(BUDGET_PER_UNIT) + BUDGET_PER_RULE,
        };
        let mut used: Vec<usize> = Vec::new();
        let mut covered = true;
        let first = first_block.get(position).copied().unwrap_or(0);
        for (id, block) in (first..).zip(own) {
            candidates.clear();
            index.overlapping(id, block, &mut candidates, budget.left, &mut lookups);
            if !budget.spend(candidates.len())
                || !witnessed(block, &candidates, &blocks, &removed, position)
            {
                covered = false;
                break;
            }
            marks.sort_unique(&mut candidates);
            cover.clear();
            for &i in &candidates {
                if let Some(&(owner, access)) = blocks.get(i)
                    && owner != position
                    && !removed.get(owner).copied().unwrap_or(false)
                {
                    cover.push((owner, access));
                }
            }
            if !covered_by(block, &cover, &mut used, &mut budget) {
                covered = false;
                break;
            }
        }
        if covered {
            if let Some(flag) = removed.get_mut(position) {
                *flag = true;
            }
            used.sort_unstable();
            used.dedup();
            let mut covering: Vec<Origin> = Vec::new();
            for &i in &used {
                if let Some((o, _)) = origins.get(i) {
                    covering.push(*o);
                }
            }
            covering.sort_by_key(|o| (o.section != Section::Acls, o.index));
            redundant.push((*origin, covering));
        }
    }
    redundant.reverse();
    for (origin, covering) in redundant {
        let mut names: Vec<String> = Vec::with_capacity(covering.len());
        for other in &covering {
            names.push(other.label());
        }
        let mut diagnostic = cx
            .diagnostic(
                format!(
                    "{} adds no access: {} already {} everything it allows",
                    origin.label(),
                    names.join(", "),
                    if names.len() == 1 {
                        "allows"
                    } else {
                        "together allow"
                    }
                ),
                super::head(origin.span),
            )
            .with_help(
                "remove it, or narrow the broader rule if this one states the intended access",
            );
        for other in &covering {
            diagnostic = diagnostic.with_secondary(
                super::head(other.span),
                format!("{} covers it", other.label()),
            );
        }
        cx.push(diagnostic);
    }
}

/// Address sets of selectors, resolved once per selector text.
/// Keyed by the selector's text in the policy (copied only for a destination that is not
/// written as it reads, such as a bracketed IPv6 address).
struct Memo<'r, 'p> {
    resolver: &'r Resolver<'p>,
    // One key type for both maps: one copy of the map's code (module size).
    sources: FastMap<Cow<'p, str>, Rc<IpSet>>,
    destinations: FastMap<Cow<'p, str>, Rc<IpSet>>,
}

impl<'p> Memo<'_, 'p> {
    /// The union of the sources of `src`.
    fn sources(&mut self, src: &'p [Str]) -> Rc<IpSet> {
        let mut sets: Vec<Rc<IpSet>> = Vec::with_capacity(src.len());
        for s in src {
            let text = s.value.trimmed();
            // Look up before allocating a key: most selectors repeat.
            let set = match self.sources.get(text) {
                Some(set) => Rc::clone(set),
                None => {
                    let set = Rc::new(self.resolver.source_set(&Selector::parse(text)));
                    self.sources.insert(Cow::Borrowed(text), Rc::clone(&set));
                    set
                }
            };
            sets.push(set);
        }
        // One selector: its set, shared with the other rules naming it.
        if sets.len() == 1 {
            return sets.pop().unwrap_or_default();
        }
        let mut all: Vec<&IpSet> = Vec::with_capacity(sets.len());
        for set in &sets {
            all.push(set);
        }
        Rc::new(IpSet::union_all(&all))
    }

    fn destination(&mut self, text: Cow<'p, str>) -> Rc<IpSet> {
        let resolver = self.resolver;
        if let Some(set) = self.destinations.get(text.as_ref()) {
            return Rc::clone(set);
        }
        let set = Rc::new(resolver.destination_set(&Selector::parse(&text)));
        self.destinations.insert(text, Rc::clone(&set));
        set
    }
}

/// An ACL's blocks: one per destination entry, entries with the same ports sharing one;
/// `None` with an `autogroup:self` destination.
fn acl_blocks<'p>(memo: &mut Memo<'_, 'p>, rule: &'p AclRule) -> Option<Vec<Access>> {
    let protocols = match &rule.proto {
        Some(p) => Protocols::of(&[parse_protocol(p.value.trimmed()).ok()?.number()]),
        None => Protocols::of(&DEFAULT_PROTOCOLS),
    };
    let src = memo.sources(&rule.src.items);
    let mut by_ports: FastMap<Ports, usize> = FastMap::default();
    let mut out: Vec<Access> = Vec::new();
    for entry in rule.dst.iter() {
        let (alias, spec) = split_destination_and_port(&entry.value).ok()?;
        if Selector::parse(&alias) == Selector::Autogroup(Autogroup::SelfDevices) {
            return None;
        }
        let ports = parse_port_spec(spec).ok()?;
        let mut pairs = Vec::with_capacity(ports.len());
        push_ports(&ports, &mut pairs);
        let ports = normalize_ports(pairs);
        let dst = memo.destination(match alias {
            Cow::Borrowed(alias) => Cow::Borrowed(alias.trimmed()),
            Cow::Owned(alias) => Cow::Owned(alias.trimmed().to_owned()),
        });
        match by_ports.get(&ports).and_then(|&at| out.get_mut(at)) {
            Some(block) => block.dst = Rc::new(block.dst.union(&dst)),
            None => {
                by_ports.insert(ports.clone(), out.len());
                out.push(Access {
                    src: Rc::clone(&src),
                    dst,
                    ports,
                    protocols,
                });
            }
        }
    }
    drop_empty(&mut out);
    Some(out)
}

/// A grant's blocks: one per protocol; `None` with `via`, `app` or `autogroup:self`.
fn grant_blocks<'p>(memo: &mut Memo<'_, 'p>, grant: &'p Grant) -> Option<Vec<Access>> {
    let has_app = grant
        .app
        .as_ref()
        .is_some_and(|app| !app.entries.is_empty());
    if !grant.via.is_empty() || has_app {
        return None;
    }
    let mut dst = Rc::new(IpSet::new());
    for entry in grant.dst.iter() {
        let text = entry.value.trimmed();
        if Selector::parse(text) == Selector::Autogroup(Autogroup::SelfDevices) {
            return None;
        }
        let set = memo.destination(Cow::Borrowed(text));
        dst = if dst.is_empty() {
            set
        } else {
            Rc::new(dst.union(&set))
        };
    }
    let src = memo.sources(&grant.src.items);
    let mut by_protocol: Vec<(Option<u8>, Ports)> = Vec::new();
    for entry in items(&grant.ip) {
        let ip = parse_grant_ip(entry.value.trimmed()).ok()?;
        let key = ip.proto.map(|p| p.number());
        match by_protocol.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ports)) => push_ports(&ip.ports, ports),
            None => {
                let mut ports = Vec::new();
                push_ports(&ip.ports, &mut ports);
                by_protocol.push((key, ports));
            }
        }
    }
    if src.is_empty() || dst.is_empty() {
        return Some(Vec::new());
    }
    let mut out = Vec::with_capacity(by_protocol.len());
    for (protocol, ports) in by_protocol {
        out.push(Access {
            src: Rc::clone(&src),
            dst: Rc::clone(&dst),
            ports: normalize_ports(ports),
            protocols: match protocol {
                Some(p) => Protocols::of(&[p]),
                None => Protocols::of(&DEFAULT_PROTOCOLS),
            },
        });
    }
    Some(out)
}

/// Appends `ranges` as `(first, last)` pairs.
fn push_ports(ranges: &[PortRange], out: &mut Ports) {
    for r in ranges {
        out.push((r.first, r.last));
    }
}

/// Drops the blocks without sources or destinations (one `retain`, one copy of its code).
fn drop_empty(blocks: &mut Vec<Access>) {
    blocks.retain(|b| !b.src.is_empty() && !b.dst.is_empty());
}

/// The `src` list of the rule an origin points at.
fn rule_sources<'p>(policy: &'p Policy, origin: &Origin) -> &'p [Str] {
    origin
        .rule_in(policy)
        .map_or(&[], |rule| rule.src().items.as_slice())
}

/// Does source `s` name the user `login` itself (not as a member of the tailnet)?
fn names(groups: &FastMap<&str, &[Str]>, s: &Str, login: &str) -> bool {
    match Selector::parse(s.value.trimmed()) {
        Selector::Wildcard | Selector::Autogroup(Autogroup::DangerAll) => true,
        Selector::User(user) => user.trimmed().eq_ignore_ascii_case(login),
        Selector::UserDomain(domain) => login
            .rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)),
        Selector::Group(group) => groups.get(group).is_some_and(|members| {
            members
                .iter()
                .any(|m| m.value.trimmed().eq_ignore_ascii_case(login))
        }),
        _ => false,
    }
}

/// Logins that are not tailnet members whatever the tailnet: Tailscale's own service
/// identities such as `logstream@tailscale` (log streaming).
fn outside_tailnet(login: &str) -> bool {
    login
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case("tailscale"))
}

/// The devices the rule resolves against besides the inventory's, and the addresses of
/// every identity outside the tailnet ([`outside_tailnet`]).
struct StandIns {
    /// The inventory with user stand-ins added, when it has users (a stand-in's owner may
    /// be one of them, resolved as for any device); `None` leaves the inventory as it is.
    inventory: Option<Inventory>,
    /// Stand-ins built directly in resolved form: tags, and users of an inventory without
    /// users.
    extra: Vec<NodeInfo>,
    outsiders: Vec<(String, Vec<IpAddr>)>,
}

/// One stand-in device, with one address, for every tag and named user that has none, and
/// one for an unnamed member (linear in their number).
fn stand_ins(policy: &Policy, base: &Inventory) -> StandIns {
    let mut tags: Vec<Cow<'_, str>> = Vec::with_capacity(policy.tag_owners.len());
    for t in &policy.tag_owners {
        tags.push(ascii_lowercase(t.name.value.trimmed()));
    }
    // Users named in groups and in rules' sources, then one unnamed member.
    let mut named: Vec<&Str> = Vec::new();
    for group in &policy.groups {
        named.extend(group.values.iter());
    }
    for rule in items(&policy.acls) {
        named.extend(rule.src.iter());
    }
    for grant in items(&policy.grants) {
        named.extend(grant.src.iter());
    }
    let mut users: Vec<Cow<'_, str>> = Vec::new();
    for s in named {
        let s = s.value.trimmed();
        if s.contains('@') && matches!(Selector::parse(s), Selector::User(_)) {
            users.push(ascii_lowercase(s));
        }
    }
    users.push(Cow::Borrowed("someone-else@tailpolicy.invalid"));
    let mut used: FastSet<Ipv4Addr> = FastSet::default();
    for node in &base.nodes {
        if let Some(ip) = node.ipv4 {
            used.insert(ip);
        }
    }
    let mut have_tag: FastSet<String> = FastSet::default();
    // A user's first device's addresses.
    let mut have_user: FastMap<String, (Option<Ipv4Addr>, Option<Ipv6Addr>)> = FastMap::default();
    let mut by_login: FastMap<String, &crate::inventory::User> = FastMap::default();
    let mut by_name: FastMap<&str, &crate::inventory::User> = FastMap::default();
    for u in &base.users {
        by_login.insert(u.login().to_ascii_lowercase(), u);
        by_name.insert(u.name.as_str(), u);
    }
    for node in &base.nodes {
        match (&node.tags[..], &node.user) {
            ([tag], _) => {
                have_tag.insert(tag.to_ascii_lowercase());
            }
            ([], Some(owner)) => {
                let login = by_name
                    .get(owner.as_str())
                    .map_or(owner.as_str(), |u| u.login());
                have_user
                    .entry(login.to_ascii_lowercase())
                    .or_insert((node.ipv4, node.ipv6));
            }
            _ => {}
        }
    }
    let mut next = u32::from(Ipv4Addr::new(100, 127, 255, 254));
    let mut fresh = |used: &mut FastSet<Ipv4Addr>| {
        while used.contains(&Ipv4Addr::from(next)) && next > u32::from(Ipv4Addr::new(100, 64, 0, 1))
        {
            next -= 1;
        }
        let ip = Ipv4Addr::from(next);
        used.insert(ip);
        ip
    };
    let device = |ip: Ipv4Addr, login: Option<String>, tags: Vec<String>| NodeInfo {
        // Nameless: only addresses and identities are read here.
        name: String::new(),
        addrs: vec![IpAddr::V4(ip)],
        login,
        user_id: None,
        roles: Vec::new(),
        tags,
        subnet_routes: Vec::new(),
        advertised: Vec::new(),
        exit_node: false,
        auto_approved: Vec::new(),
        primary_routes: Vec::new(),
        shared: false,
    };
    let mut extra = Vec::new();
    tags.sort_unstable();
    tags.dedup();
    for tag in tags {
        if have_tag.contains(tag.as_ref()) {
            continue;
        }
        let tag = tag.into_owned();
        have_tag.insert(tag.clone());
        extra.push(device(fresh(&mut used), None, vec![tag]));
    }
    // With users in the inventory, a stand-in's owner may be one of them: those stand-ins
    // are devices of the inventory, resolved as any other.
    let mut inventory = (!base.users.is_empty()).then(|| base.clone());
    for login in users {
        if have_user.contains_key(login.as_ref()) {
            continue;
        }
        let ip = fresh(&mut used);
        let login = login.into_owned();
        match &mut inventory {
            Some(inventory) => {
                let owner = by_login
                    .get(&login)
                    .map_or(login.clone(), |u| u.name.clone());
                inventory.nodes.push(Node {
                    user: Some(owner),
                    ipv4: Some(ip),
                    ..Node::named(String::new())
                });
            }
            None => extra.push(device(ip, Some(login.clone()), Vec::new())),
        }
        have_user.insert(login, (Some(ip), None));
    }
    let mut outsiders = Vec::new();
    for (login, (v4, v6)) in have_user {
        if outside_tailnet(&login) {
            let mut addrs = Vec::new();
            addrs.extend(v4.map(IpAddr::V4));
            addrs.extend(v6.map(IpAddr::V6));
            outsiders.push((login, addrs));
        }
    }
    outsiders.sort_unstable();
    StandIns {
        inventory,
        extra,
        outsiders,
    }
}

/// Blocks by destination, then by ports: blocks with the same destinations form a class;
/// classes are found by address ([`DstIndex`]), blocks within a class by port range.
struct Index {
    dst: DstIndex,
    /// Per class, its blocks by the hull of their ports, in buckets by width as in
    /// [`DstIndex`] (a destination listing thousands of ports is one entry).
    classes: Vec<Vec<Bucket<u32>>>,
    /// Each block's class.
    class_of_block: Vec<usize>,
}

impl Index {
    fn new<'a>(blocks: impl Iterator<Item = &'a Access>) -> Self {
        let mut class_of: FastMap<&IpSet, usize> = FastMap::default();
        let mut classes: Vec<Vec<Bucket<u32>>> = Vec::new();
        let mut dsts: Vec<&IpSet> = Vec::new();
        let mut class_of_block = Vec::new();
        for (block, access) in blocks.enumerate() {
            let class = *class_of.entry(&access.dst).or_insert_with(|| {
                classes.push(buckets(17));
                dsts.push(&access.dst);
                classes.len() - 1
            });
            class_of_block.push(class);
            if let (Some(ports), Some(&(first, _)), Some(&(_, last))) = (
                classes.get_mut(class),
                access.ports.first(),
                access.ports.last(),
            ) {
                bucket_entry(ports, u32::from(first), u32::from(last), block);
            }
        }
        for class in &mut classes {
            finish(class);
        }
        Self {
            dst: DstIndex::new(&dsts),
            classes,
            class_of_block,
        }
    }

    /// Appends the blocks whose destinations and ports may overlap `access`, block `id` of
    /// this index (with repeats). Stops past `limit` blocks.
    fn overlapping(
        &self,
        id: usize,
        access: &Access,
        out: &mut Vec<usize>,
        limit: usize,
        lookups: &mut Lookups,
    ) {
        let (Some(&(first, _)), Some(&(_, last))) = (access.ports.first(), access.ports.last())
        else {
            return;
        };
        // Blocks of one class (the same destinations) ask the same question: a complete
        // answer is kept and reused while within the limit.
        let class = self.class_of_block.get(id).copied();
        let kept = class
            .and_then(|c| lookups.classes.get(c))
            .and_then(Option::as_ref);
        match kept {
            Some((matched, classes)) if *matched <= limit => {
                self.blocks_of(classes, first, last, out, limit);
            }
            _ => {
                let mut classes = std::mem::take(&mut lookups.scratch);
                let matched =
                    self.dst
                        .overlapping(&access.dst, limit, &mut lookups.marks, &mut classes);
                self.blocks_of(&classes, first, last, out, limit);
                match class.and_then(|c| lookups.classes.get_mut(c)) {
                    Some(slot) if matched <= limit => *slot = Some((matched, classes)),
                    _ => lookups.scratch = classes,
                }
            }
        }
    }

    /// The blocks of `classes` whose port hulls meet `first..=last` (stops past `limit`).
    fn blocks_of(
        &self,
        classes: &[usize],
        first: u16,
        last: u16,
        out: &mut Vec<usize>,
        limit: usize,
    ) {
        let mut matched = out.len();
        for &class in classes {
            if let Some(ports) = self.classes.get(class) {
                scan(ports, first.into(), last.into(), limit, &mut matched, out);
            }
        }
    }
}

/// Whether one of `candidates`, a block of another rule still in play, holds one point of
/// `access` (its lowest addresses, first port and protocol). Most rules add access: for
/// them this settles it without the full comparison, which would fail too.
fn witnessed(
    access: &Access,
    candidates: &[usize],
    blocks: &[(usize, &Access)],
    removed: &[bool],
    position: usize,
) -> bool {
    let (Some(src), Some(dst), Some(&(port, _)), Some(protocol)) = (
        access.src.lowest(),
        access.dst.lowest(),
        access.ports.first(),
        access.protocols.lowest(),
    ) else {
        return true;
    };
    for &i in candidates {
        if let Some(&(owner, other)) = blocks.get(i)
            && owner != position
            && !removed.get(owner).copied().unwrap_or(false)
            && other.protocols.has(protocol)
            && from(&other.ports, port)
                .first()
                .is_some_and(|r| r.0 <= port)
            && other.dst.contains(dst)
            && other.src.contains(src)
        {
            return true;
        }
    }
    false
}

/// What [`Index::overlapping`] keeps between lookups: complete answers of [`DstIndex`]
/// by class, with the number of matches each took.
struct Lookups {
    classes: Vec<Option<(usize, Vec<usize>)>>,
    marks: Marks,
    scratch: Vec<usize>,
}

/// Destination sets by their address ranges, per address family, in buckets by width: a
/// range of width `w` goes to bucket `bits(w)`, each bucket sorted by first address, so a
/// range overlapping `p..=q` in a bucket starts in `p - widest..=q` and a lookup visits
/// the ranges that overlap, plus few others, however wide some sets are.
struct DstIndex {
    v4: Vec<Bucket<u32>>,
    v6: Vec<Bucket<u128>>,
}

/// The widest range in a bucket, and `(first, last, item)`, sorted.
type Bucket<T> = (T, Vec<(T, T, usize)>);

/// Empty buckets for widths of up to `count - 1` bits.
fn buckets<T: Default>(count: usize) -> Vec<Bucket<T>> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push((T::default(), Vec::new()));
    }
    out
}

/// Puts `(first, last, item)` in its bucket (by the bit length of its width).
fn bucket_entry<T: Copy + Ord + Sub<Output = T> + Into<u128>>(
    buckets: &mut [Bucket<T>],
    first: T,
    last: T,
    item: usize,
) {
    let width = last - first;
    let bucket = usize::try_from(u128::BITS - width.into().leading_zeros()).unwrap_or(128);
    if let Some((widest, list)) = buckets.get_mut(bucket) {
        *widest = (*widest).max(width);
        list.push((first, last, item));
    }
}

fn finish<T: Ord>(buckets: &mut Vec<Bucket<T>>) {
    buckets.retain(|(_, list)| !list.is_empty());
    for (_, list) in buckets {
        list.sort_unstable();
    }
}

/// Appends the items of `buckets` with a range overlapping `first..=last`, bucket by
/// bucket, counting them in `matched`, until it passes `limit`.
fn scan<T: Copy + Ord + Default + Sub<Output = T>>(
    buckets: &[Bucket<T>],
    first: T,
    last: T,
    limit: usize,
    matched: &mut usize,
    out: &mut Vec<usize>,
) {
    for (widest, list) in buckets {
        if *matched > limit {
            return;
        }
        let from = if first > *widest {
            first - *widest
        } else {
            T::default()
        };
        let start = list.partition_point(|&(a, _, _)| a < from);
        for &(a, b, item) in list.get(start..).unwrap_or_default() {
            if a > last || *matched > limit {
                break;
            }
            if b >= first {
                *matched += 1;
                out.push(item);
            }
        }
    }
}

impl DstIndex {
    fn new(sets: &[&IpSet]) -> Self {
        let mut v4 = buckets(33);
        let mut v6 = buckets(129);
        for (index, set) in sets.iter().enumerate() {
            for &(a, b) in set.v4_ranges() {
                bucket_entry(&mut v4, a, b, index);
            }
            for &(a, b) in set.v6_ranges() {
                bucket_entry(&mut v6, a, b, index);
            }
        }
        finish(&mut v4);
        finish(&mut v6);
        Self { v4, v6 }
    }

    /// Sets that overlap `dst`, ascending, into `out`; stops past `limit` matches, counting
    /// a set once per range it meets. Returns that count: no more than `limit` means the
    /// answer is complete.
    fn overlapping(
        &self,
        dst: &IpSet,
        limit: usize,
        marks: &mut Marks,
        out: &mut Vec<usize>,
    ) -> usize {
        let mut matched = 0usize;
        out.clear();
        for &(a, b) in dst.v4_ranges() {
            scan(&self.v4, a, b, limit, &mut matched, out);
        }
        for &(a, b) in dst.v6_ranges() {
            scan(&self.v6, a, b, limit, &mut matched, out);
        }
        marks.sort_unique(out);
        matched
    }
}

/// Whether the blocks of `cover` together hold all of `block`; adds the owners of the
/// blocks that took part to `used`. False when some access is left, the remainder grows
/// too large, or the budget runs out.
fn covered_by(
    block: &Access,
    cover: &[(usize, &Access)],
    used: &mut Vec<usize>,
    budget: &mut Budget,
) -> bool {
    // Blocks alike but for their ports act as one: thousands of rules on one destination,
    // each with its own port, are subtracted at once. A block with more port ranges than
    // `block` stays alone: comparing with it costs a binary search per range of `block`.
    // Most redundant rules sit inside one broader rule: look for it first, cheaply.
    for &(owner, other) in cover {
        if !budget.spend(1) {
            return false;
        }
        if contains(other, block, budget) {
            used.push(owner);
            return true;
        }
    }
    // Keyed by the sets' addresses (rules naming the same selectors share them), mixed
    // into one word; a collision only keeps two blocks apart.
    let mut group_of: FastMap<u64, usize> = FastMap::default();
    // Each group's first block, and each cover block's group: the groups are then laid out
    // in one array (a counting sort) rather than a pair of vectors each.
    let mut heads: Vec<&Access> = Vec::new();
    let mut group_ids: Vec<usize> = Vec::with_capacity(cover.len());
    for &(_, access) in cover {
        if !budget.spend(1) {
            return false;
        }
        let alone = access.ports.len() > block.ports.len();
        let key = group_key(access);
        let at = group_of
            .get(&key)
            .copied()
            .filter(|&at| !alone && heads.get(at).is_some_and(|first| alike(first, access)));
        let group = match at {
            Some(at) => at,
            None => {
                if !alone {
                    group_of.entry(key).or_insert(heads.len());
                }
                heads.push(access);
                heads.len() - 1
            }
        };
        group_ids.push(group);
    }
    // Each group's members together, in order: a sort by group, then position.
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(cover.len());
    for (at, &group) in group_ids.iter().enumerate() {
        order.push((group, at));
    }
    order.sort_unstable();
    type Owner<'b> = (usize, &'b [(u16, u16)]);
    let mut laid: Vec<Owner<'_>> = Vec::with_capacity(cover.len());
    for &(_, at) in &order {
        if let Some(&(owner, access)) = cover.get(at) {
            laid.push((owner, &access.ports));
        }
    }
    let mut groups: Vec<(Cow<'_, Access>, &[Owner<'_>])> = Vec::with_capacity(heads.len());
    let mut start = 0;
    while let (Some(&(group, _)), Some(&head)) = (
        order.get(start),
        order.get(start).and_then(|&(group, _)| heads.get(group)),
    ) {
        let mut end = start + 1;
        while order.get(end).is_some_and(|e| e.0 == group) {
            end += 1;
        }
        let owners = laid.get(start..end).unwrap_or_default();
        let merged = if end - start == 1 {
            Cow::Borrowed(head)
        } else {
            let mut ports: Vec<(u16, u16)> = Vec::new();
            for &(_, own) in owners {
                ports.extend_from_slice(own);
            }
            if !budget.spend(ports.len()) {
                return false;
            }
            Cow::Owned(Access {
                src: Rc::clone(&head.src),
                dst: Rc::clone(&head.dst),
                ports: normalize_ports(ports),
                protocols: head.protocols,
            })
        };
        groups.push((merged, owners));
        start = end;
    }
    // Two buffers, swapped after each group.
    let mut residual = vec![block.clone()];
    let mut next: Vec<Access> = Vec::new();
    for (merged, owners) in &groups {
        if residual.is_empty() {
            break;
        }
        next.clear();
        let mut touched = false;
        for piece in residual.drain(..) {
            let cost = piece.size() + merged.src.range_count() + merged.dst.range_count();
            if !budget.spend(cost) {
                return false;
            }
            if piece.intersects(merged) {
                touched = true;
                next.extend(piece.minus(merged));
            } else {
                next.push(piece);
            }
        }
        if touched {
            if !budget.spend(owners.len()) {
                return false;
            }
            used.extend(first_holders(&block.ports, owners));
        }
        std::mem::swap(&mut residual, &mut next);
        if residual.len() > RESIDUAL_LIMIT {
            return false;
        }
    }
    residual.is_empty()
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_a_rule_covered_by_a_broader_one() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
  ],
}"#;
        assert_eq!(findings(text, "TP022"), ["{"]);
    }

    #[test]
    fn a_union_of_rules_can_cover_one() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "grants": [
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:1-1000"]},
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:1001-65535"]},
    {"src": ["tag:ci"], "dst": ["tag:db"], "ip": ["tcp:22", "tcp:5432"]},
  ],
}"#;
        let messages = crate::lint::test_support::messages(text, "TP022");
        assert_eq!(
            messages,
            [
                "grants[2] adds no access: grants[0], grants[1] already together allow everything it allows"
            ]
        );
    }

    #[test]
    fn distinct_access_and_equal_twins_are_handled() {
        let distinct = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": [], "tag:web": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:web:443"]},
    {"action": "accept", "src": ["tag:web"], "dst": ["tag:db:5432"]},
  ],
}"#;
        assert!(findings(distinct, "TP022").is_empty());
        let twins = r#"{
  "tagOwners": {"tag:ci": [], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:5432"]},
  ],
}"#;
        let messages = crate::lint::test_support::messages(twins, "TP022");
        assert_eq!(
            messages,
            ["acls[1] adds no access: acls[0] already allows everything it allows"]
        );
    }

    #[test]
    fn a_user_covered_by_their_group() {
        let text = r#"{
  "tagOwners": {"tag:db": []},
  "groups": {"group:eng": ["alice@example.com", "bob@example.com"]},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:db:*"]},
    {"action": "accept", "src": ["alice@example.com"], "dst": ["tag:db:5432"]},
    {"action": "accept", "src": ["carol@example.com"], "dst": ["tag:db:5432"]},
  ],
}"#;
        let flagged = crate::lint::test_support::messages(text, "TP022");
        assert_eq!(
            flagged,
            ["acls[1] adds no access: acls[0] already allows everything it allows"]
        );
    }

    #[test]
    fn tailscale_service_identities_are_not_members() {
        let text = r#"{
  "tagOwners": {"tag:logs": []},
  "groups": {"group:streams": ["logstream@tailscale"]},
  "acls": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["tag:logs:443"]},
    {"action": "accept", "src": ["logstream@tailscale"], "dst": ["tag:logs:443"]},
  ],
  "grants": [
    {"src": ["group:streams"], "dst": ["tag:logs"], "ip": ["tcp:8443"]},
    {"src": ["logstream@tailscale"], "dst": ["tag:logs"], "ip": ["tcp:8443"]},
  ],
}"#;
        // The member rule covers no one outside the tailnet; the group naming it does.
        assert_eq!(
            crate::lint::test_support::messages(text, "TP022"),
            ["grants[1] adds no access: grants[0] already allows everything it allows"]
        );
    }

    #[test]
    fn long_port_lists_and_many_rules_stay_fast() {
        use std::fmt::Write as _;
        let mut ports = String::new();
        for p in 0..20_000u32 {
            let _ = write!(ports, "{}{}", if p == 0 { "" } else { "," }, 1 + 3 * p);
        }
        let mut rules = String::new();
        for i in 0..2_000u32 {
            let _ = writeln!(
                rules,
                r#"{{"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:{}"]}},"#,
                1 + 3 * (i % 1000)
            );
        }
        let text = format!(
            r#"{{
  "tagOwners": {{"tag:ci": [], "tag:db": []}},
  "acls": [
    {{"action": "accept", "src": ["tag:ci"], "dst": ["tag:db:{ports}"]}},
    {rules}
  ],
}}"#
        );
        let started = std::time::Instant::now();
        let found = findings(&text, "TP022");
        // Every per-port rule repeats part of the long list (debug build: generous bound).
        assert_eq!(found.len(), 2_000);
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn the_first_rule_holding_each_port_is_named() {
        let a: &[(u16, u16)] = &[(1, 10)];
        let b: &[(u16, u16)] = &[(5, 20)];
        let c: &[(u16, u16)] = &[(1, 30)];
        let owners = [(7, a), (8, b), (9, c)];
        assert_eq!(super::first_holders(&[(1, 30)], &owners), [7, 8, 9]);
        assert_eq!(super::first_holders(&[(2, 8)], &owners), [7]);
        assert_eq!(super::first_holders(&[(9, 15)], &owners), [7, 8]);
        assert!(super::first_holders(&[(40, 50)], &owners).is_empty());
    }

    #[test]
    fn port_set_operations() {
        use super::{ports_difference, ports_intersection, ports_overlap};
        let a = [(0, 10), (20, 30), (65_530, 65_535)];
        let b = [(5, 22), (25, 25), (65_535, 65_535)];
        assert_eq!(
            ports_difference(&a, &b),
            [(0, 4), (23, 24), (26, 30), (65_530, 65_534)]
        );
        assert_eq!(
            ports_intersection(&a, &b),
            [(5, 10), (20, 22), (25, 25), (65_535, 65_535)]
        );
        assert!(ports_overlap(&a, &b));
        assert!(!ports_overlap(&[(0, 4)], &[(5, 9)]));
        assert_eq!(ports_difference(&[(0, 65_535)], &[(0, 65_535)]), []);
    }
}
