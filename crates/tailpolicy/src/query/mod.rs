//! "Can SRC reach DST:PORT over PROTO?", which rules allow it, and reachability listings.
//!
//! A query runs against the compiled per-node filters, so its answers agree with the packet
//! filters Tailscale would send. A source or destination given as an identity (a tag, a
//! user, a group member) that no node in the inventory has exactly stands for a hypothetical
//! node with that identity, e.g. a freshly started ephemeral CI runner.

mod assume;
mod endpoint;
mod evaluate;
mod listing;
mod members;
mod service;

pub use assume::Condition;
use assume::{Assumption, Facts, MEMBER, Part, posture_condition};
use endpoint::*;
use evaluate::*;
use members::*;

use crate::fasthash::FastMap as HashMap;
use crate::text::Trimmed;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::Serialize;
use thiserror::Error;

use crate::addr::{internet, tailnet_v4};
use crate::compile::{Compiled, Delivered, Origin, Piece};
use crate::inventory::{Inventory, Node};
use crate::model::Policy;
use crate::ports::split_destination_and_port;
use crate::proto::{DEFAULT_PROTOCOLS, Protocol, parse_protocol};
use crate::resolve::{Addr, NodeInfo};
use crate::selector::{Autogroup, Selector, parse_prefix};

/// A query that cannot be answered as written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("source `{0}` names nothing: use a tag, user, group, host alias, IP or node name")]
    UnknownSource(String),
    #[error("destination `{0}` must be `host:port` (IPv6 as `[addr]:port`)")]
    BadDestination(String),
    #[error("destination `{0}` names nothing: use a host alias, IP, tag, user, group or node name")]
    UnknownDestination(String),
    #[error("port `{0}` must be a single number from 0 to 65535")]
    BadPort(String),
    #[error("protocol `{0}` is not a protocol name or number")]
    BadProtocol(String),
    #[error("group `{0}` has no members")]
    EmptyGroup(String),
    #[error("tag `{0}` is not in `tagOwners`, so no device can have it")]
    UnknownTag(String),
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    pub allowed: bool,
    pub src: String,
    pub dst: String,
    pub proto: String,
    /// The rules that allow the traffic (policy order).
    pub matches: Vec<Origin>,
    pub explanation: String,
    /// The node that receives the packet (the destination itself, or the router or exit
    /// node that carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_node: Option<String>,
    /// The source address the answer is for, and whether it is a hypothetical device.
    pub src_addr: String,
    pub src_hypothetical: bool,
    /// The destination address.
    pub dst_addr: String,
    /// What the tailnet must also have for the answer to hold: a device with the identity,
    /// an approved route or exit node, a role, the identity of the device at an address.
    pub conditions: Vec<Condition>,
    /// For a source that stands for several identities (a group, an autogroup): the answer
    /// for each. `allowed` is then true only when every one is allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberAnswer>,
}

/// The answer for one identity a source stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct MemberAnswer {
    pub member: String,
    pub allowed: bool,
    pub conditions: Vec<Condition>,
    pub explanation: String,
}

/// One endpoint of a query after resolution.
#[derive(Debug, Clone)]
struct Endpoint {
    /// What to show for it.
    label: String,
    /// The address traffic comes from or goes to.
    ip: IpAddr,
    /// The inventory node it is, if any (index into the augmented inventory).
    node: Option<usize>,
    /// True when it is a hypothetical node added for this query.
    hypothetical: bool,
    /// True when it was given as an address (a device of unknown identity).
    address: bool,
}

/// Answers queries for one policy and inventory; parse once, ask many times.
pub struct Simulator<'p> {
    policy: &'p Policy,
    inventory: Inventory,
    /// The compilation for the inventory as given, reused by every query that adds no
    /// hypothetical node.
    base: Compiled<'p>,
    addresses_as_nodes: bool,
    lookup: Lookup,
    /// What the inventory tells for certain.
    facts: Facts,
    /// Nodes from this index on are hypothetical (added for the policy's tests).
    real_nodes: usize,
}

/// Both endpoints of a query and the compilation that holds them.
struct Resolved<'s, 'p> {
    src: Endpoint,
    dst: Endpoint,
    compiled: std::borrow::Cow<'s, Compiled<'p>>,
}

/// One set of assumptions tried by [`Simulator::first_alternative`], with its resolution;
/// the callback that accepts it leaves the rules that allow more in `matches`.
struct Alternative<'a, 's, 'p> {
    assumption: &'a [Assumption],
    resolved: Resolved<'s, 'p>,
    matches: Vec<Origin>,
}

/// Lookups into the simulator's inventory, so that resolving an endpoint does not scan
/// every node.
struct Lookup {
    /// The first node with each name.
    by_name: HashMap<String, usize>,
    /// Every node address with its node, sorted (the first node of an address comes first).
    /// A sorted `Vec` as `Compiled` keeps them, rather than one more hash map type in the
    /// WASM module.
    by_addr: Vec<(IpAddr, usize)>,
    /// The nodes that advertise routes.
    advertisers: Vec<usize>,
    /// The first node with exactly one tag, by that tag (lowercase), and every tag a node
    /// has (endpoints resolve without scanning the nodes: `reach --to` resolves thousands).
    single_tag: HashMap<String, usize>,
    tags: HashMap<String, ()>,
    /// The first user of each login (lowercase).
    user_by_login: HashMap<String, usize>,
    /// The first untagged node of each owner (`Node::user`, as written).
    untagged_by_owner: HashMap<String, usize>,
    /// Every node's IPv4 address, sorted (for the free address of a hypothetical node).
    ipv4s: Vec<u32>,
}

impl Lookup {
    fn new(inventory: &Inventory) -> Self {
        let mut lookup = Lookup {
            by_name: HashMap::default(),
            by_addr: Vec::new(),
            advertisers: Vec::new(),
            single_tag: HashMap::default(),
            tags: HashMap::default(),
            user_by_login: HashMap::default(),
            untagged_by_owner: HashMap::default(),
            ipv4s: Vec::new(),
        };
        for (i, node) in inventory.nodes.iter().enumerate() {
            lookup.by_name.entry(node.name.clone()).or_insert(i);
            if let Some(v4) = node.ipv4 {
                lookup.by_addr.push((IpAddr::V4(v4), i));
            }
            if let Some(v6) = node.ipv6 {
                lookup.by_addr.push((IpAddr::V6(v6), i));
            }
            if !node.routable_ips.is_empty() {
                lookup.advertisers.push(i);
            }
            for tag in &node.tags {
                lookup.tags.insert(tag.to_ascii_lowercase(), ());
            }
            if let [tag] = node.tags.as_slice() {
                lookup
                    .single_tag
                    .entry(tag.to_ascii_lowercase())
                    .or_insert(i);
            }
            if let Some(owner) = node.user.as_ref().filter(|_| node.tags.is_empty()) {
                lookup.untagged_by_owner.entry(owner.clone()).or_insert(i);
            }
            lookup.ipv4s.extend(node.ipv4.map(u32::from));
        }
        for (i, user) in inventory.users.iter().enumerate() {
            let login = user.login().to_ascii_lowercase();
            lookup.user_by_login.entry(login).or_insert(i);
        }
        lookup.by_addr.sort_unstable();
        lookup.ipv4s.sort_unstable();
        lookup
    }
}

/// Does `node` have address `ip`? (Two comparisons, not a chain of options: module size.)
fn has_addr(node: &Node, ip: IpAddr) -> bool {
    node.ipv4.map(IpAddr::V4) == Some(ip) || node.ipv6.map(IpAddr::V6) == Some(ip)
}

impl<'p> Simulator<'p> {
    pub fn new(policy: &'p Policy, inventory: Option<&Inventory>) -> Self {
        let facts = Facts::of(inventory);
        let inventory = inventory.cloned().unwrap_or_default();
        let base = Compiled::new(policy, &inventory);
        let lookup = Lookup::new(&inventory);
        Self {
            policy,
            real_nodes: inventory.nodes.len(),
            inventory,
            base,
            addresses_as_nodes: false,
            lookup,
            facts,
        }
    }

    /// A simulator with the semantics of the policy's `tests`: a destination address that no
    /// node has is a hypothetical node of its own, whether or not a route covers it, so the
    /// answer depends on the policy alone and not on route approval.
    ///
    /// `inventory` is `original` (the user's, if any) plus hypothetical nodes appended for
    /// the tests' identities ([`with_identities`]).
    pub fn for_tests(
        policy: &'p Policy,
        inventory: &Inventory,
        original: Option<&Inventory>,
    ) -> Self {
        let mut simulator = Self::new(policy, Some(inventory));
        simulator.addresses_as_nodes = true;
        simulator.facts = Facts::of(original);
        simulator.real_nodes = original.map_or(0, |i| i.nodes.len());
        simulator
    }

    /// The condition under which the `ssh` rules give `src` the verdict `want` for `login`
    /// at `dst`, when that depends on a fact the simulator does not have (for `sshTests`).
    pub(crate) fn ssh_verdict_if(
        &self,
        src: &str,
        dst: &str,
        login: &str,
        want: crate::compile::SshVerdict,
    ) -> Option<Condition> {
        let resolved = self.resolve(src, dst, &[]).ok()?;
        let login = login.trimmed();
        let conditions = self.first_alternative(
            &resolved,
            [Part::SshSrc, Part::SshDst],
            src,
            dst,
            &mut |alternative| {
                let r = &alternative.resolved;
                let (Some(s), Some(d)) = (r.src.node, r.dst.node) else {
                    return false;
                };
                r.compiled.ssh_decision(s, d, login).verdict == want
            },
        )?;
        let mut texts = Vec::new();
        for c in &conditions {
            texts.push(c.text.as_str());
        }
        Some(Condition {
            kind: conditions.first().map_or("owner", |c| c.kind),
            text: texts.join(" and "),
        })
    }

    /// Tries the sets of assumptions for `parts` in order, each on its own resolution of
    /// `src` to `dst`, until `found` gives the rules that allow more under one; returns that
    /// set's conditions. One loop for queries, listings and `sshTests`.
    // Generic, not `dyn`: a vtable keeps the query engine in the review module, which
    // otherwise drops it (+6.8 KB there, for 0.35 KB less here). A `dyn` callback must
    // also keep to signatures the module already calls indirectly, or wasm-bindgen's
    // unused closure shims stay in (1.7 KB).
    fn first_alternative(
        &self,
        resolved: &Resolved<'_, '_>,
        parts: [Part; 2],
        src: &str,
        dst: &str,
        found: &mut impl FnMut(&mut Alternative<'_, '_, 'p>) -> bool,
    ) -> Option<Vec<Condition>> {
        for assumption in self.assumptions(resolved, parts) {
            let Ok(alternative) = self.resolve(src, dst, &assumption) else {
                continue;
            };
            let mut alternative = Alternative {
                assumption: &assumption,
                resolved: alternative,
                matches: Vec::new(),
            };
            if found(&mut alternative) {
                return Some(self.conditions(
                    &assumption,
                    &alternative.resolved,
                    &alternative.matches,
                    src,
                    resolved.dst.ip,
                ));
            }
        }
        None
    }

    /// The source alone (as both endpoints), for listings.
    fn resolve_source(&self, src: &str) -> Result<Resolved<'_, 'p>, QueryError> {
        let mut overlay = Overlay::new(&self.inventory, &self.lookup, self.addresses_as_nodes);
        let mut end = endpoint(self.policy, &mut overlay, src.trimmed(), Side::Source)?;
        end.hypothetical |= end.node.is_some_and(|i| i >= self.real_nodes);
        let compiled = self.compiled_for(&overlay);
        Ok(Resolved {
            src: end.clone(),
            dst: end,
            compiled,
        })
    }

    /// Checks that a destination names something.
    fn resolve_destination(&self, dst: &str) -> Result<(), QueryError> {
        let mut overlay = Overlay::new(&self.inventory, &self.lookup, self.addresses_as_nodes);
        endpoint(self.policy, &mut overlay, dst.trimmed(), Side::Destination).map(|_| ())
    }

    /// Resolves both endpoints, with `assumption` made true.
    fn resolve(
        &self,
        src: &str,
        dst: &str,
        assumption: &[Assumption],
    ) -> Result<Resolved<'_, 'p>, QueryError> {
        let mut overlay = Overlay::new(&self.inventory, &self.lookup, self.addresses_as_nodes);
        let mut src_end = endpoint(self.policy, &mut overlay, src.trimmed(), Side::Source)?;
        // A router carries the destination: its address needs no device of its own.
        if assumption.iter().any(Assumption::routes) {
            overlay.addresses_as_nodes = false;
        }
        let mut dst_end = endpoint(self.policy, &mut overlay, dst.trimmed(), Side::Destination)?;
        for end in [&mut src_end, &mut dst_end] {
            end.hypothetical |= end.node.is_some_and(|i| i >= self.real_nodes);
        }
        let compiled = if assumption.is_empty() {
            self.compiled_for(&overlay)
        } else {
            let mut inventory = overlay
                .augmented()
                .unwrap_or_else(|| self.inventory.clone());
            for one in assumption {
                one.apply(&mut inventory, src_end.node, dst_end.ip, dst_end.node);
            }
            std::borrow::Cow::Owned(Compiled::new(self.policy, &inventory))
        };
        Ok(Resolved {
            src: src_end,
            dst: dst_end,
            compiled,
        })
    }

    /// The conditions of a set of assumptions.
    fn conditions(
        &self,
        assumption: &[Assumption],
        resolved: &Resolved<'_, '_>,
        matches: &[Origin],
        src: &str,
        dst: IpAddr,
    ) -> Vec<Condition> {
        let mut out = Vec::new();
        for a in assumption {
            out.push(a.condition(self.policy, &resolved.compiled, matches, src, dst));
        }
        out
    }

    /// The sets of assumptions worth trying when the known facts deny a query, one at a
    /// time and then two of different kinds (a role and the destination's identity, ...):
    /// only facts the simulator does not have, and only those that could change the answer.
    fn assumptions(&self, resolved: &Resolved<'_, '_>, parts: [Part; 2]) -> Vec<Vec<Assumption>> {
        let single = self.single_assumptions(resolved, parts);
        let kind = |a: &Assumption| match a {
            Assumption::SrcRole(_) => 0,
            Assumption::SrcIs(_) => 1,
            Assumption::DstIs(_) => 2,
            Assumption::Router(_) | Assumption::ExitNode(_) => 3,
        };
        let mut out: Vec<Vec<Assumption>> = Vec::new();
        for a in &single {
            out.push(vec![a.clone()]);
        }
        for (i, a) in single.iter().enumerate() {
            for b in single.iter().skip(i + 1) {
                if kind(a) != kind(b) && out.len() < MAX_ASSUMPTIONS {
                    out.push(vec![a.clone(), b.clone()]);
                }
            }
        }
        out
    }

    /// The single assumptions worth trying (see [`Self::assumptions`]).
    fn single_assumptions(&self, resolved: &Resolved<'_, '_>, parts: [Part; 2]) -> Vec<Assumption> {
        let mut out = Vec::new();
        let nodes = &resolved.compiled.resolver.nodes;
        let src = resolved.src.node.and_then(|i| nodes.get(i));
        let dst = resolved.dst.node.and_then(|i| nodes.get(i));
        let [src_part, dst_part] = parts;
        if !self.facts.roles && src.is_some_and(|n| n.login.is_some() && n.roles.is_empty()) {
            for role in assume::named_roles(self.policy, src_part) {
                out.push(Assumption::SrcRole(role));
            }
        }
        let bare = |n: &NodeInfo| n.login.is_none() && !n.is_tagged();
        if !self.facts.nodes {
            if resolved.src.hypothetical && src.is_some_and(bare) && resolved.src.address {
                for id in assume::named_identities(self.policy, src_part) {
                    out.push(Assumption::SrcIs(id));
                }
            }
            if resolved.dst.hypothetical && dst.is_some_and(bare) && resolved.dst.address {
                for id in assume::named_identities(self.policy, dst_part) {
                    out.push(Assumption::DstIs(id));
                }
            }
        }
        let ip = resolved.dst.ip;
        let outside = !tailnet_v4().contains(ip) && !crate::addr::tailnet_v6().contains(ip);
        let tests = self.addresses_as_nodes;
        if outside && (resolved.dst.node.is_none() || tests) && (!self.facts.routes || tests) {
            let via = assume::via_tags(&resolved.compiled, ip);
            if !tests {
                out.push(Assumption::Router(None));
            }
            for t in &via {
                out.push(Assumption::Router(Some(t.clone())));
            }
            if !tests && assume::in_internet(ip) {
                out.push(Assumption::ExitNode(None));
                for t in via {
                    out.push(Assumption::ExitNode(Some(t)));
                }
            }
        }
        out
    }

    /// The identities a source stands for: each member of a group, each tag for
    /// `autogroup:tagged`, the users of an autogroup or domain (those the inventory lists,
    /// or those the policy names plus one it does not). One identity for other sources.
    fn members(&self, src: &str) -> Result<Vec<String>, QueryError> {
        let src = src.trimmed();
        if self.lookup.by_name.contains_key(src) {
            return Ok(vec![src.to_owned()]);
        }
        let logins = || -> Vec<String> {
            if self.facts.nodes && !self.inventory.unknown.users && !self.inventory.users.is_empty()
            {
                let mut out = Vec::new();
                for u in &self.inventory.users {
                    out.push(u.login().to_owned());
                }
                return out;
            }
            let mut out: Vec<String> = Vec::new();
            let mut ids = assume::named_identities(self.policy, Part::Src);
            ids.extend(assume::named_identities(self.policy, Part::Dst));
            for id in ids {
                if let assume::Identity::User(login) = id
                    && login != MEMBER
                    && !out.contains(&login)
                {
                    out.push(login);
                }
            }
            out.push(MEMBER.to_owned());
            out
        };
        let mut out: Vec<String> = match Selector::parse(src) {
            Selector::Group(group) => {
                let entry = self
                    .policy
                    .groups
                    .iter()
                    .find(|g| g.name.value == group)
                    .ok_or_else(|| QueryError::UnknownSource(src.to_owned()))?;
                let mut members: Vec<String> = Vec::new();
                for m in entry.values.iter() {
                    members.push(m.value.trimmed().to_owned());
                }
                if members.is_empty() {
                    return Err(QueryError::EmptyGroup(group.to_owned()));
                }
                members
            }
            Selector::Autogroup(Autogroup::Member) => logins(),
            Selector::UserDomain(domain) => {
                let mut users: Vec<String> = logins();
                users.retain(|l| {
                    l.rsplit_once('@')
                        .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
                });
                if !self.facts.nodes || users.is_empty() {
                    users.push(format!("{MEMBER}@{domain}"));
                }
                users
            }
            Selector::Autogroup(Autogroup::Tagged) => {
                let mut tags: Vec<String> = Vec::new();
                for t in self.policy.tag_owners.iter() {
                    tags.push(t.name.value.trimmed().to_owned());
                }
                if tags.is_empty() {
                    return Err(QueryError::UnknownSource(src.to_owned()));
                }
                tags
            }
            Selector::Autogroup(a) if a.is_role() && self.facts.roles => {
                let role = a.role().unwrap_or_default();
                let mut users: Vec<String> = Vec::new();
                for u in &self.inventory.users {
                    if u.roles.iter().any(|r| r == role) {
                        users.push(u.login().to_owned());
                    }
                }
                if users.is_empty() {
                    vec![src.to_owned()]
                } else {
                    users
                }
            }
            _ => vec![src.to_owned()],
        };
        out.truncate(MAX_MEMBERS);
        Ok(out)
    }

    /// The compilation an overlay needs: the cached one, or a fresh one with the
    /// hypothetical nodes.
    fn compiled_for(&self, overlay: &Overlay<'_>) -> std::borrow::Cow<'_, Compiled<'p>> {
        match overlay.augmented() {
            None => std::borrow::Cow::Borrowed(&self.base),
            Some(inventory) => std::borrow::Cow::Owned(Compiled::new(self.policy, &inventory)),
        }
    }

    /// Can `src` reach `dst` (`host:port`) over `proto` (default `tcp`)? A source that
    /// stands for several identities is answered for each ([`Answer::members`]); an answer
    /// that depends on facts the inventory lacks is allowed on [`Answer::conditions`].
    pub fn query(&self, src: &str, dst: &str, proto: Option<&str>) -> Result<Answer, QueryError> {
        let proto_text = proto.unwrap_or("tcp").trimmed();
        let protocol = parse_protocol(proto_text)
            .map_err(|_| QueryError::BadProtocol(proto_text.to_owned()))?;
        let (host, port_text) = split_destination_and_port(dst.trimmed())
            .map_err(|_| QueryError::BadDestination(dst.to_owned()))?;
        let port: u16 = port_text
            .trimmed()
            .parse()
            .map_err(|_| QueryError::BadPort(port_text.to_owned()))?;

        let members = if self.addresses_as_nodes {
            vec![src.trimmed().to_owned()]
        } else {
            self.members(src)?
        };
        let mut answers = Vec::new();
        for member in &members {
            let mut answer = self.query_one(member, &host, port, protocol)?;
            answer.src = src.to_owned();
            answer.dst = dst.to_owned();
            answers.push((member.clone(), answer));
        }
        Ok(aggregate(src, answers))
    }

    /// One identity's answer, under the known facts or else the first assumption that
    /// allows it.
    fn query_one(
        &self,
        src: &str,
        host: &str,
        port: u16,
        protocol: Protocol,
    ) -> Result<Answer, QueryError> {
        if let Selector::Service(name) = Selector::parse(host) {
            return self.service_answer(src, name, port, protocol);
        }
        let resolved = self.resolve(src, host, &[])?;
        let ask = |r: &Resolved<'_, '_>| {
            evaluate(&r.compiled, &r.src, &r.dst, port, protocol, src, host, "")
        };
        let mut answer = ask(&resolved);
        if !answer.allowed {
            let mut explained = false;
            let mut allowing = None;
            let denial = &mut answer.explanation;
            let conditions = self.first_alternative(
                &resolved,
                [Part::Src, Part::Dst],
                src,
                host,
                &mut |alternative| {
                    let routes = alternative.assumption.iter().any(Assumption::routes);
                    let mut other = ask(&alternative.resolved);
                    if !other.allowed {
                        // Without any router the denial says only that; a router's denial
                        // names the rules.
                        if routes && !explained {
                            *denial = std::mem::take(&mut other.explanation);
                            explained = true;
                        }
                        return false;
                    }
                    if routes {
                        other.via_node = None;
                    }
                    alternative.matches = other.matches.clone();
                    allowing = Some(other);
                    true
                },
            );
            if let (Some(conditions), Some(mut other)) = (conditions, allowing) {
                let rules = describe_all(&other.matches);
                let mut texts = Vec::new();
                for c in &conditions {
                    texts.push(c.text.as_str());
                }
                other.explanation = format!("allowed by {rules} if {}", texts.join(" and "));
                other.conditions.extend(conditions);
                answer = other;
            }
        }
        if answer.allowed {
            device_conditions(&resolved, &mut answer.conditions);
            if let Some(posture) = posture_condition(self.policy, &answer.matches) {
                answer.explanation = format!("{} if {}", answer.explanation, posture.text);
                answer.conditions.push(posture);
            }
        }
        Ok(answer)
    }

    /// Can `src` open a Tailscale SSH session to `dst` (a node, tag, user, host alias or IP)
    /// as `login`? The verdict comes from the `ssh` rules (check before accept); the answer
    /// also says whether the network rules let the source reach port 22, which a session
    /// needs too.
    pub fn ssh_query(&self, src: &str, dst: &str, login: &str) -> Result<SshAnswer, QueryError> {
        let members = self.members(src)?;
        let mut answers = Vec::new();
        for member in &members {
            answers.push((member.clone(), self.ssh_one(member, dst, login)?));
        }
        if answers.len() == 1
            && let Some((_, mut answer)) = answers.pop()
        {
            answer.src = src.to_owned();
            return Ok(answer);
        }
        let mut combined = answers
            .iter()
            .find(|(_, a)| !a.allowed)
            .or(answers.first())
            .map(|(_, a)| a.clone())
            .ok_or_else(|| QueryError::UnknownSource(src.to_owned()))?;
        combined.src = src.to_owned();
        combined.allowed = answers.iter().all(|(_, a)| a.allowed);
        combined.explanation = members_explanation(src, &members::explained(&answers));
        for (_, answer) in &answers {
            for condition in &answer.conditions {
                if !combined.conditions.contains(condition) {
                    combined.conditions.push(condition.clone());
                }
            }
        }
        combined.members = answers
            .into_iter()
            .map(|(member, a)| MemberAnswer {
                member: member_label(&member),
                allowed: a.allowed,
                conditions: a.conditions,
                explanation: a.explanation,
            })
            .collect();
        Ok(combined)
    }

    /// A query to a Tailscale Service (`svc:name`), from the rules that name it.
    fn service_answer(
        &self,
        src: &str,
        name: &str,
        port: u16,
        protocol: Protocol,
    ) -> Result<Answer, QueryError> {
        let mut overlay = Overlay::new(&self.inventory, &self.lookup, self.addresses_as_nodes);
        let mut src_end = endpoint(self.policy, &mut overlay, src.trimmed(), Side::Source)?;
        src_end.hypothetical |= src_end.node.is_some_and(|i| i >= self.real_nodes);
        let compiled = self.compiled_for(&overlay);
        let mut matches = service::service_matches(&compiled, src_end.ip, name, port, protocol);
        // The service as the API lists it (`vip-services` in the inventory), if it does.
        let known = service::known(&self.inventory, name);
        let unserved = known.filter(|s| !service::serves(s, port, protocol));
        if unserved.is_some() {
            matches.clear();
        }
        let allowed = !matches.is_empty();
        let mut conditions = Vec::new();
        let explanation = if let Some(service) = unserved {
            format!(
                "denied: `{name}` does not serve {protocol} port {port} (its ports in the inventory: {})",
                service.ports.join(", ")
            )
        } else if allowed {
            let rules = describe_all(&matches);
            let condition = service::service_condition(&compiled, name, known.is_some());
            let text = format!("allowed by {rules} if {}", condition.text);
            if src_end.hypothetical {
                conditions.push(Condition {
                    kind: "device",
                    text: format!(
                        "a device with the identity `{}` is in the tailnet",
                        src_end.label
                    ),
                });
            }
            conditions.push(condition);
            text
        } else {
            format!(
                "denied: no rule lets {} reach `{name}` on {protocol} port {port}",
                src_end.label
            )
        };
        Ok(Answer {
            allowed,
            src: src.to_owned(),
            dst: name.to_owned(),
            proto: protocol.to_string(),
            matches,
            explanation,
            via_node: None,
            src_addr: src_end.ip.to_string(),
            src_hypothetical: src_end.hypothetical,
            // The service's address when the inventory has it (IPv4 first).
            dst_addr: known
                .and_then(|s| s.addrs.iter().min_by_key(|a| a.is_ipv6()))
                .map_or_else(|| name.to_owned(), ToString::to_string),
            conditions,
            members: Vec::new(),
        })
    }

    /// One identity's SSH answer, under the known facts or the first assumption that opens
    /// a session.
    fn ssh_one(&self, src: &str, dst: &str, login: &str) -> Result<SshAnswer, QueryError> {
        let resolved = self.resolve(src, dst, &[])?;
        let mut answer = self.ssh_answer(&resolved, src, dst, login)?;
        if !answer.allowed {
            let mut tried = self.assumptions(&resolved, [Part::SshSrc, Part::SshDst]);
            for more in self.assumptions(&resolved, [Part::Src, Part::Dst]) {
                if !tried.contains(&more) {
                    tried.push(more);
                }
            }
            for assumption in tried {
                let Ok(alternative) = self.resolve(src, dst, &assumption) else {
                    continue;
                };
                let Ok(mut other) = self.ssh_answer(&alternative, src, dst, login) else {
                    continue;
                };
                if other.allowed {
                    let conditions =
                        self.conditions(&assumption, &alternative, &[], src, resolved.dst.ip);
                    let texts: Vec<&str> = conditions.iter().map(|c| c.text.as_str()).collect();
                    other.explanation = format!("{} if {}", other.explanation, texts.join(" and "));
                    other.conditions.extend(conditions);
                    answer = other;
                    break;
                }
            }
        }
        if answer.allowed {
            device_conditions(&resolved, &mut answer.conditions);
        }
        Ok(answer)
    }

    fn ssh_answer(
        &self,
        resolved: &Resolved<'_, '_>,
        src: &str,
        dst: &str,
        login: &str,
    ) -> Result<SshAnswer, QueryError> {
        let (src_end, dst_end, compiled) = (&resolved.src, &resolved.dst, &resolved.compiled);
        let (Some(src_node), Some(dst_node)) = (src_end.node, dst_end.node) else {
            return Err(QueryError::UnknownDestination(dst.to_owned()));
        };
        let decision = compiled.ssh_decision(src_node, dst_node, login.trimmed());
        let port_22 = evaluate(
            compiled,
            src_end,
            dst_end,
            22,
            Protocol::TCP,
            src,
            dst,
            "tcp",
        );
        let verdict = match decision.verdict {
            crate::compile::SshVerdict::Accept => "accept",
            crate::compile::SshVerdict::Check => "check",
            crate::compile::SshVerdict::Deny => "deny",
        };
        let rule_span = decision
            .rule
            .and_then(|i| self.policy.ssh.get(i))
            .map(|r| r.span);
        let explanation = match (&decision.rule, port_22.allowed) {
            (Some(rule), true) => format!(
                "{verdict} by ssh[{rule}] as local user {}; port 22 is reachable ({})",
                crate::goquote::quote(decision.local_user.as_deref().unwrap_or("")),
                port_22.explanation
            ),
            (Some(rule), false) => format!(
                "{verdict} by ssh[{rule}], but the network rules do not allow port 22 ({}), so no session can open",
                port_22.explanation
            ),
            (None, _) => format!(
                "deny: no ssh rule lets {} log in as {}",
                src_end.label,
                crate::goquote::quote(login)
            ),
        };
        Ok(SshAnswer {
            allowed: decision.verdict != crate::compile::SshVerdict::Deny && port_22.allowed,
            verdict,
            src: src.to_owned(),
            dst: dst.to_owned(),
            login: login.to_owned(),
            local_user: decision.local_user,
            rule: decision.rule,
            rule_span,
            network_allowed: port_22.allowed,
            explanation,
            conditions: Vec::new(),
            members: Vec::new(),
        })
    }
}

/// The answer to an SSH query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshAnswer {
    /// A session can open: an accept or check rule admits the login and port 22 is reachable.
    pub allowed: bool,
    /// `accept`, `check` or `deny`, from the `ssh` rules alone (what `sshTests` assert).
    pub verdict: &'static str,
    pub src: String,
    pub dst: String,
    pub login: String,
    pub local_user: Option<String>,
    /// Index in `ssh` of the deciding rule.
    pub rule: Option<usize>,
    #[serde(skip)]
    pub rule_span: Option<crate::span::Span>,
    /// Whether the network rules allow TCP port 22.
    pub network_allowed: bool,
    pub explanation: String,
    /// What the tailnet must also have (see [`Answer::conditions`]).
    pub conditions: Vec<Condition>,
    /// For a source that stands for several identities: the answer for each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberAnswer>,
}

/// One line of a reachability listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reach {
    /// A node name, or an address range for sources that are not nodes.
    pub name: String,
    /// For subnet or internet destinations: the address range reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    pub ports: Vec<String>,
    pub protocols: Vec<String>,
    pub rules: Vec<Origin>,
    /// What the tailnet must also have for this line to hold (see [`Answer::conditions`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// For a source that stands for several identities: those this line holds for, when
    /// not all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// The inventory plus a hypothetical node for every identity in `texts` (tags, users,
/// groups, tailnet addresses) that no node has exactly, so that one compilation serves every
/// query about them. Texts that name nothing are skipped.
pub fn with_identities<'t>(
    policy: &Policy,
    inventory: &Inventory,
    texts: impl IntoIterator<Item = &'t str>,
) -> Inventory {
    let lookup = Lookup::new(inventory);
    let mut overlay = Overlay::new(inventory, &lookup, false);
    for text in texts {
        let _ = endpoint(policy, &mut overlay, text.trimmed(), Side::Destination);
    }
    overlay.augmented().unwrap_or_else(|| inventory.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Embedders answer queries from several threads with one simulator.
    #[test]
    fn a_simulator_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Simulator<'static>>();
    }

    const DEPOT: &str = include_str!("../../../../fixtures/depot/policy.hujson");
    const DEPOT_INVENTORY: &str = include_str!("../../../../fixtures/depot/inventory.json");

    fn depot() -> (Policy, Inventory) {
        let inventory = Inventory::parse(DEPOT_INVENTORY).unwrap_or_default();
        let options = crate::api::CheckOptions::default();
        let policy = crate::api::parse_valid(DEPOT, &options).ok();
        (
            policy.unwrap_or_else(|| panic!("the Depot policy is valid")),
            inventory,
        )
    }

    fn kinds(answer: &Answer) -> Vec<&'static str> {
        answer.conditions.iter().map(|c| c.kind).collect()
    }

    /// A rule gated by device posture (its own `srcPosture`, or `defaultSrcPosture`) allows
    /// only devices that meet it: the answer says so, since no inventory has the attributes.
    /// A rule without any posture allows the traffic outright.
    #[test]
    fn device_posture_is_a_condition_of_the_answer_and_the_listing() {
        let text = r#"{
            "postures": {"posture:mac": ["node:os == 'macos'"], "posture:win": ["node:os == 'windows'"]},
            "defaultSrcPosture": ["posture:win"],
            "acls": [
                {"action": "accept", "src": ["alice@example.com"], "dst": ["10.0.0.1:22"], "srcPosture": ["posture:mac"]},
                {"action": "accept", "src": ["alice@example.com"], "dst": ["10.0.0.2:22"]},
            ],
            "grants": [{"src": ["alice@example.com"], "dst": ["10.0.0.3"], "ip": ["tcp:443"]}],
        }"#;
        let options = crate::api::CheckOptions::default();
        let Ok(policy) = crate::api::parse_valid(text, &options) else {
            panic!("the policy is valid")
        };
        let simulator = Simulator::new(&policy, None);
        let posture = |dst: &str| -> Option<String> {
            let answer = simulator.query("alice@example.com", dst, Some("tcp"));
            let answer = answer.unwrap_or_else(|e| panic!("{dst}: {e}"));
            assert!(answer.allowed, "{dst}: {}", answer.explanation);
            answer
                .conditions
                .iter()
                .find(|c| c.kind == "posture")
                .map(|c| c.text.clone())
        };
        let own = posture("10.0.0.1:22").unwrap_or_default();
        assert!(
            own.contains("`posture:mac` (acls[0]'s srcPosture)"),
            "{own}"
        );
        let default = posture("10.0.0.2:22").unwrap_or_default();
        assert!(
            default.contains("`posture:win` (acls[1]'s defaultSrcPosture)"),
            "{default}"
        );
        // The default applies to grants without their own posture too.
        assert!(posture("10.0.0.3:443").is_some());

        let ungated = text.replace(r#""defaultSrcPosture": ["posture:win"],"#, "");
        let Ok(policy) = crate::api::parse_valid(&ungated, &options) else {
            panic!("the policy is valid")
        };
        let simulator = Simulator::new(&policy, None);
        let answer = simulator.query("alice@example.com", "10.0.0.2:22", Some("tcp"));
        assert!(answer.is_ok_and(|a| a.allowed && !kinds(&a).contains(&"posture")));
        let listing = simulator.reachable_from("alice@example.com");
        let listing = listing.unwrap_or_else(|e| panic!("{e}"));
        let gated: Vec<&str> = listing
            .iter()
            .filter(|r| r.conditions.iter().any(|c| c.kind == "posture"))
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(gated, ["10.0.0.1"], "{listing:#?}");
    }

    /// A fact the inventory's source lacks makes the answer conditional, as without one;
    /// the same inventory with the fact decides it.
    #[test]
    fn unknown_route_approval_makes_a_routed_answer_conditional() {
        let (policy, mut inventory) = depot();
        for node in &mut inventory.nodes {
            node.approved_routes.clear();
            node.routable_ips.clear();
        }
        let known = Simulator::new(&policy, Some(&inventory));
        let answer = known.query("tag:depot-runner", "192.0.2.10:443", None);
        assert!(answer.is_ok_and(|a| !a.allowed && a.conditions.is_empty()));
        inventory.unknown.route_approval = true;
        let unknown = Simulator::new(&policy, Some(&inventory));
        let answer = unknown.query("tag:depot-runner", "192.0.2.10:443", None);
        assert!(answer.is_ok_and(|a| a.allowed && kinds(&a) == ["route"]));
    }

    #[test]
    fn unknown_roles_make_a_role_rule_conditional() {
        let text =
            r#"{"acls": [{"action": "accept", "src": ["autogroup:admin"], "dst": ["*:22"]}]}"#;
        let policy = crate::api::parse_valid(text, &crate::api::CheckOptions::default()).ok();
        let Some(policy) = policy else {
            panic!("valid policy")
        };
        let (_, mut inventory) = depot();
        // bob has no role in the inventory: denied while roles are known.
        let known = Simulator::new(&policy, Some(&inventory));
        let answer = known.query("bob@example.com", "database:22", None);
        assert!(answer.is_ok_and(|a| !a.allowed));
        inventory.unknown.roles = true;
        let unknown = Simulator::new(&policy, Some(&inventory));
        let answer = unknown.query("bob@example.com", "database:22", None);
        assert!(answer.is_ok_and(|a| a.allowed
            && kinds(&a) == ["role"]
            && a.explanation.ends_with("if `bob@example.com` is an admin")));
        // alice is an admin in the inventory: decided either way.
        let answer = unknown.query("alice@example.com", "database:22", None);
        assert!(answer.is_ok_and(|a| a.allowed && a.conditions.is_empty()));
    }

    #[test]
    fn a_denial_without_an_inventory_holds_for_every_tailnet() {
        let (policy, _) = depot();
        let simulator = Simulator::new(&policy, None);
        // No rule lets a runner reach tag:web, whatever the tailnet has.
        let answer = simulator.query("tag:depot-runner", "tag:web:443", None);
        assert!(answer.is_ok_and(|a| !a.allowed && a.conditions.is_empty()));
        // The monitoring rule names tag:database; the host alias's device may carry it.
        let answer = simulator.query("tag:monitoring", "database:9187", None);
        assert!(answer.is_ok_and(|a| a.allowed && kinds(&a) == ["device", "device", "owner"]));
    }
}
