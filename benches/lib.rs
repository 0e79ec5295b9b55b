//! Benchmarks for tailpolicy; see `benches/*.rs`.
//!
//! This library holds the inputs the benchmarks share: a deterministic generator of large,
//! realistic and valid policies, and a HuJSON-to-JSON stripper for the `serde_json` baseline.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use tailpolicy::inventory::{Inventory, Node, User};

/// A small deterministic generator (SplitMix64), so every run benchmarks the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

const PORTS: &[&str] = &[
    "22",
    "80",
    "443",
    "443,8080",
    "5432",
    "6379",
    "8080",
    "8443",
    "9090",
    "3000-3999",
    "*",
];
const PROTO_PORTS: &[&str] = &[
    "tcp:443",
    "tcp:22",
    "tcp:80-443",
    "udp:53",
    "tcp:5432",
    "icmp:*",
    "443",
    "8080",
    "*",
];
const TEAMS: &[&str] = &[
    "eng", "ops", "sre", "data", "web", "mobile", "sec", "finance", "support", "infra",
];
const SERVICES: &[&str] = &[
    "svc", "db", "cache", "web", "api", "queue", "build", "metrics", "logs", "vpn",
];

/// How many of each kind of entry to generate.
struct Scale {
    users: usize,
    groups: usize,
    hosts: usize,
    tags: usize,
    acls: usize,
    grants: usize,
    ssh: usize,
}

impl Scale {
    fn new(unit: usize) -> Self {
        let unit = unit.max(1);
        Scale {
            users: unit * 4,
            groups: unit,
            hosts: unit,
            tags: unit,
            acls: unit * 2,
            grants: unit,
            ssh: unit.div_ceil(2),
        }
    }
}

fn group_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.groups);
    format!("group:{}-{i}", TEAMS[i % TEAMS.len()])
}

fn tag_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.tags);
    format!("tag:{}-{i}", SERVICES[i % SERVICES.len()])
}

fn user_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.users);
    format!("user{i}@example.com")
}

fn host_name(rng: &mut Rng, scale: &Scale) -> String {
    let i = rng.below(scale.hosts);
    if i.is_multiple_of(3) {
        format!("net-{i}")
    } else {
        format!("host-{i}")
    }
}

/// A src selector for ACLs and grants.
fn source(rng: &mut Rng, scale: &Scale) -> String {
    match rng.below(10) {
        0..=3 => group_name(rng, scale),
        4..=5 => tag_name(rng, scale),
        6 => user_name(rng, scale),
        7 => host_name(rng, scale),
        8 => "autogroup:member".to_owned(),
        _ => format!("100.{}.{}.0/24", 64 + rng.below(60), rng.below(256)),
    }
}

/// A dst selector, without ports.
fn destination(rng: &mut Rng, scale: &Scale) -> String {
    match rng.below(10) {
        0..=4 => tag_name(rng, scale),
        5..=6 => host_name(rng, scale),
        7 => group_name(rng, scale),
        8 => "autogroup:self".to_owned(),
        _ => "autogroup:internet".to_owned(),
    }
}

fn string_list(out: &mut String, items: impl IntoIterator<Item = String>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(&item);
        out.push('"');
    }
    out.push(']');
}

fn write_policy(unit: usize) -> String {
    let scale = Scale::new(unit);
    let mut rng = Rng(0x2026_1127_7a11_9011);
    let mut out = String::with_capacity(unit * 1100);
    out.push_str("// Tailnet policy for example.com (generated for benchmarks).\n");
    out.push_str("// Every group, tag and host referenced below is defined.\n{\n");

    // Groups: every user is in one home group, plus a few random extra members.
    out.push_str("  // Teams. Membership is synced nightly from the HR system.\n  \"groups\": {\n");
    for g in 0..scale.groups {
        if g.is_multiple_of(50) {
            let _ = writeln!(out, "    // Teams {g} and up");
        }
        let _ = write!(out, "    \"group:{}-{g}\": ", TEAMS[g % TEAMS.len()]);
        let mut members: Vec<String> = (0..4)
            .map(|k| format!("user{}@example.com", g * 4 + k))
            .collect();
        for _ in 0..rng.below(4) {
            let user = user_name(&mut rng, &scale);
            if !members.contains(&user) {
                members.push(user);
            }
        }
        string_list(&mut out, members);
        out.push_str(",\n");
    }
    out.push_str("  },\n\n");

    // Hosts: single addresses and subnets.
    out.push_str("  /* Named addresses: servers outside Tailscale and on-premises subnets. */\n");
    out.push_str("  \"hosts\": {\n");
    for h in 0..scale.hosts {
        if h.is_multiple_of(3) {
            let _ = writeln!(
                out,
                "    \"net-{h}\": \"10.{}.{}.0/24\",",
                (h / 256) % 256,
                h % 256
            );
        } else {
            let _ = writeln!(
                out,
                "    \"host-{h}\": \"192.168.{}.{}\",",
                (h / 250) % 256,
                h % 250 + 1
            );
        }
    }
    out.push_str("  },\n\n");

    // Tag owners: a team, sometimes admins or another tag.
    out.push_str("  // Who may apply each tag.\n  \"tagOwners\": {\n");
    for t in 0..scale.tags {
        let _ = write!(out, "    \"tag:{}-{t}\": ", SERVICES[t % SERVICES.len()]);
        let mut owners = vec![group_name(&mut rng, &scale)];
        if rng.chance(30) {
            owners.push("autogroup:admin".to_owned());
        }
        if rng.chance(10) {
            owners.push(tag_name(&mut rng, &scale));
        }
        string_list(&mut out, owners);
        out.push_str(",\n");
    }
    out.push_str("  },\n\n");

    // ACLs.
    out.push_str("  \"acls\": [\n");
    for a in 0..scale.acls {
        if a.is_multiple_of(25) {
            let _ = writeln!(
                out,
                "    // Rules {a} and up: service access for the teams."
            );
        }
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| source(&mut rng, &scale))
            .collect();
        let self_ok = sources
            .iter()
            .all(|s| s.starts_with("group:") || s.contains('@'));
        let mut destinations = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let mut dst = destination(&mut rng, &scale);
            if dst == "autogroup:self" && !self_ok {
                dst = tag_name(&mut rng, &scale);
            }
            destinations.push(format!("{dst}:{}", rng.pick(PORTS)));
        }
        out.push_str("    {\n      \"action\": \"accept\",\n");
        if rng.chance(15) {
            out.push_str("      \"proto\": \"tcp\",\n");
        }
        out.push_str("      \"src\": ");
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n    },\n");
    }
    out.push_str("  ],\n\n");

    // Grants.
    out.push_str("  \"grants\": [\n");
    for g in 0..scale.grants {
        if g.is_multiple_of(25) {
            let _ = writeln!(out, "    /* Grants {g} and up */");
        }
        let sources: Vec<String> = (0..1 + rng.below(3))
            .map(|_| source(&mut rng, &scale))
            .collect();
        let destinations: Vec<String> = (0..1 + rng.below(3))
            .map(|_| {
                let dst = destination(&mut rng, &scale);
                if dst == "autogroup:self" {
                    tag_name(&mut rng, &scale)
                } else {
                    dst
                }
            })
            .collect();
        let ip = grant_ip(&mut rng);
        out.push_str("    {\n      \"src\": ");
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n      \"ip\": ");
        string_list(&mut out, ip);
        out.push_str(",\n    },\n");
    }
    out.push_str("  ],\n\n");

    // SSH: users to tagged servers or their own devices; tags to tags (accept only).
    out.push_str("  \"ssh\": [\n");
    for _ in 0..scale.ssh {
        let from_tags = rng.chance(20);
        let (action, sources, destinations) = if from_tags {
            (
                "accept",
                vec![tag_name(&mut rng, &scale)],
                vec![tag_name(&mut rng, &scale)],
            )
        } else {
            let action = if rng.chance(30) { "check" } else { "accept" };
            let sources: Vec<String> = (0..1 + rng.below(2))
                .map(|_| group_name(&mut rng, &scale))
                .collect();
            let dst = if rng.chance(25) {
                "autogroup:self".to_owned()
            } else {
                tag_name(&mut rng, &scale)
            };
            (action, sources, vec![dst])
        };
        let _ = write!(
            out,
            "    {{\n      \"action\": \"{action}\",\n      \"src\": "
        );
        string_list(&mut out, sources);
        out.push_str(",\n      \"dst\": ");
        string_list(&mut out, destinations);
        out.push_str(",\n      \"users\": [\"autogroup:nonroot\", \"root\"],\n");
        if action == "check" {
            out.push_str("      \"checkPeriod\": \"12h\",\n");
        }
        out.push_str("    },\n");
    }
    out.push_str("  ],\n}\n");
    out
}

/// A realistic HuJSON policy of about `target_bytes` bytes, the same for the same argument.
///
/// Thousands of groups with members, hosts, tagOwners, ACLs with several `src`/`dst` entries
/// such as `"tag:svc-12:443,8080"`, grants with `ip`, SSH rules, comments and trailing commas.
/// Every group, tag and host it references is defined, so the policy is valid.
pub fn generate_policy(target_bytes: usize) -> String {
    const PROBE: usize = 100;
    // Sizes grow slightly faster than linearly (longer numbers), so estimate twice.
    let probe = write_policy(PROBE).len().max(1);
    let unit = (target_bytes.saturating_mul(PROBE) / probe).max(1);
    let estimate = write_policy(unit);
    let unit = (target_bytes.saturating_mul(unit) / estimate.len().max(1)).max(1);
    write_policy(unit)
}

/// Turns HuJSON into plain JSON: removes comments and trailing commas, leaving strings alone.
pub fn strip_hujson(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut pending_comma = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                if std::mem::take(&mut pending_comma) {
                    out.push(b',');
                }
                let start = i;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
                out.extend_from_slice(bytes.get(start..i.min(bytes.len())).unwrap_or_default());
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len()
                    && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b',' => pending_comma = true,
            b' ' | b'\t' | b'\r' | b'\n' => out.push(b),
            b']' | b'}' => {
                pending_comma = false;
                out.push(b);
            }
            _ => {
                if std::mem::take(&mut pending_comma) {
                    out.push(b',');
                }
                out.push(b);
            }
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// A whole tailnet: inventory and policy, for the compile and query benchmarks.

/// Private IPv4 blocks and CGNAT: not `autogroup:internet`.
const NON_INTERNET_V4: [(Ipv4Addr, u8); 5] = [
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

/// One to three `ip` entries of a grant, sorted and without repeats.
fn grant_ip(rng: &mut Rng) -> Vec<String> {
    let mut ip: Vec<String> = (0..1 + rng.below(3))
        .map(|_| rng.pick(PROTO_PORTS).to_owned())
        .collect();
    ip.sort();
    ip.dedup();
    ip
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

    #[test]
    fn generated_policy_parses_and_strips_to_the_same_json() {
        let text = generate_policy(300_000);
        assert!((250_000..350_000).contains(&text.len()), "{}", text.len());
        assert_eq!(text, generate_policy(300_000), "deterministic");
        let out = tailpolicy::syntax::parse(&text);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics.first());
        assert!(out.comments.len() > 20);
        let stripped = strip_hujson(&text);
        assert!(!stripped.contains("//") && !stripped.contains("/*"));
        let baseline: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(out.value.unwrap().to_json(), baseline);
        for section in ["groups", "hosts", "tagOwners", "acls", "grants", "ssh"] {
            assert!(baseline.get(section).is_some(), "{section}");
        }
    }

    #[test]
    fn strip_keeps_comment_markers_and_commas_inside_strings() {
        let text =
            "{\"a\": \"// x, /* y */ ]\", /* c */ \"b\": [1, 2, // t\n],\n \"e\": \"\\\"\",}";
        let stripped = strip_hujson(text);
        let value: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": "// x, /* y */ ]", "b": [1, 2], "e": "\""})
        );
    }

    #[test]
    fn every_reference_is_defined() {
        let text = generate_policy(200_000);
        let policy: serde_json::Value = serde_json::from_str(&strip_hujson(&text)).unwrap();
        let keys = |section: &str| -> std::collections::HashSet<String> {
            policy[section]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let (groups, hosts, tags) = (keys("groups"), keys("hosts"), keys("tagOwners"));
        let mut selectors: Vec<String> = Vec::new();
        for rule in policy["acls"].as_array().unwrap() {
            selectors.extend(
                rule["src"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
            for dst in rule["dst"].as_array().unwrap() {
                let dst = dst.as_str().unwrap();
                selectors.push(dst[..dst.rfind(':').unwrap()].to_owned());
            }
        }
        for section in ["grants", "ssh"] {
            for rule in policy[section].as_array().unwrap() {
                for side in ["src", "dst"] {
                    selectors.extend(
                        rule[side]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|s| s.as_str().unwrap().to_owned()),
                    );
                }
            }
        }
        for owners in policy["tagOwners"].as_object().unwrap().values() {
            selectors.extend(
                owners
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned()),
            );
        }
        for selector in &selectors {
            let ok = if selector.starts_with("group:") {
                groups.contains(selector)
            } else if selector.starts_with("tag:") {
                tags.contains(selector)
            } else if selector.starts_with("host-") || selector.starts_with("net-") {
                hosts.contains(selector)
            } else {
                selector.starts_with("autogroup:")
                    || selector.contains('@')
                    || selector.starts_with("100.")
            };
            assert!(ok, "undefined or unexpected selector {selector}");
        }
    }

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

mod lint_worst;
pub use lint_worst::generate_lint_worst_case;
mod policy_tests_block;
pub use policy_tests_block::with_tests_block;
