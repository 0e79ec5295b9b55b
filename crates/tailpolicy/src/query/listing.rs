//! Reachability listings, built from the same resolution and rule reading as a query, so
//! that every line agrees with [`Simulator::query`]: `reach --from` lists each node (and,
//! for routers and exit nodes, the part of each allowed destination they carry) and, when
//! the inventory does not list every node, each destination the rules name (host aliases,
//! tags, groups, users, CIDRs, autogroups); `reach --to` lists each node and each source
//! the rules name (`*`, users, groups, tags, ...) that can reach the destination.

use std::net::IpAddr;

use crate::addr::{IpSet, internet};
use crate::compile::{Compiled, Origin};
use crate::ports::{PortRange, split_destination_and_port};
use crate::resolve::{Addr, set_addrs, union_of};
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::assume::{Part, posture_condition};
use super::{
    Condition, Endpoint, QueryError, Reach, Resolved, RuleView, Simulator, describe_ports,
    device_conditions, each_rule, protocol_names, receivers,
};

/// One allowing rule for a pair of endpoints: its protocols and a destination port range.
struct Grant {
    origin: Origin,
    protocols: Option<Vec<u8>>,
    ports: PortRange,
}

/// Every rule delivered to `receivers` that lets `src` send to `dst`, with its ports.
fn grants(compiled: &Compiled<'_>, src: &Endpoint, dst: IpAddr, receivers: &[usize]) -> Vec<Grant> {
    let mut out = Vec::new();
    each_rule(compiled, receivers, src.ip, &mut |rule| {
        if rule.cap || !rule.src_ok {
            return;
        }
        for (addr, ports) in rule.dsts {
            if addr.contains(dst) {
                out.push(Grant::of(rule, *ports));
            }
        }
    });
    out
}

impl Grant {
    fn of(rule: &RuleView<'_>, ports: PortRange) -> Self {
        Grant {
            origin: rule.piece.origin,
            protocols: rule.protocols.map(<[u8]>::to_vec),
            ports,
        }
    }
}

/// Lines being gathered: one per (name, addr, protocols, conditions), ports merged.
#[derive(Default)]
struct Lines {
    lines: Vec<(Reach, Vec<(u32, u32)>)>,
    /// The lines of each name (a listing of a large tailnet has thousands of names).
    by_name: crate::fasthash::FastMap<String, Vec<usize>>,
}

impl Lines {
    fn add(&mut self, name: &str, addr: Option<String>, grant: &Grant, conditions: &[Condition]) {
        let protocols = protocol_names(grant.protocols.as_deref());
        let mut found = None;
        for &i in self.by_name.get(name).map_or(&[][..], Vec::as_slice) {
            if let Some((r, _)) = self.lines.get(i)
                && r.addr == addr
                && r.protocols == protocols
                && r.conditions == conditions
            {
                found = Some(i);
                break;
            }
        }
        let at = match found {
            Some(at) => at,
            None => {
                self.lines.push((
                    Reach {
                        name: name.to_owned(),
                        addr,
                        ports: Vec::new(),
                        protocols,
                        rules: Vec::new(),
                        conditions: conditions.to_vec(),
                        members: Vec::new(),
                    },
                    Vec::new(),
                ));
                let at = self.lines.len() - 1;
                self.by_name.entry(name.to_owned()).or_default().push(at);
                at
            }
        };
        let Some((reach, ports)) = self.lines.get_mut(at) else {
            return;
        };
        ports.push((u32::from(grant.ports.first), u32::from(grant.ports.last)));
        if !reach.rules.contains(&grant.origin) {
            reach.rules.push(grant.origin);
        }
    }

    fn finish(self) -> Vec<Reach> {
        let mut out = Vec::new();
        for (mut reach, ports) in self.lines {
            reach.ports = describe_ports(ports);
            out.push(reach);
        }
        out
    }
}

impl Simulator<'_> {
    /// Everything `src` can reach: each node with ports and protocols (routers and exit
    /// nodes also for the part of each allowed destination they carry) and, when the
    /// inventory may not list every node, each destination the rules name, with the
    /// conditions it needs. A source standing for several identities lists the union; a
    /// line that holds for only some names them in `members`.
    pub fn reachable_from(&self, src: &str) -> Result<Vec<Reach>, QueryError> {
        let members = self.members(src)?;
        let mut per_member = Vec::new();
        for member in &members {
            per_member.push(self.reachable_from_one(member)?);
        }
        Ok(merge_members(&members, per_member))
    }

    fn reachable_from_one(&self, src: &str) -> Result<Vec<Reach>, QueryError> {
        let mut lines = Lines::default();
        // The inventory's nodes, as the source's own compilation has them.
        let resolved = self.resolve_source(src)?;
        let compiled = &resolved.compiled;
        let nodes = &compiled.resolver.nodes;
        let mut routes = Vec::new();
        let mut own = Vec::new();
        for n in nodes {
            for r in &n.subnet_routes {
                routes.push(Addr::Net(*r));
            }
            for a in &n.addrs {
                own.push(ipnet::IpNet::from(*a));
            }
        }
        let routed: IpSet = union_of(routes.iter());
        let own = IpSet::from_nets(own);
        for (index, node) in nodes.iter().enumerate() {
            if index >= self.inventory.nodes.len() {
                continue;
            }
            // The source itself only for what it carries as a router.
            let itself = Some(index) == resolved.src.node;
            let Some(&ip) = node.addrs.first() else {
                continue;
            };
            let conditions = if index >= self.real_nodes {
                vec![Condition {
                    kind: "device",
                    text: format!("a device `{}` is in the tailnet", node.name),
                }]
            } else {
                Vec::new()
            };
            if !itself {
                for grant in grants(compiled, &resolved.src, ip, &[index]) {
                    self.add_line(&mut lines, &node.name, None, &grant, &conditions);
                }
            }
            // What it carries: the allowed destinations inside its approved routes (for an
            // exit node, in the internet outside every route and node), as its filter says.
            if node.subnet_routes.is_empty() && !node.exit_node {
                continue;
            }
            let mut carried: IpSet = node.subnet_routes.iter().copied().collect();
            if node.exit_node {
                carried.insert_set(&internet().difference(&routed));
            }
            let carried = carried.difference(&own);
            each_rule(compiled, &[index], resolved.src.ip, &mut |rule| {
                if rule.cap || !rule.src_ok {
                    return;
                }
                for (addr, ports) in rule.dsts {
                    let part = addr.to_set().intersection(&carried);
                    if !part.is_empty() {
                        let mut text: Vec<String> = Vec::new();
                        for a in &set_addrs(&part) {
                            text.push(a.wire());
                        }
                        let grant = Grant::of(rule, *ports);
                        self.add_line(&mut lines, &node.name, Some(text.join(",")), &grant, &[]);
                    }
                }
            });
        }
        if !self.facts.nodes || !self.facts.routes {
            for target in self.rule_targets(Part::Dst) {
                self.add_pair(&mut lines, src, &target, &target);
            }
        }
        Ok(lines.finish())
    }

    /// Everyone who can reach `dst` (`host` or `host:port`): each node and each source the
    /// rules name, with ports, protocols and conditions.
    pub fn reachable_to(&self, dst: &str) -> Result<Vec<Reach>, QueryError> {
        let (host, port) = match split_destination_and_port(dst.trimmed()) {
            Ok((host, port)) if port.parse::<u16>().is_ok() => {
                (host.into_owned(), port.parse::<u16>().ok())
            }
            _ => (dst.trimmed().to_owned(), None),
        };
        // Fails as a query would for a destination that names nothing.
        self.resolve_destination(&host)?;
        let mut lines = Lines::default();
        let mut names: Vec<String> = Vec::new();
        for node in &self.inventory.nodes {
            if node.name != host {
                names.push(node.name.clone());
            }
        }
        for name in &names {
            self.add_pair(&mut lines, name, &host, name);
        }
        let mut out = lines.finish();
        // A source that stands for several identities is listed for each, as a query answers
        // it; a line that holds for only some names them.
        for source in self.rule_targets(Part::Src) {
            if names.contains(&source) {
                continue;
            }
            let Ok(members) = self.members(&source) else {
                continue;
            };
            let mut per_member = Vec::new();
            for member in &members {
                let mut lines = Lines::default();
                self.add_pair(&mut lines, member, &host, &source);
                per_member.push(lines.finish());
            }
            out.extend(merge_members(&members, per_member));
        }
        if let Some(port) = port {
            out.retain_mut(|line| {
                let keep = line.ports.iter().any(|p| port_in(p, port));
                line.ports = vec![port.to_string()];
                keep
            });
        }
        Ok(out)
    }

    /// Lines for one pair (`src` to `dst`), named `name`: the rules allowing it under the
    /// known facts, and under the first assumption set that allows more.
    fn add_pair(&self, lines: &mut Lines, src: &str, dst: &str, name: &str) {
        let Ok(resolved) = self.resolve(src, dst, &[]) else {
            return;
        };
        if resolved.src.node.is_some() && resolved.src.node == resolved.dst.node {
            return;
        }
        let found = self.pair_grants(&resolved);
        let mut conditions = Vec::new();
        device_conditions(&resolved, &mut conditions);
        for grant in &found {
            self.add_line(lines, name, None, grant, &conditions);
        }
        let mut known: Vec<(Origin, u16, u16)> = Vec::new();
        for g in &found {
            known.push((g.origin, g.ports.first, g.ports.last));
        }
        let mut more = Vec::new();
        let assumed = self.first_alternative(
            &resolved,
            [Part::Src, Part::Dst],
            src,
            dst,
            &mut |alternative| {
                for grant in self.pair_grants(&alternative.resolved) {
                    if !known.contains(&(grant.origin, grant.ports.first, grant.ports.last)) {
                        more.push(grant);
                    }
                }
                for grant in &more {
                    alternative.matches.push(grant.origin);
                }
                !more.is_empty()
            },
        );
        if let Some(assumed) = assumed {
            let mut conditions = Vec::new();
            device_conditions(&resolved, &mut conditions);
            conditions.extend(assumed);
            for grant in &more {
                self.add_line(lines, name, None, grant, &conditions);
            }
        }
    }

    /// One grant as a line, with the device posture its rule asks for as a condition.
    fn add_line(
        &self,
        lines: &mut Lines,
        name: &str,
        addr: Option<String>,
        grant: &Grant,
        conditions: &[Condition],
    ) {
        match posture_condition(self.policy, std::slice::from_ref(&grant.origin)) {
            Some(posture) => {
                let mut with_posture = conditions.to_vec();
                with_posture.push(posture);
                lines.add(name, addr, grant, &with_posture);
            }
            None => lines.add(name, addr, grant, conditions),
        }
    }

    fn pair_grants(&self, resolved: &Resolved<'_, '_>) -> Vec<Grant> {
        let receivers = receivers(&resolved.compiled, &resolved.dst);
        grants(
            &resolved.compiled,
            &resolved.src,
            resolved.dst.ip,
            &receivers,
        )
    }

    /// The selectors the rules name on one side, each once, that a query can take.
    fn rule_targets(&self, part: Part) -> Vec<String> {
        let policy = self.policy;
        let part = match part {
            Part::Src | Part::SshSrc => Part::Src,
            Part::Dst | Part::SshDst => Part::Dst,
        };
        let mut texts: Vec<String> = Vec::new();
        for (value, acl_dst) in super::assume::part_values(policy, part) {
            if !acl_dst {
                texts.push(value.trimmed().to_owned());
            } else if let Ok((host, _)) = split_destination_and_port(value.trimmed()) {
                texts.push(host.into_owned());
            }
        }
        if policy.acls.is_none() && policy.grants.is_none() {
            texts.push("*".to_owned());
        }
        let mut out: Vec<String> = Vec::new();
        for text in texts {
            let usable = !matches!(
                Selector::parse(&text),
                Selector::Autogroup(Autogroup::SelfDevices | Autogroup::Internet)
                    | Selector::Service(_)
            );
            if usable && !out.contains(&text) {
                out.push(text);
            }
        }
        out
    }
}

/// Does a port text (`*`, `80`, `80-90`) hold `port`?
fn port_in(text: &str, port: u16) -> bool {
    if text == "*" {
        return true;
    }
    match text.split_once('-') {
        Some((a, b)) => {
            a.parse::<u16>().is_ok_and(|a| a <= port) && b.parse::<u16>().is_ok_and(|b| port <= b)
        }
        None => text.parse::<u16>() == Ok(port),
    }
}

/// The union of each member's lines; a line not every member has names those who do.
fn merge_members(members: &[String], per_member: Vec<Vec<Reach>>) -> Vec<Reach> {
    if per_member.len() <= 1 {
        return per_member.into_iter().next().unwrap_or_default();
    }
    let mut out: Vec<(Reach, Vec<String>)> = Vec::new();
    let mut per_member = per_member.into_iter();
    for member in members {
        let Some(lines) = per_member.next() else {
            break;
        };
        for line in lines {
            let label = super::member_label(member);
            match out.iter().position(|(r, _)| *r == line) {
                Some(at) => {
                    if let Some((_, who)) = out.get_mut(at) {
                        who.push(label);
                    }
                }
                None => out.push((line, vec![label])),
            }
        }
    }
    let mut merged = Vec::new();
    for (mut line, who) in out {
        if who.len() < members.len() {
            line.members = who;
        }
        merged.push(line);
    }
    merged
}
