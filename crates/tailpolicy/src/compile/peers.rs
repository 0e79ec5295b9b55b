//! Peer visibility and the extra AllowedIPs (subnet and exit routes) each node gets for
//! each peer.
//!
//! Node A sees node B when either may send to the other under the compiled filters. B's
//! approved subnet route is offered to A when A may reach something inside it through B;
//! B's exit routes (`0.0.0.0/0`, `::/0`) when A may reach the internet (or `*`) through B.

use ipnet::IpNet;

use super::{Compiled, NodeRule};
use crate::addr::internet;
use crate::resolve::{Addr, NodeInfo, is_exit_route};

/// One visible peer and the routes beyond its own addresses the viewer may use through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub index: usize,
    pub name: String,
    pub routes: Vec<IpNet>,
}

impl Compiled<'_> {
    /// Every node's rules, computed once.
    pub fn all_node_rules(&self) -> Vec<Vec<NodeRule>> {
        (0..self.resolver.nodes.len())
            .map(|i| self.node_rules(i))
            .collect()
    }

    /// The peers node `viewer` sees, given every node's rules (from [`all_node_rules`]).
    ///
    /// [`all_node_rules`]: Compiled::all_node_rules
    pub fn peers_of(&self, viewer: usize, rules: &[Vec<NodeRule>]) -> Vec<Peer> {
        let nodes = &self.resolver.nodes;
        let Some(me) = nodes.get(viewer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (index, peer) in nodes.iter().enumerate() {
            if index == viewer {
                continue;
            }
            let peer_rules = rules.get(index).map(Vec::as_slice).unwrap_or_default();
            let my_rules = rules.get(viewer).map(Vec::as_slice).unwrap_or_default();
            let outbound: Vec<&NodeRule> = peer_rules
                .iter()
                .filter(|r| r.cap.is_none() && sends_from(r, me))
                .collect();
            let inbound = my_rules
                .iter()
                .any(|r| r.cap.is_none() && sends_from(r, peer));
            if outbound.is_empty() && !inbound {
                continue;
            }
            out.push(Peer {
                index,
                name: peer.name.clone(),
                routes: offered_routes(peer, &outbound),
            });
        }
        out
    }
}

fn sends_from(rule: &NodeRule, node: &NodeInfo) -> bool {
    rule.src
        .iter()
        .any(|addr| node.addrs.iter().any(|a| addr.contains(*a)))
}

/// The routes of `peer` that rules from the viewer reach into.
fn offered_routes(peer: &NodeInfo, outbound: &[&NodeRule]) -> Vec<IpNet> {
    let mut routes = Vec::new();
    let dsts = || {
        outbound
            .iter()
            .flat_map(|r| r.dsts.iter().map(|(addr, _)| addr))
    };
    for route in &peer.subnet_routes {
        if dsts().any(|addr| *addr == Addr::Any || addr.to_set().overlaps_net(route)) {
            routes.push(*route);
        }
    }
    if peer.exit_node {
        let internet = internet();
        let uses_exit = dsts().any(|addr| *addr == Addr::Any || addr.to_set().is_subset(&internet));
        if uses_exit {
            routes.extend(peer.advertised.iter().filter(|r| is_exit_route(r)).copied());
        }
    }
    routes
}
