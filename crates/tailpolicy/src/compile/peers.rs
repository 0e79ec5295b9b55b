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

/// What every node's peer computation shares, computed once per policy.
struct PeerContext {
    rules: Vec<Vec<NodeRule>>,
    /// Per node, the nodes that a rule delivered to it lets send to it, or that it lets
    /// send (both directions make two nodes peers). Sorted, without duplicates.
    linked: Vec<Vec<usize>>,
    /// The distinct approved subnet routes.
    routes: Vec<IpNet>,
    /// Whether any route or exit node exists (else no route analysis is needed).
    any_routing: bool,
    /// Each piece's sources as one set (only when `any_routing`).
    piece_sources: Vec<crate::addr::IpSet>,
}

impl Compiled<'_> {
    /// Every node's rules, computed once.
    pub fn all_node_rules(&self) -> Vec<Vec<NodeRule>> {
        (0..self.resolver.nodes.len())
            .map(|i| self.node_rules(i))
            .collect()
    }

    fn peer_context(&self, rules: Vec<Vec<NodeRule>>) -> PeerContext {
        let nodes = &self.resolver.nodes;
        // Node addresses sorted, to find the nodes inside a source range by binary search.
        let mut by_addr: Vec<(std::net::IpAddr, usize)> = nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.addrs.iter().map(move |a| (*a, i)))
            .collect();
        by_addr.sort_unstable();
        let routers: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.subnet_routes.is_empty())
            .map(|(i, _)| i)
            .collect();
        let mut linked: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (receiver, node_rules) in rules.iter().enumerate() {
            let sources = crate::resolve::union_of(node_rules.iter().flat_map(|r| r.src.iter()));
            if sources.is_empty() {
                continue;
            }
            let mut senders: Vec<usize> = Vec::new();
            for range in sources.ranges() {
                let start = by_addr.partition_point(|(a, _)| *a < range.first());
                for &(addr, sender) in by_addr.get(start..).unwrap_or_default() {
                    if addr > range.last() {
                        break;
                    }
                    senders.push(sender);
                }
            }
            // A router speaks for the subnets it routes.
            for &router in &routers {
                if nodes
                    .get(router)
                    .is_some_and(|n| n.subnet_routes.iter().any(|r| sources.overlaps_net(r)))
                {
                    senders.push(router);
                }
            }
            for sender in senders {
                if sender == receiver {
                    continue;
                }
                if let Some(list) = linked.get_mut(receiver) {
                    list.push(sender);
                }
                if let Some(list) = linked.get_mut(sender) {
                    list.push(receiver);
                }
            }
        }
        for list in &mut linked {
            list.sort_unstable();
            list.dedup();
        }
        let mut routes: Vec<IpNet> = Vec::new();
        for node in nodes {
            for route in &node.subnet_routes {
                if !routes.contains(route) {
                    routes.push(*route);
                }
            }
        }
        let any_routing = !routes.is_empty() || nodes.iter().any(|n| n.exit_node);
        let piece_sources = if any_routing {
            self.pieces.iter().map(Piece::src_set).collect()
        } else {
            Vec::new()
        };
        PeerContext {
            rules,
            linked,
            routes,
            any_routing,
            piece_sources,
        }
    }

    /// Every node's peers. Visibility is symmetric: when A sees B, B sees A (with no extra
    /// routes unless B's own analysis offers some).
    pub fn peer_map(&self) -> Vec<Vec<Peer>> {
        let context = self.peer_context(self.all_node_rules());
        let mut map: Vec<Vec<Peer>> = (0..self.resolver.nodes.len())
            .map(|viewer| self.peers_with(viewer, &context))
            .collect();
        let pairs: Vec<(usize, usize)> = map
            .iter()
            .enumerate()
            .flat_map(|(viewer, peers)| peers.iter().map(move |p| (viewer, p.index)))
            .collect();
        let mut missing: Vec<Vec<usize>> = vec![Vec::new(); map.len()];
        for (viewer, peer) in pairs {
            if let (Some(list), Some(extra)) = (map.get(peer), missing.get_mut(peer))
                && list.binary_search_by_key(&viewer, |p| p.index).is_err()
            {
                extra.push(viewer);
            }
        }
        for (list, extra) in map.iter_mut().zip(missing) {
            for viewer in extra {
                if let Some(node) = self.resolver.nodes.get(viewer) {
                    list.push(Peer {
                        index: viewer,
                        name: node.name.clone(),
                        routes: Vec::new(),
                    });
                }
            }
            list.sort_by_key(|p| p.index);
            list.dedup_by_key(|p| p.index);
        }
        map
    }

    /// The peers node `viewer` sees by its own rules and pieces, given every node's rules
    /// (from [`all_node_rules`]); [`peer_map`] adds the reverse direction and shares the
    /// work between nodes.
    ///
    /// [`all_node_rules`]: Compiled::all_node_rules
    /// [`peer_map`]: Compiled::peer_map
    pub fn peers_of(&self, viewer: usize, rules: &[Vec<NodeRule>]) -> Vec<Peer> {
        let context = self.peer_context(rules.to_vec());
        self.peers_with(viewer, &context)
    }

    fn peers_with(&self, viewer: usize, context: &PeerContext) -> Vec<Peer> {
        let nodes = &self.resolver.nodes;
        let Some(me) = nodes.get(viewer) else {
            return Vec::new();
        };
        let my_rules = context
            .rules
            .get(viewer)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let my_pieces: Vec<&Piece> = if context.any_routing {
            self.pieces
                .iter()
                .zip(&context.piece_sources)
                .filter(|(_, sources)| {
                    me.addrs.iter().any(|a| sources.contains(*a))
                        || me.subnet_routes.iter().any(|r| sources.overlaps_net(r))
                })
                .map(|(piece, _)| piece)
                .collect()
        } else {
            Vec::new()
        };
        let (offers, via_candidates) = if context.routes.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            self.route_offers(viewer, &context.routes, &my_pieces, my_rules)
        };
        let linked = context
            .linked
            .get(viewer)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut candidates: Vec<usize> = linked.to_vec();
        candidates.extend(offers.iter().map(|(router, _)| *router));
        candidates.extend(via_candidates.iter().copied());
        if context.any_routing {
            candidates.extend(
                nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.exit_node)
                    .map(|(i, _)| i),
            );
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::new();
        for index in candidates {
            if index == viewer {
                continue;
            }
            let Some(peer) = nodes.get(index) else {
                continue;
            };
            let mut routes: Vec<IpNet> = offers
                .iter()
                .filter(|(router, _)| *router == index)
                .map(|(_, route)| *route)
                .collect();
            if peer.exit_node && self.uses_exit_node(peer, &my_pieces) {
                routes.extend(peer.advertised.iter().filter(|r| is_exit_route(r)).copied());
            }
            let visible = linked.binary_search(&index).is_ok()
                || !routes.is_empty()
                || via_candidates.contains(&index);
            if visible {
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
        routes: &[IpNet],
        my_pieces: &[&Piece],
        my_rules: &[NodeRule],
    ) -> (Vec<(usize, IpNet)>, Vec<usize>) {
        let mut offers = Vec::new();
        let mut via_candidates = Vec::new();
        for &route in routes {
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

/// The destinations a piece names (capability destinations included).
fn piece_dsts(piece: &Piece) -> Box<dyn Iterator<Item = &Addr> + '_> {
    match &piece.kind {
        PieceKind::Network { dsts } => Box::new(dsts.iter().map(|(addr, _)| addr)),
        PieceKind::Capability { dsts, .. } => Box::new(dsts.iter()),
        PieceKind::SelfDevices { .. } => Box::new(std::iter::empty()),
    }
}
