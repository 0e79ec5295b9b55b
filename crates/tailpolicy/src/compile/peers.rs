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

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Compiled, Delivered, NodeRule, Piece, PieceKind};
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
    /// Every node's rules and links, when computed for the whole tailnet at once
    /// ([`Compiled::peer_map`]); per-node computations work them out for one node.
    whole: Option<Whole>,
    /// The distinct approved subnet routes.
    routes: Vec<IpNet>,
    /// Whether any route or exit node exists (else no route analysis is needed).
    any_routing: bool,
    /// The nodes with an approved subnet route.
    routers: Vec<usize>,
    /// Per route in `routes`: its primary router (without `via`).
    primaries: Vec<Option<usize>>,
    /// Per piece: does a destination reach the internet (so an exit node)?
    piece_internet: Vec<bool>,
    /// Per network piece, built on first use: the nodes it is delivered to (its sources
    /// are the same at every one of them).
    receivers: Vec<std::sync::OnceLock<Vec<usize>>>,
    /// Per node, for whole-tailnet runs: the pieces whose sources hold one of its addresses
    /// or overlap one of its routes, in piece order (one node's are found by a scan).
    named: Option<Vec<Vec<u32>>>,
    /// Per piece, built on first use: which of `routes` its sources overlap, and which
    /// its destinations do.
    src_routes: Vec<std::sync::OnceLock<Vec<bool>>>,
    dst_routes: Vec<std::sync::OnceLock<Vec<bool>>>,
}

/// [`PeerContext`]'s whole-tailnet part.
struct Whole {
    rules: Vec<Vec<NodeRule>>,
    /// Per node, the nodes that a rule delivered to it lets send to it, or that it lets
    /// send (both directions make two nodes peers). Sorted, without duplicates.
    linked: Vec<Vec<usize>>,
}

impl Compiled<'_> {
    /// Every node's rules, computed once.
    pub fn all_node_rules(&self) -> Vec<Vec<NodeRule>> {
        let n = self.resolver.nodes.len();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(self.node_rules(i));
        }
        out
    }

    fn peer_context(&self, whole: bool) -> PeerContext {
        let nodes = &self.resolver.nodes;
        let mut routers: Vec<usize> = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            if !n.subnet_routes.is_empty() {
                routers.push(i);
            }
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
        let internet = internet();
        let mut primaries = Vec::with_capacity(routes.len());
        for r in &routes {
            primaries.push(self.primary_router(r, &[]));
        }
        let mut piece_internet = Vec::with_capacity(self.pieces.len());
        for p in &self.pieces {
            piece_internet
                .push(piece_dsts(p).any(|d| *d == Addr::Any || d.to_set().overlaps(&internet)));
        }
        let n = self.pieces.len();
        let mut context = PeerContext {
            whole: None,
            primaries,
            routes,
            any_routing,
            routers,
            piece_internet,
            receivers: vec![std::sync::OnceLock::new(); n],
            named: None,
            src_routes: vec![std::sync::OnceLock::new(); n],
            dst_routes: vec![std::sync::OnceLock::new(); n],
        };
        if whole {
            context.whole = Some(self.whole_links(&context));
        }
        context
    }

    /// Every node's rules and links, in one pass over the tailnet (the definition the
    /// per-node [`Compiled::linked_to`] is tested against).
    fn whole_links(&self, context: &PeerContext) -> Whole {
        let nodes = &self.resolver.nodes;
        let rules = self.all_node_rules();
        let mut linked: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (receiver, node_rules) in rules.iter().enumerate() {
            for sender in self.senders(receiver, node_rules, context) {
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
        Whole { rules, linked }
    }

    /// The nodes (other than `receiver`) that the rules delivered to `receiver` let send to
    /// it: those with an address among the rules' sources, and the routers of subnets among
    /// them (a router speaks for the subnets it routes).
    fn senders(
        &self,
        receiver: usize,
        node_rules: &[NodeRule],
        context: &PeerContext,
    ) -> Vec<usize> {
        let sources = crate::resolve::union_of(node_rules.iter().flat_map(|r| r.src.iter()));
        let mut senders: Vec<usize> = Vec::new();
        if sources.is_empty() {
            return senders;
        }
        let by_addr = &self.index.node_addrs;
        for range in sources.ranges() {
            let start = by_addr.partition_point(|(a, _)| *a < range.first());
            for &(addr, sender) in by_addr.get(start..).unwrap_or_default() {
                if addr > range.last() {
                    break;
                }
                senders.push(sender);
            }
        }
        for &router in &context.routers {
            if self
                .resolver
                .nodes
                .get(router)
                .is_some_and(|n| n.subnet_routes.iter().any(|r| sources.overlaps_net(r)))
            {
                senders.push(router);
            }
        }
        senders.retain(|&s| s != receiver);
        senders
    }

    /// The nodes a network piece is delivered to: those holding one of its destinations
    /// (unless it is `via` only), and the routers and exit nodes that carry one; with `via`,
    /// only nodes with a via tag. Sorted, without duplicates.
    fn network_receivers(&self, piece: &Piece, dsts: &[(Addr, super::PortRange)]) -> Vec<usize> {
        let nodes = &self.resolver.nodes;
        let via_only = !piece.via.is_empty();
        let mut out: Vec<usize> = Vec::new();
        if dsts.iter().any(|(a, _)| *a == Addr::Any) {
            out.extend(0..nodes.len());
        } else {
            let by_addr = &self.index.node_addrs;
            for (addr, _) in dsts {
                let (first, last) = match addr {
                    Addr::Any => continue,
                    Addr::Net(net) => (net.network(), net.broadcast()),
                    Addr::Range(range) => (range.first(), range.last()),
                };
                if !via_only {
                    let start = by_addr.partition_point(|(a, _)| *a < first);
                    let end = by_addr.partition_point(|(a, _)| *a <= last);
                    out.extend(
                        by_addr
                            .get(start..end)
                            .unwrap_or_default()
                            .iter()
                            .map(|&(_, i)| i),
                    );
                }
            }
            for &carrier in &self.index.carriers {
                if let Some(node) = nodes.get(carrier)
                    && dsts.iter().any(|(a, _)| super::carried_by(a, node))
                {
                    out.push(carrier);
                }
            }
            out.sort_unstable();
            out.dedup();
        }
        if via_only {
            out.retain(|&i| {
                nodes
                    .get(i)
                    .is_some_and(|n| piece.via.iter().any(|t| n.has_tag(t)))
            });
        }
        out
    }

    /// The nodes linked to `viewer` (see [`Whole::linked`]), worked out for that node
    /// alone: the senders its own rules name, and the receivers whose rules name it, found
    /// through the pieces whose sources hold one of its addresses or routes (`mine`).
    fn linked_to(
        &self,
        viewer: usize,
        my_rules: &[NodeRule],
        mine: &[usize],
        context: &PeerContext,
    ) -> Vec<usize> {
        let nodes = &self.resolver.nodes;
        let Some(me) = nodes.get(viewer) else {
            return Vec::new();
        };
        let mut linked = self.senders(viewer, my_rules, context);
        let names_me = |src: &[Addr]| {
            let set = crate::resolve::union_of(src);
            me.addrs.iter().any(|a| set.contains(*a))
                || me.subnet_routes.iter().any(|r| set.overlaps_net(r))
        };
        let by_addr = &self.index.node_addrs;
        let holding = |first: IpAddr, last: IpAddr| {
            let start = by_addr.partition_point(|(a, _)| *a < first);
            let end = by_addr.partition_point(|(a, _)| *a <= last);
            by_addr.get(start..end).unwrap_or_default()
        };
        for &p in mine {
            let Some(piece) = self.pieces.get(p) else {
                continue;
            };
            if let PieceKind::Network { dsts } = &piece.kind {
                // Delivered with the piece's own sources, which name the viewer.
                if let Some(cell) = context.receivers.get(p) {
                    let receivers = cell.get_or_init(|| self.network_receivers(piece, dsts));
                    linked.extend(receivers.iter().filter(|&&r| r != viewer));
                }
                continue;
            }
            let mut candidates: Vec<usize> = Vec::new();
            match &piece.kind {
                PieceKind::Capability {
                    dsts,
                    to_self: false,
                    ..
                } => {
                    for addr in dsts {
                        let (first, last) = match addr {
                            Addr::Any => {
                                candidates.extend(0..nodes.len());
                                break;
                            }
                            Addr::Net(net) => (net.network(), net.broadcast()),
                            Addr::Range(range) => (range.first(), range.last()),
                        };
                        for &(_, i) in holding(first, last) {
                            candidates.push(i);
                        }
                    }
                }
                _ => {
                    // Delivered to the devices of a user with a device among the sources.
                    let mut inside: Vec<&NodeInfo> = vec![me];
                    for route in &me.subnet_routes {
                        for &(_, i) in holding(route.network(), route.broadcast()) {
                            inside.extend(nodes.get(i));
                        }
                    }
                    let mut logins: Vec<&String> = Vec::new();
                    for node in inside {
                        if let Some(login) = node.login.as_ref().filter(|_| !node.is_tagged())
                            && !logins.contains(&login)
                        {
                            logins.push(login);
                        }
                    }
                    for login in logins {
                        if let Some(devices) = self.index.by_login.get(login) {
                            candidates.extend(devices.iter().copied());
                        }
                    }
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for receiver in candidates {
                if receiver == viewer {
                    continue;
                }
                let Some(node) = nodes.get(receiver) else {
                    continue;
                };
                let src_set = self.index.self_src.get(p).and_then(Option::as_ref);
                if self
                    .reduce_with(piece, node, src_set)
                    .iter()
                    .any(|rule| names_me(&rule.src))
                {
                    linked.push(receiver);
                }
            }
        }
        linked.sort_unstable();
        linked.dedup();
        linked
    }

    /// Every node's peers, computed for the whole tailnet at once (the definition that
    /// [`Compiled::peers`] and [`Compiled::for_each_peers`] are tested against).
    /// Visibility is symmetric: when A sees B, B sees A (with no extra routes unless B's own
    /// analysis offers some).
    pub fn peer_map(&self) -> Vec<Vec<Peer>> {
        let context = self.peer_context(true);
        let n = self.resolver.nodes.len();
        let mut map: Vec<Vec<Peer>> = Vec::with_capacity(n);
        for viewer in 0..n {
            map.push(self.own_peers(viewer, &context));
        }
        let mut missing: Vec<Vec<usize>> = vec![Vec::new(); map.len()];
        for (viewer, peers) in map.iter().enumerate() {
            for peer in peers {
                if let (Some(list), Some(extra)) =
                    (map.get(peer.index), missing.get_mut(peer.index))
                    && list.binary_search_by_key(&viewer, |p| p.index).is_err()
                {
                    extra.push(viewer);
                }
            }
        }
        for (list, extra) in map.iter_mut().zip(missing) {
            self.add_reverse(list, extra);
        }
        map
    }

    /// The peers of node `viewer` alone, without computing the rest of the tailnet's (for
    /// a router or exit node, every node's route analysis is needed to find who uses it).
    pub fn peers(&self, viewer: usize) -> Vec<Peer> {
        let mut context = self.peer_context(false);
        let extra = if self.is_carrier(viewer) {
            context.named = Some(self.pieces_naming_nodes(&context));
            let candidates = self.route_user_candidates(&context, viewer);
            self.route_users(&context, &[viewer], candidates)
                .into_iter()
                .next()
                .map(|(_, users)| users)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut list = self.own_peers(viewer, &context);
        self.add_reverse(&mut list, extra);
        list
    }

    /// The peers of each node in `order`, one node at a time, holding only the reverse
    /// links of routers and exit nodes between calls (the same lists as
    /// [`Compiled::peer_map`]).
    pub fn for_each_peers(&self, order: &[usize], mut f: impl FnMut(usize, Vec<Peer>)) {
        let mut context = self.peer_context(false);
        context.named = Some(self.pieces_naming_nodes(&context));
        let mut carriers: Vec<usize> = Vec::new();
        for i in 0..self.resolver.nodes.len() {
            if self.is_carrier(i) {
                carriers.push(i);
            }
        }
        let mut users = self.route_users(&context, &carriers, 0..self.resolver.nodes.len());
        for &viewer in order {
            let mut list = self.own_peers(viewer, &context);
            let extra = match carriers.binary_search(&viewer) {
                Ok(at) => users
                    .get_mut(at)
                    .map(|(_, u)| std::mem::take(u))
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            self.add_reverse(&mut list, extra);
            f(viewer, list);
        }
    }

    /// Can other nodes see this one through a route it offers (a subnet router, or an exit
    /// node)?
    fn is_carrier(&self, index: usize) -> bool {
        self.resolver
            .nodes
            .get(index)
            .is_some_and(|n| !n.subnet_routes.is_empty() || n.exit_node)
    }

    /// For each of `carriers` (sorted): the nodes among `viewers` whose own analysis shows
    /// it through a route, via candidacy or exit use (links are symmetric already, so only
    /// these make a node see a peer that does not see it).
    fn route_users(
        &self,
        context: &PeerContext,
        carriers: &[usize],
        viewers: impl IntoIterator<Item = usize>,
    ) -> Vec<(usize, Vec<usize>)> {
        let mut users: Vec<(usize, Vec<usize>)> = Vec::with_capacity(carriers.len());
        for &c in carriers {
            users.push((c, Vec::new()));
        }
        if carriers.is_empty() || !context.any_routing {
            return users;
        }
        for viewer in viewers {
            let mine = self.pieces_naming(viewer, context);
            for peer in self.routed_peers(viewer, &mine, context) {
                if let Ok(at) = carriers.binary_search(&peer)
                    && let Some((_, list)) = users.get_mut(at)
                {
                    list.push(viewer);
                }
            }
        }
        users
    }

    /// The only nodes whose route analysis can show `carrier` (see [`Self::route_users`]),
    /// so that one router's peers need not analyse every node: those named by the sources
    /// of a piece reaching one of its routes (or, for an exit node, the internet), and those
    /// receiving a piece whose sources overlap one of its routes (replies from the subnet).
    /// `context.named` must be set. Sorted, without duplicates.
    fn route_user_candidates(&self, context: &PeerContext, carrier: usize) -> Vec<usize> {
        let nodes = &self.resolver.nodes;
        let (Some(node), Some(named)) = (nodes.get(carrier), &context.named) else {
            return (0..nodes.len()).collect();
        };
        let routes = &node.subnet_routes;
        let mut reaching: Vec<bool> = Vec::with_capacity(self.pieces.len());
        for (p, piece) in self.pieces.iter().enumerate() {
            reaching.push(
                piece_dsts(piece).any(|d| routes.iter().any(|r| overlaps_route(d, r)))
                    || (node.exit_node && context.piece_internet.get(p) == Some(&true)),
            );
        }
        let mut out: Vec<usize> = Vec::new();
        for (v, pieces) in named.iter().enumerate() {
            if pieces
                .iter()
                .any(|&p| reaching.get(p as usize) == Some(&true))
            {
                out.push(v);
            }
        }
        for (p, piece) in self.pieces.iter().enumerate() {
            if !routes
                .iter()
                .any(|r| piece.src.iter().any(|s| overlaps_route(s, r)))
            {
                continue;
            }
            match (&piece.kind, context.receivers.get(p)) {
                (PieceKind::Network { dsts }, Some(cell)) => {
                    out.extend(cell.get_or_init(|| self.network_receivers(piece, dsts)));
                }
                // Rare (a route overlapping tailnet addresses): every node.
                _ => return (0..nodes.len()).collect(),
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Adds `extra` viewers (nodes that see this one) to a node's own peer list, without
    /// routes, and sorts it.
    fn add_reverse(&self, list: &mut Vec<Peer>, extra: Vec<usize>) {
        for viewer in extra {
            if let Some(node) = self.resolver.nodes.get(viewer) {
                list.push(Peer {
                    index: viewer,
                    name: node.name.clone(),
                    routes: Vec::new(),
                });
            }
        }
        // Stable: a node's own entry (with its routes) stays before an added one.
        list.sort_by_key(|p| p.index);
        list.dedup_by_key(|p| p.index);
    }

    /// The pieces whose sources hold one of node `viewer`'s addresses or overlap one of
    /// its routes.
    fn pieces_naming(&self, viewer: usize, context: &PeerContext) -> Vec<usize> {
        if let Some(named) = &context.named {
            let pieces = named.get(viewer).map(Vec::as_slice).unwrap_or_default();
            let mut out = Vec::with_capacity(pieces.len());
            for &p in pieces {
                out.push(p as usize);
            }
            return out;
        }
        let Some(me) = self.resolver.nodes.get(viewer) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in 0..self.pieces.len() {
            if me.addrs.iter().any(|a| self.src_contains(p, *a))
                || (!me.subnet_routes.is_empty()
                    && self.pieces.get(p).is_some_and(|piece| {
                        let sources = piece.src_set();
                        me.subnet_routes.iter().any(|r| sources.overlaps_net(r))
                    }))
            {
                out.push(p);
            }
        }
        out
    }

    /// [`PeerContext::named`]: each piece's source ranges looked up among the sorted node
    /// addresses (time in the number of (piece, node) pairs, not pieces × nodes).
    fn pieces_naming_nodes(&self, context: &PeerContext) -> Vec<Vec<u32>> {
        let nodes = &self.resolver.nodes;
        let by_addr = &self.index.node_addrs;
        let mut named: Vec<Vec<u32>> = vec![Vec::new(); nodes.len()];
        for (p, piece) in self.pieces.iter().enumerate() {
            let p32 = p as u32;
            let sources = piece.src_set();
            for range in sources.ranges() {
                let start = by_addr.partition_point(|(a, _)| *a < range.first());
                for &(addr, node) in by_addr.get(start..).unwrap_or_default() {
                    if addr > range.last() {
                        break;
                    }
                    if let Some(list) = named.get_mut(node)
                        && list.last() != Some(&p32)
                    {
                        list.push(p32);
                    }
                }
            }
            for &router in &context.routers {
                if let (Some(node), Some(list)) = (nodes.get(router), named.get_mut(router))
                    && list.last() != Some(&p32)
                    && node.subnet_routes.iter().any(|r| sources.overlaps_net(r))
                {
                    list.push(p32);
                }
            }
        }
        named
    }

    /// The nodes `viewer` sees through routes: routers offering it a route, `via`
    /// candidates, and exit nodes it may use.
    fn routed_peers(&self, viewer: usize, mine: &[usize], context: &PeerContext) -> Vec<usize> {
        let (offers, mut out) = if context.routes.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            self.route_offers(viewer, context, mine)
        };
        for (router, _) in &offers {
            out.push(*router);
        }
        // Exit nodes are among the carriers (was a scan of every node, for every viewer).
        for &index in &self.index.carriers {
            let Some(node) = self.resolver.nodes.get(index) else {
                continue;
            };
            if index != viewer
                && node.exit_node
                && node.advertised.iter().any(is_exit_route)
                && self.uses_exit_node(node, mine, context)
            {
                out.push(index);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The peers node `viewer` sees by its own rules and pieces; the callers add the nodes
    /// that see it only by theirs.
    fn own_peers(&self, viewer: usize, context: &PeerContext) -> Vec<Peer> {
        let nodes = &self.resolver.nodes;
        let Some(me) = nodes.get(viewer) else {
            return Vec::new();
        };
        let computed_rules;
        let my_rules: &[NodeRule] = match &context.whole {
            Some(whole) => whole
                .rules
                .get(viewer)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            None => {
                computed_rules = self.node_rules(viewer);
                &computed_rules
            }
        };
        let mine = if context.whole.is_none() || context.any_routing {
            self.pieces_naming(viewer, context)
        } else {
            Vec::new()
        };
        let computed_linked;
        let linked: &[usize] = match &context.whole {
            Some(whole) => whole
                .linked
                .get(viewer)
                .map(Vec::as_slice)
                .unwrap_or_default(),
            None => {
                computed_linked = self.linked_to(viewer, my_rules, &mine, context);
                &computed_linked
            }
        };
        let (offers, via_candidates) = if context.routes.is_empty() || !context.any_routing {
            (Vec::new(), Vec::new())
        } else {
            self.route_offers(viewer, context, &mine)
        };
        let mut candidates: Vec<usize> = linked.to_vec();
        for (router, _) in &offers {
            candidates.push(*router);
        }
        candidates.extend_from_slice(&via_candidates);
        if context.any_routing {
            for &i in &self.index.carriers {
                if nodes.get(i).is_some_and(|n| n.exit_node) {
                    candidates.push(i);
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::with_capacity(candidates.len());
        for index in candidates {
            if index == viewer {
                continue;
            }
            let Some(peer) = nodes.get(index) else {
                continue;
            };
            let mut routes: Vec<IpNet> = Vec::new();
            if self.is_carrier(index) {
                routes.extend(
                    offers
                        .iter()
                        .filter(|(router, _)| *router == index)
                        .map(|(_, route)| *route),
                );
                if peer.exit_node && self.uses_exit_node(peer, &mine, context) {
                    routes.extend(peer.advertised.iter().filter(|r| is_exit_route(r)).copied());
                }
            }
            let visible = linked.binary_search(&index).is_ok()
                || !routes.is_empty()
                || via_candidates.binary_search(&index).is_ok();
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
        context: &PeerContext,
        mine: &[usize],
    ) -> (Vec<(usize, IpNet)>, Vec<usize>) {
        let mut offers = Vec::new();
        let mut via_candidates = Vec::new();
        let mut my_pieces: Vec<(usize, &Piece)> = Vec::new();
        for &p in mine {
            if let Some(piece) = self.pieces.get(p) {
                my_pieces.push((p, piece));
            }
        }
        let sending = self.routes_sending(viewer, context);
        // Which routes a piece's destinations overlap, worked out once per piece (a piece
        // naming thousands of addresses is in the analysis of thousands of nodes).
        let reached = |piece: &Piece| -> Vec<bool> {
            let mut bits = Vec::with_capacity(context.routes.len());
            for route in &context.routes {
                bits.push(piece_dsts(piece).any(|d| overlaps_route(d, route)));
            }
            bits
        };
        let mut reached_by: Vec<&[bool]> = Vec::with_capacity(my_pieces.len());
        for &(p, piece) in my_pieces.iter() {
            reached_by.push(match context.dst_routes.get(p) {
                Some(cell) => cell.get_or_init(|| reached(piece)).as_slice(),
                None => &[],
            });
        }
        let reached = reached_by;
        for (r, &route) in context.routes.iter().enumerate() {
            let reaches = |i: usize| {
                reached
                    .get(i)
                    .is_some_and(|bits| bits.get(r) == Some(&true))
            };
            let direct = my_pieces
                .iter()
                .enumerate()
                .any(|(i, (_, p))| p.via.is_empty() && reaches(i))
                || sending.get(r) == Some(&true);
            let router = if direct {
                context.primaries.get(r).copied().flatten()
            } else {
                let mut via_pieces: Vec<&Piece> = Vec::new();
                for (i, (_, p)) in my_pieces.iter().enumerate() {
                    if !p.via.is_empty() && reaches(i) {
                        via_pieces.push(*p);
                    }
                }
                for piece in &via_pieces {
                    for &index in &context.routers {
                        if self.resolver.nodes.get(index).is_some_and(|node| {
                            node.subnet_routes.contains(&route)
                                && piece.via.iter().any(|t| node.has_tag(t))
                        }) && !via_candidates.contains(&index)
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
        via_candidates.sort_unstable();
        (offers, via_candidates)
    }

    /// Per route of `context.routes`: does a rule delivered to `viewer` have a source
    /// overlapping it (replies from the subnet)? A network piece's answer is worked out
    /// once (its rules keep its sources at every node), where every source of every rule
    /// was compared with every route at every node.
    fn routes_sending(&self, viewer: usize, context: &PeerContext) -> Vec<bool> {
        let routes = &context.routes;
        let mut out = vec![false; routes.len()];
        let overlapping = |src: &[Addr], out: &mut Vec<bool>| {
            for (r, route) in routes.iter().enumerate() {
                if let Some(slot) = out.get_mut(r)
                    && !*slot
                    && src.iter().any(|s| overlaps_route(s, route))
                {
                    *slot = true;
                }
            }
        };
        for (p, delivered) in self.delivered(viewer) {
            match (delivered, self.pieces.get(p), context.src_routes.get(p)) {
                (Delivered::Network(_), Some(piece), Some(cell)) => {
                    let bits = cell.get_or_init(|| {
                        let mut bits = vec![false; routes.len()];
                        overlapping(&piece.src, &mut bits);
                        bits
                    });
                    for (slot, bit) in out.iter_mut().zip(bits) {
                        *slot |= *bit;
                    }
                }
                (Delivered::Rule(rule), _, _) => overlapping(&rule.src, &mut out),
                (Delivered::Network(_), Some(piece), None) => overlapping(&piece.src, &mut out),
                (Delivered::Network(_), None, _) => {}
            }
        }
        out
    }

    fn uses_exit_node(&self, peer: &NodeInfo, mine: &[usize], context: &PeerContext) -> bool {
        mine.iter().any(|&p| {
            context.piece_internet.get(p) == Some(&true)
                && self
                    .pieces
                    .get(p)
                    .is_some_and(|p| p.via.is_empty() || p.via.iter().any(|t| peer.has_tag(t)))
        })
    }

    /// The router that carries `route` among those with it approved (and one of the `via`
    /// tags, when given): the one the inventory marks primary, else the first in inventory
    /// order.
    pub fn primary_router(&self, route: &IpNet, via: &[String]) -> Option<usize> {
        let mut candidates: Vec<usize> = Vec::new();
        for (i, n) in self.resolver.nodes.iter().enumerate() {
            if n.subnet_routes.contains(route)
                && (via.is_empty() || via.iter().any(|t| n.has_tag(t)))
            {
                candidates.push(i);
            }
        }
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

/// Does an address entry overlap `route` (`*` overlaps everything), without building sets?
fn overlaps_route(addr: &Addr, route: &IpNet) -> bool {
    let (first, last) = match addr {
        Addr::Any => return true,
        Addr::Net(net) => (net.network(), net.broadcast()),
        Addr::Range(range) => (range.first(), range.last()),
    };
    first.is_ipv4() == route.network().is_ipv4()
        && first <= route.broadcast()
        && route.network() <= last
}
