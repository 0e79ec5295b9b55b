//! Evaluation: the node a packet is delivered to, the rules of the pieces reduced to it,
//! whether one admits the packet, and what came closest when none does.

use super::*;

/// Port ranges as listed: sorted, overlapping and adjacent ranges merged.
///
/// `u32` pairs although ports are `u16`: the module already has that sort (module size).
pub(super) fn describe_ports(mut ranges: Vec<(u32, u32)>) -> Vec<String> {
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (first, last) in ranges {
        match merged.last_mut() {
            Some(prev) if first <= prev.1 + 1 => prev.1 = prev.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    let port = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
    let mut out = Vec::new();
    for (a, b) in merged {
        out.push(port_text(port(a), port(b)));
    }
    out
}

pub(super) fn port_text(first: u16, last: u16) -> String {
    match (first, last) {
        (0, u16::MAX) => "*".to_owned(),
        (a, b) if a == b => a.to_string(),
        (a, b) => format!("{a}-{b}"),
    }
}

pub(super) fn protocol_names(protocols: Option<&[u8]>) -> Vec<String> {
    let mut out = Vec::new();
    for n in protocols.unwrap_or(&DEFAULT_PROTOCOLS) {
        out.push(Protocol::from_number(*n).to_string());
    }
    out
}

/// The nodes a packet to `dst` is delivered to: the node itself, else the routers with an
/// approved route covering it, else exit nodes for internet addresses.
pub(super) fn receivers(compiled: &Compiled<'_>, dst: &Endpoint) -> Vec<usize> {
    let nodes = &compiled.resolver.nodes;
    if let Some(index) = compiled.node_with_addr(dst.ip) {
        return vec![index];
    }
    // One pass over the carriers, routers and exit nodes apart (module size: no adapter
    // chains).
    let mut routers = Vec::new();
    let mut exits = Vec::new();
    for &i in compiled.carriers() {
        let Some(n) = nodes.get(i) else {
            continue;
        };
        if n.subnet_routes.iter().any(|r| r.contains(&dst.ip)) {
            routers.push(i);
        }
        if n.exit_node {
            exits.push(i);
        }
    }
    if !routers.is_empty() {
        return routers;
    }
    if internet().contains(dst.ip) {
        return exits;
    }
    Vec::new()
}

pub(super) fn contains(addrs: &[Addr], ip: IpAddr) -> bool {
    addrs.iter().any(|a| a.contains(ip))
}

/// A rule as one node receives it, looked at for traffic from one source: whether its
/// sources hold that source, its protocols and its destinations.
pub(super) struct RuleView<'r> {
    pub(super) piece: &'r Piece,
    /// The node that receives it.
    pub(super) receiver: usize,
    pub(super) cap: bool,
    pub(super) src_ok: bool,
    pub(super) protocols: Option<&'r [u8]>,
    pub(super) dsts: &'r [&'r (Addr, crate::ports::PortRange)],
}

/// Every rule delivered to each of `receivers`, in order, looked at for traffic from `src`:
/// the one walk of the compiled rules that queries, listings and the policy's tests share
/// (one body behind a `dyn` callback, not one copy per caller: module size).
pub(super) fn each_rule(
    compiled: &Compiled<'_>,
    receivers: &[usize],
    src: IpAddr,
    f: &mut dyn FnMut(&RuleView<'_>),
) {
    for &receiver in receivers {
        for (index, delivered) in compiled.delivered(receiver) {
            let Some(piece) = compiled.pieces.get(index) else {
                continue;
            };
            let mut refs = Vec::new();
            let view = match &delivered {
                Delivered::Network(dsts) => RuleView {
                    piece,
                    receiver,
                    cap: false,
                    src_ok: compiled.src_contains(index, src),
                    protocols: piece.protocols.as_deref(),
                    dsts,
                },
                Delivered::Rule(rule) => {
                    for dst in &rule.dsts {
                        refs.push(dst);
                    }
                    RuleView {
                        piece,
                        receiver,
                        cap: rule.cap.is_some(),
                        src_ok: contains(&rule.src, src),
                        protocols: rule.protocols.as_deref(),
                        dsts: &refs,
                    }
                }
            };
            f(&view);
        }
    }
}

/// Does `rule` admit the packet, by the client's rules (policy-semantics §6.7)?
pub(super) fn admits(rule: &RuleView<'_>, dst: IpAddr, port: u16, protocol: Protocol) -> bool {
    if rule.cap || !rule.src_ok {
        return false;
    }
    for (addr, ports) in rule.dsts {
        if addr.contains(dst) && port_admits(rule.protocols, ports, port, protocol) {
            return true;
        }
    }
    false
}

/// Does an entry over `protocols` (`None`: TCP, UDP and ICMP) with `ports` admit a packet
/// of `protocol` to `port`? ICMP is allowed whenever a rule lets the source reach the
/// address; a protocol without ports needs all of them. One body for rules and services.
pub(super) fn port_admits(
    protocols: Option<&[u8]>,
    ports: &crate::ports::PortRange,
    port: u16,
    protocol: Protocol,
) -> bool {
    let number = protocol.number();
    if number == 1 || number == 58 {
        return true;
    }
    protocols.unwrap_or(&DEFAULT_PROTOCOLS).contains(&number)
        && if protocol.supports_ports() {
            ports.contains(port)
        } else {
            ports.is_all()
        }
}

#[expect(
    clippy::too_many_arguments,
    reason = "internal helper with descriptive parameters"
)]
pub(super) fn evaluate(
    compiled: &Compiled<'_>,
    src: &Endpoint,
    dst: &Endpoint,
    port: u16,
    protocol: Protocol,
    src_text: &str,
    dst_text: &str,
    proto_text: &str,
) -> Answer {
    let mut answer = Answer {
        allowed: false,
        src: src_text.to_owned(),
        dst: dst_text.to_owned(),
        proto: protocol.to_string(),
        matches: Vec::new(),
        explanation: String::new(),
        via_node: None,
        src_addr: src.ip.to_string(),
        src_hypothetical: src.hypothetical,
        dst_addr: dst.ip.to_string(),
        conditions: Vec::new(),
        members: Vec::new(),
    };
    let _ = proto_text;
    let receivers = receivers(compiled, dst);
    // A grant with `via` that would allow it, had one of its routers carried the address.
    let via_only = || {
        compiled.pieces.iter().find_map(|piece| {
            let crate::compile::PieceKind::Network { dsts } = &piece.kind else {
                return None;
            };
            let fits = !piece.via.is_empty()
                && dsts.iter().any(|(a, _)| a.contains(dst.ip))
                && piece.src.iter().any(|a| a.contains(src.ip));
            fits.then(|| {
                let mut tags: Vec<String> = Vec::new();
                for t in &piece.via {
                    tags.push(format!("`{t}`"));
                }
                format!(
                    "denied: {} allows it only via a router tagged {}, and no such router has an approved route for {}",
                    piece.origin.label(),
                    tags.join(" or "),
                    dst.ip
                )
            })
        })
    };
    if receivers.is_empty() {
        answer.explanation = if let Some(why) = via_only() {
            why
        } else if compiled
            .resolver
            .nodes
            .iter()
            .any(|n| n.advertised.iter().any(|r| r.contains(&dst.ip)))
        {
            format!(
                "denied: {} is behind a subnet route that no router has approved (and no autoApprovers entry approves)",
                dst.ip
            )
        } else if tailnet_v4().contains(dst.ip) || crate::addr::tailnet_v6().contains(dst.ip) {
            format!("denied: no node in the inventory has address {}", dst.ip)
        } else {
            format!(
                "denied: no approved subnet route or exit node carries traffic to {}",
                dst.ip
            )
        };
        return answer;
    }
    let mut near_miss: Option<(u8, String)> = None;
    let nodes = &compiled.resolver.nodes;
    each_rule(compiled, &receivers, src.ip, &mut |rule| {
        if admits(rule, dst.ip, port, protocol) {
            if !answer.matches.contains(&rule.piece.origin) {
                answer.matches.push(rule.piece.origin);
            }
            if answer.via_node.is_none() {
                answer.via_node = nodes.get(rule.receiver).map(|n| n.name.clone());
            }
        } else if let Some(miss) = near_miss_reason(
            rule,
            src,
            dst.ip,
            port,
            protocol,
            near_miss.as_ref().map(|(rank, _)| *rank),
        ) {
            near_miss = Some(miss);
        }
    });
    sort_origins(&mut answer.matches);
    answer.allowed = !answer.matches.is_empty();
    let carrier = answer.via_node.clone();
    answer.explanation = if answer.allowed {
        let rules = describe_all(&answer.matches);
        let through = match (&carrier, dst.node) {
            (Some(router), None) => format!(" through {router}"),
            _ => String::new(),
        };
        format!("allowed{through} by {rules}")
    } else {
        match near_miss {
            Some((_, why)) => format!("denied: no rule allows it; closest: {why}"),
            None if dst.node.is_none() && via_only().is_some() => via_only().unwrap_or_default(),
            None => format!(
                "denied: no rule allows {} to reach {}",
                if src.hypothetical {
                    format!("a node with identity {}", src.label)
                } else {
                    src.label.clone()
                },
                dst.label
            ),
        }
    };
    answer
}

/// Rules in policy order: `acls` before `grants`, each by index. One sort for every caller
/// (module size).
pub(super) fn sort_origins(origins: &mut [Origin]) {
    origins.sort_by_key(|o| (o.section != crate::compile::Section::Acls, o.index));
}

/// The rules, as in `acls[0], grants[2]` (one body for every answer: module size).
pub(super) fn describe_all(origins: &[Origin]) -> String {
    let mut out = String::new();
    for (i, origin) in origins.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&origin.label());
    }
    out
}

/// Why a rule delivered to the receiver does not admit the packet, ranked by closeness.
pub(super) fn near_miss_reason(
    rule: &RuleView<'_>,
    src: &Endpoint,
    dst: IpAddr,
    port: u16,
    protocol: Protocol,
    best: Option<u8>,
) -> Option<(u8, String)> {
    if rule.cap {
        return None;
    }
    let mut dst_ports = Vec::new();
    for (addr, ports) in rule.dsts {
        if addr.contains(dst) {
            dst_ports.push(ports);
        }
    }
    if dst_ports.is_empty() {
        return None;
    }
    let protocols: &[u8] = rule.protocols.unwrap_or(&DEFAULT_PROTOCOLS);
    let rank = if !rule.src_ok {
        1
    } else if !protocols.contains(&protocol.number()) {
        3
    } else {
        2
    };
    // Only a closer miss than the best so far is worth describing.
    if best.is_some_and(|best| rank <= best) {
        return None;
    }
    let rule_name = rule.piece.origin.label();
    let why = match rank {
        1 => format!(
            "{rule_name} covers the destination but not the source {}",
            src.label
        ),
        3 => {
            let allowed: Vec<String> = protocol_names(rule.protocols);
            format!(
                "{rule_name} allows the source to the destination over {} but not {protocol}",
                allowed.join("/")
            )
        }
        _ => {
            let mut ports: Vec<String> = Vec::new();
            for p in dst_ports {
                ports.push(port_text(p.first, p.last));
            }
            format!(
                "{rule_name} allows the source to the destination on port(s) {} but not {port}",
                ports.join(",")
            )
        }
    };
    Some((rank, why))
}
