//! Peer visibility and the extra AllowedIPs (subnet and exit routes) each node gets for
//! each peer, as in Tailscale's netmaps.
//!
//! * Node A sees node B when a compiled rule lets either send to the other (capability
//!   rules included; a router speaks for the subnets it routes), or when B offers A a route.
//! * B offers A its approved subnet route R when B is R's primary router (the first router,
//!   in inventory order, with R approved and, for `via` grants, a via tag) and either a
//!   rule lets A send into R, or a rule lets R send to A (replies from the subnet).
//! * B offers A its exit routes when B is an approved exit node and a rule lets A send to
//!   `*` or the internet through it.

use ipnet::IpNet;

use super::{Compiled, NodeRule, Piece, PieceKind};
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

    /// Every node's peers. Visibility is symmetric: when A sees B, B sees A (with no extra
    /// routes unless B's own analysis offers some).
    pub fn peer_map(&self) -> Vec<Vec<Peer>> {
        let rules = self.all_node_rules();
        let mut map: Vec<Vec<Peer>> = (0..self.resolver.nodes.len())
            .map(|viewer| self.peers_of(viewer, &rules))
            .collect();
        let pairs: Vec<(usize, usize)> = map
            .iter()
            .enumerate()
            .flat_map(|(viewer, peers)| peers.iter().map(move |p| (viewer, p.index)))
            .collect();
        for (viewer, peer) in pairs {
            let name = self.resolver.nodes.get(viewer).map(|n| n.name.clone());
            if let (Some(list), Some(name)) = (map.get_mut(peer), name)
                && !list.iter().any(|p| p.index == viewer)
            {
                list.push(Peer {
                    index: viewer,
                    name,
                    routes: Vec::new(),
                });
            }
        }
        for list in &mut map {
            list.sort_by_key(|p| p.index);
        }
        map
    }

    /// The peers node `viewer` sees by its own rules and pieces, given every node's rules
    /// (from [`all_node_rules`]); [`peer_map`] adds the reverse direction.
    ///
    /// [`peer_map`]: Compiled::peer_map
    ///
    /// [`all_node_rules`]: Compiled::all_node_rules
    pub fn peers_of(&self, viewer: usize, rules: &[Vec<NodeRule>]) -> Vec<Peer> {
        let nodes = &self.resolver.nodes;
        let Some(me) = nodes.get(viewer) else {
            return Vec::new();
        };
        let my_rules = rules.get(viewer).map(Vec::as_slice).unwrap_or_default();
        let my_pieces: Vec<&Piece> = self
            .pieces
            .iter()
            .filter(|p| p.src.iter().any(|s| speaks_for(s, me)))
            .collect();
        let (offers, via_candidates) = self.route_offers(viewer, &my_pieces, my_rules);
        let mut out = Vec::new();
        for (index, peer) in nodes.iter().enumerate() {
            if index == viewer {
                continue;
            }
            let peer_rules = rules.get(index).map(Vec::as_slice).unwrap_or_default();
            let outbound = peer_rules.iter().any(|r| sends_from(r, me));
            let inbound = my_rules.iter().any(|r| sends_from(r, peer));
            let mut routes: Vec<IpNet> = offers
                .iter()
                .filter(|(router, _)| *router == index)
                .map(|(_, route)| *route)
                .collect();
            if peer.exit_node && self.uses_exit_node(peer, &my_pieces) {
                routes.extend(peer.advertised.iter().filter(|r| is_exit_route(r)).copied());
            }
            if outbound || inbound || !routes.is_empty() || via_candidates.contains(&index) {
                out.push(Peer {
                    index,
                    name: peer.name.clone(),
                    routes,
                });
            }
        }
        // A standby router for a prefix is offered the prefix through the primary it sees.
        for route in &me.subnet_routes {
            if let Some(primary) = self.primary_router(route, &[]) {
                if primary == viewer {
                    continue;
                }
                if let Some(peer) = out.iter_mut().find(|p| p.index == primary)
                    && !peer.routes.contains(route)
                {
                    peer.routes.push(*route);
                }
            }
        }
        out
    }

    /// Which router offers the viewer each subnet route, and the `via` routers it may use.
    ///
    /// A route reached by a grant without `via` (or by replies from the subnet) goes through
    /// its primary router; one reached only by `via` grants goes through the first router
    /// with one of the via tags.
    fn route_offers(
        &self,
        viewer: usize,
        my_pieces: &[&Piece],
        my_rules: &[NodeRule],
    ) -> (Vec<(usize, IpNet)>, Vec<usize>) {
        let mut routes: Vec<IpNet> = Vec::new();
        for node in &self.resolver.nodes {
            for route in &node.subnet_routes {
                if !routes.contains(route) {
                    routes.push(*route);
                }
            }
        }
        let mut offers = Vec::new();
        let mut via_candidates = Vec::new();
        for route in routes {
            let reaches = |p: &&&Piece| {
                piece_dsts(p).any(|d| *d == Addr::Any || d.to_set().overlaps_net(&route))
            };
            let direct = my_pieces
                .iter()
                .filter(|p| p.via.is_empty())
                .any(|p| reaches(&p))
                || my_rules
                    .iter()
                    .any(|r| r.src.iter().any(|s| s.to_set().overlaps_net(&route)));
            let router = if direct {
                self.primary_router(&route, &[])
            } else {
                let via_pieces: Vec<&&Piece> = my_pieces
                    .iter()
                    .filter(|p| !p.via.is_empty())
                    .filter(|p| reaches(p))
                    .collect();
                for piece in &via_pieces {
                    for (index, node) in self.resolver.nodes.iter().enumerate() {
                        if node.subnet_routes.contains(&route)
                            && piece.via.iter().any(|t| node.has_tag(t))
                            && !via_candidates.contains(&index)
                        {
                            via_candidates.push(index);
                        }
                    }
                }
                via_pieces
                    .first()
                    .and_then(|p| self.primary_router(&route, &p.via))
            };
            if let Some(router) = router.filter(|&r| r != viewer) {
                offers.push((router, route));
            }
        }
        via_candidates.retain(|&i| i != viewer);
        (offers, via_candidates)
    }

    fn uses_exit_node(&self, peer: &NodeInfo, my_pieces: &[&Piece]) -> bool {
        let internet = internet();
        my_pieces.iter().any(|p| {
            (p.via.is_empty() || p.via.iter().any(|t| peer.has_tag(t)))
                && piece_dsts(p).any(|d| *d == Addr::Any || d.to_set().overlaps(&internet))
        })
    }

    /// The router that carries `route` among those with it approved (and one of the `via`
    /// tags, when given): the one the inventory marks primary, else the first in inventory
    /// order.
    pub fn primary_router(&self, route: &IpNet, via: &[String]) -> Option<usize> {
        let candidates: Vec<usize> = self
            .resolver
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.subnet_routes.contains(route)
                    && (via.is_empty() || via.iter().any(|t| n.has_tag(t)))
            })
            .map(|(i, _)| i)
            .collect();
        candidates
            .iter()
            .copied()
            .find(|&i| {
                self.resolver
                    .nodes
                    .get(i)
                    .is_some_and(|n| n.primary_routes.contains(route))
            })
            .or_else(|| candidates.first().copied())
    }
}

fn sends_from(rule: &NodeRule, node: &NodeInfo) -> bool {
    rule.src.iter().any(|addr| speaks_for(addr, node))
}

/// A source entry covers a node when it holds one of the node's addresses or overlaps a
/// subnet the node routes (the node forwards that subnet's traffic).
fn speaks_for(addr: &Addr, node: &NodeInfo) -> bool {
    node.addrs.iter().any(|a| addr.contains(*a))
        || (*addr != Addr::Any
            && node
                .subnet_routes
                .iter()
                .any(|r| addr.to_set().overlaps_net(r)))
}

/// The destinations a piece names (capability destinations included).
fn piece_dsts(piece: &Piece) -> Box<dyn Iterator<Item = &Addr> + '_> {
    match &piece.kind {
        PieceKind::Network { dsts } => Box::new(dsts.iter().map(|(addr, _)| addr)),
        PieceKind::Capability { dsts, .. } => Box::new(dsts.iter()),
        PieceKind::SelfDevices { .. } => Box::new(std::iter::empty()),
    }
}
