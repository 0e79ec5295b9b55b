//! A whole tailnet: inventory and policy, for the compile and query benchmarks, and the
//! queries asked of it.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use tailpolicy::inventory::{Inventory, Node, User};

use crate::{PORTS, Rng, SERVICES, TEAMS, grant_ip, string_list};

/// Private IPv4 blocks and CGNAT: not `autogroup:internet`.
pub(crate) const NON_INTERNET_V4: [(Ipv4Addr, u8); 5] = [
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
];

/// The address of generated node `i`: `100.64.0.0` plus `i + 1`.
pub fn tailnet_node_ip(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + i as u32 + 1)
}

fn tailnet_node_ip6(i: usize) -> Ipv6Addr {
    Ipv6Addr::from((0xfd7a_115c_a1e0_u128 << 80) + i as u128 + 1)
}

/// The subnet route of router pair `i`: `10.a.b.0/24`, distinct for every pair.
fn route_net(i: usize) -> String {
    format!("10.{}.{}.0/24", (i / 256) % 256, i % 256)
}

/// The shape of a generated tailnet.
struct TailnetShape {
    nodes: usize,
    users: usize,
    user_devices: usize,
    routers: usize,
    exits: usize,
    services: usize,
    tags: usize,
    groups: usize,
    hosts: usize,
    acls: usize,
    grants: usize,
}

impl TailnetShape {
    fn new(nodes: usize, rules: usize) -> Self {
        let nodes = nodes.max(4);
        let tagged = nodes * 3 / 10;
        let routers = (nodes / 500).clamp(2, 510);
        let exits = if nodes >= 1000 { 2 } else { 1 };
        let services = tagged.saturating_sub(routers + exits).max(1);
        let user_devices = nodes - services - routers - exits;
        TailnetShape {
            nodes,
            users: (user_devices * 2 / 3).max(1),
            user_devices,
            routers,
            exits,
            services,
            tags: (services / 8).max(1),
            groups: (rules / 4).max(1),
            hosts: (rules / 10).max(3),
            acls: rules * 7 / 10,
            grants: rules - rules * 7 / 10,
        }
    }

    fn service_tag(&self, t: usize) -> String {
        format!("tag:{}-{t}", SERVICES[t % SERVICES.len()])
    }

    fn group(&self, g: usize) -> String {
        format!("group:{}-{g}", TEAMS[g % TEAMS.len()])
    }

    fn host(&self, h: usize) -> String {
        match h % 3 {
            0 => format!("office-net-{h}"),
            1 => format!("printer-{h}"),
            _ => format!("db-primary-{h}"),
        }
    }

    /// The value of host `h`: a `/25` behind a subnet route, an address outside the tailnet,
    /// or the address of a service node.
    fn host_value(&self, h: usize) -> String {
        match h % 3 {
            0 => {
                let route = h / 3 % (self.routers / 2).max(1);
                let base = route_net(route);
                let prefix = base.trim_end_matches(".0/24");
                format!("{prefix}.{}/25", if h.is_multiple_of(2) { 0 } else { 128 })
            }
            1 => format!("192.168.{}.{}", (h / 250) % 256, h % 250 + 1),
            _ => tailnet_node_ip(self.user_devices + h % self.services).to_string(),
        }
    }
}

/// A source selector for the tailnet generator.
fn tailnet_source(rng: &mut Rng, shape: &TailnetShape) -> String {
    match rng.below(100) {
        0..=54 => shape.group(rng.below(shape.groups)),
        55..=72 => shape.service_tag(rng.below(shape.tags)),
        73..=84 => format!("user{}@example.com", rng.below(shape.users)),
        85..=91 => shape.host(rng.below(shape.hosts)),
        _ => {
            let i = rng.below(shape.nodes);
            let ip = tailnet_node_ip(i).octets();
            format!("{}.{}.{}.0/24", ip[0], ip[1], ip[2])
        }
    }
}

/// A destination selector (without ports). `self_ok`: `autogroup:self` may be used.
fn tailnet_destination(rng: &mut Rng, shape: &TailnetShape, self_ok: bool) -> String {
    match rng.below(100) {
        0..=61 => shape.service_tag(rng.below(shape.tags)),
        62..=73 => shape.host(rng.below(shape.hosts)),
        74..=81 => route_net(rng.below((shape.routers / 2).max(1))),
        82..=86 => shape.group(rng.below(shape.groups)),
        87..=93 if self_ok => "autogroup:self".to_owned(),
        87..=96 => shape.service_tag(rng.below(shape.tags)),
        _ => "autogroup:internet".to_owned(),
    }
}

fn write_tailnet_policy(shape: &TailnetShape, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(shape.acls * 200 + shape.groups * 150);
    out.push_str("// Tailnet policy for example.com (generated for benchmarks).\n{\n");

    out.push_str("  // Teams.\n  \"groups\": {\n");
    for g in 0..shape.groups {
        let _ = write!(out, "    \"{}\": ", shape.group(g));
        let mut members: Vec<String> = Vec::new();
        for _ in 0..5 + rng.below(26) {
            let user = format!("user{}@example.com", rng.below(shape.users));
            if !members.contains(&user) {
                members.push(user);
            }
        }
        string_list(&mut out, members);
        out.push_str(",\n");
    }
    out.push_str("  },\n\n  \"hosts\": {\n");
    for h in 0..shape.hosts {
        let _ = writeln!(
            out,
            "    \"{}\": \"{}\",",
            shape.host(h),
            shape.host_value(h)
        );
    }
    out.push_str("  },\n\n  \"tagOwners\": {\n");
    for t in 0..shape.tags {
        let _ = write!(out, "    \"{}\": ", shape.service_tag(t));
        string_list(&mut out, [shape.group(rng.below(shape.groups))]);
        out.push_str(",\n");
    }
    out.push_str("    \"tag:router\": [\"autogroup:admin\"],\n");
    out.push_str("    \"tag:exit\": [\"autogroup:admin\"],\n  },\n\n");

    // Tailnet-wide rules: a handful in any policy, whatever its size.
    out.push_str("  \"acls\": [\n");
    let admins = shape.group(0);
    let monitoring =
        shape.service_tag(SERVICES.iter().position(|s| *s == "metrics").unwrap_or(0) % shape.tags);
    let logs =
        shape.service_tag(SERVICES.iter().position(|s| *s == "logs").unwrap_or(0) % shape.tags);
    let baseline = [
        "{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self:*\"]}".to_owned(),
        "{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:internet:*\"]}".to_owned(),
        format!("{{\"action\": \"accept\", \"src\": [\"{admins}\"], \"dst\": [\"*:22\"]}}"),
        format!("{{\"action\": \"accept\", \"src\": [\"{monitoring}\"], \"dst\": [\"*:9100\"]}}"),
        format!("{{\"action\": \"accept\", \"src\": [\"autogroup:tagged\"], \"dst\": [\"{logs}:514,6514\"]}}"),
        "{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"autogroup:tagged:443\"], \"proto\": \"tcp\"}".to_owned(),
    ];
    let baseline_count = baseline.len().min(shape.acls);
    for rule in baseline.iter().take(baseline_count) {
        let _ = writeln!(out, "    {rule},");
    }
    for a in baseline_count..shape.acls {
        if a.is_multiple_of(50) {
            let _ = writeln!(out, "    // Rules {a} and up.");
        }
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| tailnet_source(rng, shape))
            .collect();
        let self_ok = sources
            .iter()
            .all(|s| s.starts_with("group:") || s.contains('@') || s == "autogroup:member");
        let destinations: Vec<String> = (0..1 + rng.below(3))
            .map(|_| {
                let dst = tailnet_destination(rng, shape, self_ok);
                format!("{dst}:{}", rng.pick(PORTS))
            })
            .collect();
        out.push_str("    {\"action\": \"accept\", ");
        match rng.below(100) {
            0..=9 => out.push_str("\"proto\": \"tcp\", "),
            10..=12 => out.push_str("\"proto\": \"udp\", "),
            _ => {}
        }
        out.push_str("\"src\": ");
        string_list(&mut out, sources);
        out.push_str(", \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str("},\n");
    }
    out.push_str("  ],\n\n  \"grants\": [\n");
    for _ in 0..shape.grants {
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| tailnet_source(rng, shape))
            .collect();
        let self_ok = sources
            .iter()
            .all(|s| s.starts_with("group:") || s.contains('@') || s == "autogroup:member");
        let destinations: Vec<String> = (0..1 + rng.below(3))
            .map(|_| tailnet_destination(rng, shape, self_ok))
            .collect();
        let ip = grant_ip(rng);
        out.push_str("    {\"src\": ");
        string_list(&mut out, sources);
        out.push_str(", \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(", \"ip\": ");
        string_list(&mut out, ip);
        out.push_str("},\n");
    }
    out.push_str("  ],\n}\n");
    out
}

fn tailnet_inventory(shape: &TailnetShape, rng: &mut Rng) -> Inventory {
    let users = (0..shape.users)
        .map(|u| User {
            id: u as u64 + 1,
            name: format!("user{u}"),
            email: Some(format!("user{u}@example.com")),
            roles: Vec::new(),
            shared: false,
        })
        .collect();
    let mut nodes = Vec::with_capacity(shape.nodes);
    let node = |i: usize, name: String, user: Option<String>, tags: Vec<String>| Node {
        name,
        ipv4: Some(tailnet_node_ip(i)),
        ipv6: Some(tailnet_node_ip6(i)),
        user,
        tags,
        routable_ips: Vec::new(),
        approved_routes: Vec::new(),
        primary_routes: Vec::new(),
        created_by: None,
        ephemeral: false,
        shared: false,
    };
    // User devices: a laptop each, and a phone for about half of the users.
    for d in 0..shape.user_devices {
        let user = d % shape.users;
        let kind = if d < shape.users { "laptop" } else { "phone" };
        nodes.push(node(
            d,
            format!("user{user}-{kind}"),
            Some(format!("user{user}")),
            Vec::new(),
        ));
    }
    // Services: one tag each, a second one for one in ten.
    for s in 0..shape.services {
        let i = nodes.len();
        let mut tags = vec![shape.service_tag(s % shape.tags)];
        if rng.chance(10) {
            let other = shape.service_tag(rng.below(shape.tags));
            if !tags.contains(&other) {
                tags.push(other);
            }
        }
        let name = format!("{}-{}", tags[0].trim_start_matches("tag:"), s / shape.tags);
        nodes.push(node(i, name, None, tags));
    }
    // Subnet routers in HA pairs; one in ten also advertises a route nobody approved.
    for r in 0..shape.routers {
        let i = nodes.len();
        let mut router = node(
            i,
            format!("router-{r}"),
            None,
            vec!["tag:router".to_owned()],
        );
        let route: IpNet = route_net(r / 2).parse().unwrap_or_else(|_| unreachable!());
        router.routable_ips.push(route);
        router.approved_routes.push(route);
        if r % 10 == 9 {
            let pending: IpNet = format!("172.16.{}.0/24", r % 256)
                .parse()
                .unwrap_or_else(|_| unreachable!());
            router.routable_ips.push(pending);
        }
        nodes.push(router);
    }
    for e in 0..shape.exits {
        let i = nodes.len();
        let mut exit = node(i, format!("exit-{e}"), None, vec!["tag:exit".to_owned()]);
        for route in ["0.0.0.0/0", "::/0"] {
            let net: IpNet = route.parse().unwrap_or_else(|_| unreachable!());
            exit.routable_ips.push(net);
            exit.approved_routes.push(net);
        }
        nodes.push(exit);
    }
    Inventory {
        users,
        nodes,
        tailnet: Default::default(),
        unknown: Default::default(),
        services: Vec::new(),
        assume_nodes: Vec::new(),
    }
}

/// A realistic tailnet of `nodes` nodes and a valid policy of `rules` rules for it (the same
/// for the same arguments).
///
/// * 70% of the nodes are user devices: every user has a laptop, about half also a phone.
/// * Services: tags with about 8 nodes each, one node in ten with a second tag.
/// * Subnet routers (tagged `tag:router`) in HA pairs, one `/24` per pair; one exit node
///   (two from 1,000 nodes).
/// * `rules / 4` groups of 5–30 users, `rules / 10` hosts (subnets behind the routers,
///   outside addresses, service addresses), tagOwners for every tag.
/// * Six tailnet-wide ACLs first, as most policies have, the same at every size: members to
///   their own devices (`autogroup:self`) and to the internet (exit nodes), admins to `*:22`,
///   monitoring to `*:9100`, `autogroup:tagged` to the log servers, `*` to
///   `autogroup:tagged:443`. Broad selectors appear only there, so the filters a node
///   receives do not grow with the size of the tailnet just because of them.
/// * Then 70% ACLs, 30% grants, each with 1–3 sources (mostly groups, then tags, users,
///   hosts, tailnet CIDRs) and 1–3 destinations (mostly tags, then hosts, subnet routes,
///   groups, `autogroup:self`, `autogroup:internet`) with ports; ACLs sometimes with `proto`.
pub fn generate_tailnet(nodes: usize, rules: usize) -> (String, Inventory) {
    let shape = TailnetShape::new(nodes, rules.max(1));
    let mut rng = Rng(0x7a11_5ca1_e000_0000 ^ (nodes as u64) << 20 ^ rules as u64);
    let inventory = tailnet_inventory(&shape, &mut rng);
    let policy = write_tailnet_policy(&shape, &mut rng);
    (policy, inventory)
}

/// `CheckOptions` with an inventory (other options at their defaults; written with `..` so
/// that fields added later keep their defaults).
#[allow(clippy::needless_update, reason = "CheckOptions may gain fields")]
pub fn check_options(inventory: &Inventory) -> tailpolicy::CheckOptions<'_> {
    tailpolicy::CheckOptions {
        inventory: Some(inventory),
        ..Default::default()
    }
}

/// One query: source node index, destination address, port, IP protocol number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchQuery {
    pub src: usize,
    pub dst: IpAddr,
    pub port: u16,
    pub proto: u8,
}

impl BenchQuery {
    pub fn proto_name(&self) -> &'static str {
        match self.proto {
            6 => "tcp",
            17 => "udp",
            _ => "icmp",
        }
    }

    /// The destination as `Simulator::query` takes it.
    pub fn dst_text(&self) -> String {
        match self.dst {
            IpAddr::V4(ip) => format!("{ip}:{}", self.port),
            IpAddr::V6(ip) => format!("[{ip}]:{}", self.port),
        }
    }
}

/// `count` deterministic random queries for a generated tailnet: 75% to node addresses,
/// 15% into subnet routes, 10% to the internet; ports from the ones the policies use; TCP
/// mostly, some UDP and ICMP.
pub fn generate_queries(inventory: &Inventory, count: usize) -> Vec<BenchQuery> {
    let mut rng = Rng(0x5eed_0f0e_1a55_0001 ^ count as u64);
    let routes: Vec<IpNet> = inventory
        .nodes
        .iter()
        .flat_map(|n| n.routable_ips.iter().copied())
        .filter(|r| r.prefix_len() > 0)
        .collect();
    let ports = [22, 80, 443, 5432, 6379, 8080, 8443, 9090, 3306, 53, 1234];
    let n = inventory.nodes.len().max(1);
    (0..count)
        .map(|_| {
            let src = rng.below(n);
            let dst = match rng.below(100) {
                0..=74 => {
                    let node = inventory.nodes.get(rng.below(n));
                    IpAddr::V4(node.and_then(|n| n.ipv4).unwrap_or(Ipv4Addr::LOCALHOST))
                }
                75..=89 if !routes.is_empty() => {
                    let route = routes.get(rng.below(routes.len())).copied();
                    match route {
                        Some(IpNet::V4(net)) => IpAddr::V4(Ipv4Addr::from(
                            u32::from(net.network()) + 1 + rng.below(200) as u32,
                        )),
                        _ => IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
                    }
                }
                _ => IpAddr::V4(Ipv4Addr::new(
                    1 + rng.below(9) as u8,
                    rng.below(256) as u8,
                    rng.below(256) as u8,
                    1,
                )),
            };
            let proto = match rng.below(100) {
                0..=79 => 6,
                80..=94 => 17,
                _ => 1,
            };
            BenchQuery {
                src,
                dst,
                port: ports[rng.below(ports.len())],
                proto,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tailnet_is_valid_and_realistic() {
        let (text, inventory) = generate_tailnet(1000, 200);
        assert_eq!(text, generate_tailnet(1000, 200).0, "deterministic");
        assert_eq!(inventory.nodes.len(), 1000);
        let options = check_options(&inventory);
        let policy = tailpolicy::parse_valid(&text, &options)
            .unwrap_or_else(|r| panic!("{:?}", r.diagnostics.first()));
        assert_eq!(policy.acls.as_ref().unwrap().items.len(), 140);
        assert_eq!(policy.grants.as_ref().unwrap().items.len(), 60);
        let tagged = inventory
            .nodes
            .iter()
            .filter(|n| !n.tags.is_empty())
            .count();
        assert_eq!(tagged, 300);
        let routers = inventory
            .nodes
            .iter()
            .filter(|n| !n.approved_routes.is_empty())
            .count();
        assert!(routers >= 3, "{routers}");
        let names: std::collections::HashSet<&str> =
            inventory.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names.len(), inventory.nodes.len(), "unique node names");
    }

    /// On a generated tailnet (with `autogroup:self`, `*`, routers and exit nodes), the
    /// indexed per-node reduction gives what scanning every piece gives.
    #[test]
    fn indexed_reduction_matches_the_scan() {
        let (text, inventory) = generate_tailnet(300, 60);
        let policy = tailpolicy::parse_valid(&text, &check_options(&inventory)).unwrap();
        let compiled = tailpolicy::compile::Compiled::new(&policy, &inventory);
        let mut total = 0;
        for (i, node) in compiled.resolver.nodes.iter().enumerate() {
            let indexed: Vec<_> = compiled
                .reduced(i)
                .into_iter()
                .map(|(p, r)| (p, r.origins.clone(), r.to_wire()))
                .collect();
            let scanned: Vec<_> = compiled
                .pieces
                .iter()
                .enumerate()
                .flat_map(|(p, piece)| {
                    compiled
                        .reduce(piece, node)
                        .into_iter()
                        .map(move |r| (p, r))
                })
                .map(|(p, r)| (p, r.origins.clone(), r.to_wire()))
                .collect();
            assert!(indexed == scanned, "node {i}");
            total += indexed.len();
        }
        assert!(total > 1000, "{total}");
    }
}
