//! The baseline of the query benchmark: a naive evaluator of `acls` and `grants`.

use std::net::IpAddr;

use ipnet::IpNet;
use tailpolicy::inventory::{Inventory, Node, User};

use crate::strip_hujson;
use crate::tailnet::NON_INTERNET_V4;

/// A deliberately naive reference evaluator of `acls` and `grants`, the baseline of the query
/// benchmark (the same approach as the differential test in `crates/tailpolicy/tests`).
///
/// It reads the policy as plain JSON and, for every query, loops over every rule: does a
/// source selector name the source node (identity, or its address in a host/CIDR), does a
/// destination selector cover the destination address (tags, users, groups and autogroups by
/// scanning the nodes for one with that address; hosts and CIDRs literally; `*` anything;
/// `autogroup:self` the source's user's untagged devices), do the protocol and port fit?
/// Subnet addresses need an approved route and internet addresses an approved exit node.
/// ICMP is allowed when a rule lets the source reach the address, whatever its ports and
/// protocol (as on the client).
///
/// Supports the selectors [`generate_tailnet`] writes: `*`, users, groups, tags,
/// `autogroup:member`, `autogroup:tagged`, `autogroup:self`, `autogroup:internet`, hosts and
/// IPv4 CIDRs; no `via`, app grants, ipsets or IPv6 literals.
pub struct NaiveEvaluator<'a> {
    policy: serde_json::Value,
    inventory: &'a Inventory,
}

fn net_contains(text: &str, ip: IpAddr) -> bool {
    if let Ok(net) = text.parse::<IpNet>() {
        return net.contains(&ip);
    }
    text.parse::<IpAddr>().is_ok_and(|a| a == ip)
}

fn is_internet(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !NON_INTERNET_V4.iter().any(|(base, len)| {
            let mask = u32::MAX << (32 - u32::from(*len));
            u32::from(*base) & mask == u32::from(v4) & mask
        }),
        IpAddr::V6(v6) => v6.segments()[0] & 0xe000 == 0x2000,
    }
}

fn ports_contain(spec: &str, port: u16) -> bool {
    spec.split(',').any(|part| {
        let part = part.trim();
        if part == "*" {
            return true;
        }
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        match (first.parse::<u16>(), last.parse::<u16>()) {
            (Ok(a), Ok(b)) => a <= port && port <= b,
            _ => false,
        }
    })
}

fn proto_number(name: &str) -> Option<u8> {
    match name {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        other => other.parse().ok(),
    }
}

impl<'a> NaiveEvaluator<'a> {
    pub fn new(policy_text: &str, inventory: &'a Inventory) -> Self {
        let policy = serde_json::from_str(&strip_hujson(policy_text)).unwrap_or_default();
        Self { policy, inventory }
    }

    fn strings(value: &serde_json::Value) -> impl Iterator<Item = &str> {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
    }

    fn node_has_ip(node: &Node, ip: IpAddr) -> bool {
        node.ipv4.map(IpAddr::V4) == Some(ip) || node.ipv6.map(IpAddr::V6) == Some(ip)
    }

    /// The login of a user-owned, untagged node.
    fn login(&self, node: &Node) -> Option<&'a str> {
        if !node.tags.is_empty() {
            return None;
        }
        let owner = node.user.as_deref()?;
        self.inventory
            .users
            .iter()
            .find(|u| u.name == owner)
            .map(User::login)
    }

    /// Does `selector` name `node`, by identity or address?
    fn names(&self, selector: &str, node: &Node) -> bool {
        if selector == "*" {
            return true;
        }
        if let Some(tag) = selector.strip_prefix("tag:") {
            return node
                .tags
                .iter()
                .any(|t| t.strip_prefix("tag:") == Some(tag));
        }
        if selector == "autogroup:tagged" {
            return !node.tags.is_empty();
        }
        if selector == "autogroup:member" {
            return self.login(node).is_some();
        }
        if selector.starts_with("group:") {
            let Some(login) = self.login(node) else {
                return false;
            };
            return Self::strings(&self.policy["groups"][selector]).any(|m| m == login);
        }
        if selector.contains('@') {
            return self.login(node) == Some(selector);
        }
        let text = self.policy["hosts"][selector].as_str().unwrap_or(selector);
        [node.ipv4.map(IpAddr::V4), node.ipv6.map(IpAddr::V6)]
            .into_iter()
            .flatten()
            .any(|ip| net_contains(text, ip))
    }

    /// Does destination `selector` cover `ip`, for traffic from `src`?
    fn covers(&self, selector: &str, ip: IpAddr, src: &Node) -> bool {
        match selector {
            "*" => true,
            "autogroup:internet" => is_internet(ip),
            "autogroup:self" => {
                let login = self.login(src);
                login.is_some()
                    && self
                        .inventory
                        .nodes
                        .iter()
                        .any(|n| Self::node_has_ip(n, ip) && self.login(n) == login)
            }
            _ if selector.starts_with("tag:")
                || selector.starts_with("group:")
                || selector.starts_with("autogroup:")
                || selector.contains('@') =>
            {
                self.inventory
                    .nodes
                    .iter()
                    .any(|n| Self::node_has_ip(n, ip) && self.names(selector, n))
            }
            _ => {
                let text = self.policy["hosts"][selector].as_str().unwrap_or(selector);
                net_contains(text, ip)
            }
        }
    }

    /// Does a node take packets for `ip`: its owner, an approved subnet route, or (for
    /// internet addresses) an approved exit node?
    fn delivered(&self, ip: IpAddr) -> bool {
        let nodes = &self.inventory.nodes;
        nodes.iter().any(|n| Self::node_has_ip(n, ip))
            || nodes.iter().any(|n| {
                n.approved_routes
                    .iter()
                    .any(|r| r.prefix_len() > 0 && r.contains(&ip))
            })
            || (is_internet(ip)
                && nodes
                    .iter()
                    .any(|n| n.approved_routes.iter().any(|r| r.prefix_len() == 0)))
    }

    /// May node `src` send to `dst`:`port` over IP protocol `proto` (6, 17 or 1)?
    pub fn allows(&self, src: usize, dst: IpAddr, port: u16, proto: u8) -> bool {
        let Some(src) = self.inventory.nodes.get(src) else {
            return false;
        };
        if !self.delivered(dst) {
            return false;
        }
        let icmp = proto == 1;
        for acl in self.policy["acls"].as_array().into_iter().flatten() {
            if !Self::strings(&acl["src"]).any(|s| self.names(s, src)) {
                continue;
            }
            let rule_proto = acl["proto"].as_str().and_then(proto_number);
            let proto_ok = icmp || rule_proto.is_none_or(|p| p == proto);
            for entry in Self::strings(&acl["dst"]) {
                let Some((selector, ports)) = entry.rsplit_once(':') else {
                    continue;
                };
                if self.covers(selector, dst, src)
                    && (icmp || (proto_ok && ports_contain(ports, port)))
                {
                    return true;
                }
            }
        }
        for grant in self.policy["grants"].as_array().into_iter().flatten() {
            if !Self::strings(&grant["src"]).any(|s| self.names(s, src)) {
                continue;
            }
            if !Self::strings(&grant["dst"]).any(|d| self.covers(d, dst, src)) {
                continue;
            }
            let ip_ok = Self::strings(&grant["ip"]).any(|entry| {
                if icmp {
                    return true;
                }
                match entry.split_once(':') {
                    None => ports_contain(entry, port),
                    Some((p, ports)) => {
                        proto_number(p) == Some(proto) && ports_contain(ports, port)
                    }
                }
            });
            if ip_ok {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check_options, generate_queries, generate_tailnet};

    /// The baseline of the query benchmark gives the simulator's answers.
    #[test]
    fn naive_evaluator_agrees_with_the_simulator() {
        let (text, inventory) = generate_tailnet(400, 80);
        let options = check_options(&inventory);
        let policy = tailpolicy::parse_valid(&text, &options).unwrap();
        let naive = NaiveEvaluator::new(&text, &inventory);
        let sim = tailpolicy::query::Simulator::new(&policy, Some(&inventory));
        let mut allowed = 0;
        let queries = generate_queries(&inventory, 2000);
        for q in &queries {
            let answer = sim
                .query(
                    &inventory.nodes[q.src].name,
                    &q.dst_text(),
                    Some(q.proto_name()),
                )
                .unwrap();
            assert_eq!(
                answer.allowed,
                naive.allows(q.src, q.dst, q.port, q.proto),
                "{q:?} {}",
                answer.explanation
            );
            allowed += usize::from(answer.allowed);
        }
        assert!(allowed > 20, "{allowed}");
    }
}
