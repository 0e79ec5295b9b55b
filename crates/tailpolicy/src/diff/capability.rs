//! Capability rows: which sources gain or lose which application capability (grants with
//! `app`) at which nodes, compared the way Tailscale's client reads its filter's `CapGrant`s
//! (`filter.CapsWithValues`): for a source and a destination address, every rule whose
//! sources hold the source and whose `Dsts` hold the destination adds its capabilities, a
//! name present even without values, the values of one name concatenated.
//!
//! A node's capability rules all name its own addresses as `Dsts` (`Compiled::reduce`), so
//! per node and capability the sources are cut into the atoms of the rules' source sets, and
//! in each atom the two sides' names and values are compared.

use std::collections::BTreeSet;
use std::rc::Rc;

use serde_json::Value;

use super::network::{Labels, SelectorSets, counterpart, origin_key};
use super::{CapabilityRow, Row};
use crate::addr::IpSet;
use crate::compile::{CapValues, Compiled, Origin};
use crate::fasthash::FastMap as HashMap;

/// Capabilities Tailscale adds in reverse for a grant (from its destinations to its
/// sources).
const COMPANIONS: [&str; 2] = [
    "tailscale.com/cap/drive-sharer",
    "tailscale.com/cap/relay-target",
];

/// One capability of one rule a node receives.
#[derive(Clone)]
pub(super) struct CapEntry {
    pub src: Rc<IpSet>,
    /// Equal for equal source sets, on both sides.
    pub src_id: u32,
    pub name: Rc<str>,
    /// The values as `PeerCapMap` carries them (none for a `null`).
    pub values: Rc<Vec<Value>>,
    pub origin: Origin,
}

/// A rule's capabilities as (name, values), converted to JSON once per piece.
pub(super) fn cap_values(cap_map: &CapValues) -> Vec<(Rc<str>, Rc<Vec<Value>>)> {
    let mut out: Vec<(Rc<str>, Rc<Vec<Value>>)> = Vec::new();
    for (name, value) in cap_map.iter() {
        let values = match value.to_json() {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        // A repeated name: the later entry wins (as the wire map is written).
        match out.iter_mut().find(|(n, _)| **n == **name) {
            Some(slot) => slot.1 = Rc::new(values),
            None => out.push((Rc::from(name.as_str()), Rc::new(values))),
        }
    }
    out
}

/// Both sides give the same capabilities to the same sources.
pub(super) fn same(old: &[CapEntry], new: &[CapEntry]) -> bool {
    if old.len() != new.len() {
        return false;
    }
    let key = |e: &CapEntry| (e.src_id, Rc::clone(&e.name), Rc::clone(&e.values));
    let mut a: Vec<_> = old.iter().map(key).collect();
    let mut b: Vec<_> = new.iter().map(key).collect();
    let order = |x: &(u32, Rc<str>, Rc<Vec<Value>>), y: &(u32, Rc<str>, Rc<Vec<Value>>)| {
        (x.0, &*x.1).cmp(&(y.0, &*y.1))
    };
    a.sort_by(order);
    b.sort_by(order);
    a.iter()
        .zip(&b)
        .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2 == y.2)
}

/// A changed capability: these sources gained (lost) these values of `name` at node `node`.
#[derive(Clone)]
pub(super) struct CapFact {
    added: bool,
    name: Rc<str>,
    values: Vec<Value>,
    whole: bool,
    src: IpSet,
    src_label: String,
    node: usize,
    dst_label: String,
    nodes: Vec<usize>,
    /// The rules of the side that grants (added) or granted (removed) it.
    causes: Vec<Origin>,
    /// The rules of the other side that give the same capability to these sources.
    others: Vec<Origin>,
}

fn union_values<'e>(entries: &[&'e CapEntry]) -> Vec<&'e Value> {
    let mut out: Vec<&Value> = Vec::new();
    for e in entries {
        for v in e.values.iter() {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn origins(entries: &[&CapEntry]) -> Vec<Origin> {
    let mut out: Vec<Origin> = entries.iter().map(|e| e.origin).collect();
    out.sort_by_key(origin_key);
    out.dedup();
    out
}

/// The changed capabilities at node `node`.
pub(super) fn node_facts(node: usize, old: &[CapEntry], new: &[CapEntry], out: &mut Vec<CapFact>) {
    let names: BTreeSet<&str> = old.iter().chain(new).map(|e| &*e.name).collect();
    for name in names {
        let o: Vec<&CapEntry> = old.iter().filter(|e| &*e.name == name).collect();
        let n: Vec<&CapEntry> = new.iter().filter(|e| &*e.name == name).collect();
        // The atoms of every source set of either side.
        let mut sets: Vec<(u32, &IpSet)> =
            o.iter().chain(&n).map(|e| (e.src_id, &*e.src)).collect();
        sets.sort_by_key(|(id, _)| *id);
        sets.dedup_by_key(|(id, _)| *id);
        let mut all = IpSet::new();
        for (_, set) in &sets {
            all.insert_set(set);
        }
        let mut parts: Vec<(IpSet, Vec<u32>)> = vec![(all, Vec::new())];
        for (id, set) in &sets {
            let mut next = Vec::with_capacity(parts.len() + 1);
            for (part, ids) in parts {
                let inside = part.intersection(set);
                if inside.is_empty() {
                    next.push((part, ids));
                    continue;
                }
                let outside = part.difference(set);
                let mut with = ids.clone();
                with.push(*id);
                next.push((inside, with));
                if !outside.is_empty() {
                    next.push((outside, ids));
                }
            }
            parts = next;
        }
        for (part, ids) in parts {
            let old_in: Vec<&CapEntry> = o
                .iter()
                .copied()
                .filter(|e| ids.contains(&e.src_id))
                .collect();
            let new_in: Vec<&CapEntry> = n
                .iter()
                .copied()
                .filter(|e| ids.contains(&e.src_id))
                .collect();
            let (old_values, new_values) = (union_values(&old_in), union_values(&new_in));
            for (added, this, this_values, other, other_values) in [
                (true, &new_in, &new_values, &old_in, &old_values),
                (false, &old_in, &old_values, &new_in, &new_values),
            ] {
                if this.is_empty() {
                    continue;
                }
                let whole = other.is_empty();
                let changed: Vec<Value> = this_values
                    .iter()
                    .filter(|v| !other_values.contains(v))
                    .map(|v| (*v).clone())
                    .collect();
                if !whole && changed.is_empty() {
                    continue;
                }
                let causes: Vec<&CapEntry> = this
                    .iter()
                    .copied()
                    .filter(|e| whole || e.values.iter().any(|v| changed.contains(v)))
                    .collect();
                out.push(CapFact {
                    added,
                    name: Rc::from(name),
                    values: changed,
                    whole,
                    src: part.clone(),
                    src_label: String::new(),
                    node,
                    dst_label: String::new(),
                    nodes: vec![node],
                    causes: origins(&causes),
                    others: origins(other),
                });
            }
        }
    }
}

/// What two facts must share to be joined along sources (`by_src`) or destinations.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    added: bool,
    name: Rc<str>,
    values: String,
    whole: bool,
    causes: Vec<Origin>,
    others: Vec<Origin>,
    src_label: String,
    dst_label: String,
    src: Option<IpSet>,
    nodes: Option<Vec<usize>>,
}

fn merge(facts: Vec<CapFact>, by_src: bool) -> Vec<CapFact> {
    let mut out: Vec<CapFact> = Vec::with_capacity(facts.len());
    let mut at: HashMap<Key, usize> = HashMap::default();
    for fact in facts {
        let key = Key {
            added: fact.added,
            name: Rc::clone(&fact.name),
            values: Value::Array(fact.values.clone()).to_string(),
            whole: fact.whole,
            causes: fact.causes.clone(),
            others: fact.others.clone(),
            src_label: fact.src_label.clone(),
            dst_label: fact.dst_label.clone(),
            src: (!by_src).then(|| fact.src.clone()),
            nodes: by_src.then(|| fact.nodes.clone()),
        };
        match at.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(existing) if by_src => existing.src.insert_set(&fact.src),
            Some(existing) => {
                existing.nodes.extend(fact.nodes);
                existing.nodes.sort_unstable();
                existing.nodes.dedup();
            }
            None => {
                at.insert(key, out.len());
                out.push(fact);
            }
        }
    }
    out
}

/// The (added, removed) capability rows of every node's changed capabilities.
pub(super) fn rows(
    facts: Vec<CapFact>,
    labels: &Labels<'_>,
    selectors: &mut [SelectorSets<'_, '_>; 2],
    old: &Compiled<'_>,
    new: &Compiled<'_>,
) -> (Vec<Row>, Vec<Row>) {
    let nodes = labels.nodes;
    let facts: Vec<CapFact> = facts
        .into_iter()
        .map(|mut f| {
            f.dst_label = nodes
                .get(f.node)
                .map(|n| labels.identity(n))
                .unwrap_or_default();
            f
        })
        .collect();
    let facts = merge(facts, false);
    let mut labelled = Vec::with_capacity(facts.len());
    for fact in facts {
        let parts = match selectors.get_mut(usize::from(fact.added)) {
            Some(sets) => {
                // A reversed companion (`drive-sharer`, `relay-target`) comes from the
                // grant's destinations.
                let reversed = COMPANIONS.contains(&&*fact.name);
                let mut texts: Vec<String> = Vec::new();
                for origin in &fact.causes {
                    if reversed {
                        texts.extend(sets.dst_texts(origin));
                    }
                    texts.extend(sets.texts(origin));
                }
                sets.split_by(&fact.src, texts, labels)
            }
            None => Vec::new(),
        };
        for (label, src) in parts {
            labelled.push(CapFact {
                src_label: label,
                src,
                ..fact.clone()
            });
        }
    }
    let facts = merge(merge(labelled, true), false);
    let (old_policy, new_policy) = (old.resolver.policy, new.resolver.policy);
    let mut rows: Vec<(bool, CapabilityRow)> = facts
        .into_iter()
        .map(|fact| {
            let (this, other) = if fact.added {
                (new_policy, old_policy)
            } else {
                (old_policy, new_policy)
            };
            let mut others = fact.others.clone();
            others.extend(
                fact.causes
                    .iter()
                    .filter_map(|o| counterpart(o, this, other)),
            );
            others.sort_by_key(origin_key);
            others.dedup_by_key(|o| origin_key(o));
            let (old_rules, new_rules) = if fact.added {
                (others, fact.causes)
            } else {
                (fact.causes, others)
            };
            let mut dst_ips = IpSet::new();
            let mut dst_nodes = Vec::new();
            for node in fact.nodes.iter().filter_map(|&i| nodes.get(i)) {
                dst_ips.insert_set(&node.addrs.iter().copied().collect());
                dst_nodes.push(node.name.clone());
            }
            (
                fact.added,
                CapabilityRow {
                    src: vec![fact.src_label],
                    dst: vec![fact.dst_label],
                    src_ips: fact.src,
                    dst_ips,
                    dst_nodes,
                    capability: fact.name.to_string(),
                    values: fact.values,
                    whole: fact.whole,
                    old_rules,
                    new_rules,
                },
            )
        })
        .collect();
    rows.sort_by(|(_, a), (_, b)| {
        (
            &a.capability,
            &a.src,
            &a.dst,
            &a.dst_nodes,
            a.src_ips.ranges().next().map(|r| r.first()),
        )
            .cmp(&(
                &b.capability,
                &b.src,
                &b.dst,
                &b.dst_nodes,
                b.src_ips.ranges().next().map(|r| r.first()),
            ))
    });
    let (added, removed): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.0);
    let wrap = |rows: Vec<(bool, CapabilityRow)>| -> Vec<Row> {
        rows.into_iter()
            .map(|(_, r)| Row::Capability(Box::new(r)))
            .collect()
    };
    (wrap(added), wrap(removed))
}
