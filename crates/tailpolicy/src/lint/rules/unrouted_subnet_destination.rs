use crate::text::Trimmed;
use ipnet::IpNet;

use crate::addr::{CGNAT_V4, IpRange, IpSet, TAILNET_V6, internet};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::ports::split_destination_and_port;
use crate::selector::{Selector, parse_prefix};
use crate::span::Span;

declare_rule! {
    /// ### What it does
    /// Flags a destination wholly outside the tailnet's own ranges (`100.64.0.0/10`,
    /// `fd7a:115c:a1e0::/48`), written as a CIDR, an IP or a host alias, that no subnet
    /// route can carry: no `autoApprovers.routes` entry covers any of it and, when an
    /// inventory is given, no node has an approved route into it. Not flagged: tailnet
    /// addresses and ranges (4via6 included), destinations that hold any tailnet address
    /// (`0.0.0.0/0`, `100.0.0.0/8`: they still reach devices), and internet addresses when
    /// an exit node exists or can be approved.
    ///
    /// ### Why is this bad
    /// A grant to a subnet does not create a route. Packets to `192.0.2.10` reach nothing
    /// unless a subnet router advertises a route covering it and the route is approved,
    /// by an admin or by `autoApprovers`. The rule is silently dead, and whoever relies on
    /// it (a CI runner reaching an office network) finds out at run time.
    ///
    /// ### Example
    /// ```jsonc
    /// "grants": [{"src": ["tag:depot-runner"], "dst": ["192.0.2.0/24"], "ip": ["443"]}],
    /// // no autoApprovers, and no router has 192.0.2.0/24 approved
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "grants": [{"src": ["tag:depot-runner"], "dst": ["192.0.2.0/24"], "ip": ["443"]}],
    /// "autoApprovers": {"routes": {"192.0.2.0/24": ["tag:subnet-router"]}},
    /// ```
    code: "TP020",
    name: "unrouted-subnet-destination",
    category: Correctness,
    severity: Warning,
    summary: "a subnet destination that no approved route or autoApprovers entry covers, so nothing carries the traffic",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let routes = carried_routes(cx);
    let exit_possible = !policy.auto_approvers.exit_node.is_empty()
        || cx.inventory().is_some_and(|inv| {
            inv.nodes
                .iter()
                .any(|n| n.approved_routes.iter().any(|r| r.prefix_len() == 0))
        });
    let mut destinations: Vec<(std::borrow::Cow<'_, str>, Span)> = Vec::new();
    for rule in crate::text::items(&policy.acls).iter() {
        for entry in rule.dst.iter() {
            if let Ok((selector, _)) = split_destination_and_port(&entry.value) {
                destinations.push((selector, entry.span));
            }
        }
    }
    for grant in crate::text::items(&policy.grants).iter() {
        for entry in grant.dst.iter() {
            destinations.push((entry.value.trimmed().into(), entry.span));
        }
    }
    let tailnet = IpSet::from_nets(vec![IpNet::V4(CGNAT_V4), IpNet::V6(TAILNET_V6)]);
    let internet = internet();
    let mut hosts: crate::fasthash::FastMap<&str, IpNet> = crate::fasthash::FastMap::default();
    for h in &policy.hosts {
        if let Some(prefix) = parse_prefix(h.value.value.trimmed()) {
            hosts.insert(h.name.value.trimmed(), prefix);
        }
    }
    for (text, span) in destinations {
        let Some(prefix) = literal_prefix(&hosts, &text) else {
            continue;
        };
        // A destination holding any tailnet address reaches devices, routed or not.
        let target = IpSet::from_net(&prefix);
        if target.overlaps(&tailnet) || routes.overlaps(&IpRange::from_net(&prefix)) {
            continue;
        }
        if exit_possible && target.is_subset(&internet) {
            continue;
        }
        let message = format!(
            "nothing carries traffic to `{text}`: no approved route or autoApprovers entry covers {prefix}"
        );
        let diagnostic = cx.diagnostic(message, span).with_help(format!(
            "approve a subnet router's route covering {prefix}, e.g. `\"autoApprovers\": {{\"routes\": {{\"{prefix}\": [\"tag:subnet-router\"]}}}}`"
        ));
        cx.push(diagnostic);
    }
}

/// The address a destination names literally (an IP, a CIDR or a host alias).
fn literal_prefix(hosts: &crate::fasthash::FastMap<&str, IpNet>, text: &str) -> Option<IpNet> {
    match Selector::parse(text) {
        Selector::Prefix(prefix) => Some(prefix),
        Selector::Host(name) | Selector::HostRef(name) => hosts.get(name).copied(),
        _ => None,
    }
}

/// Every subnet a route could carry: `autoApprovers.routes` keys and, with an inventory,
/// every approved subnet route; sorted ranges, so that each destination costs a binary
/// search rather than a pass over every route.
fn carried_routes(cx: &RuleContext<'_>) -> Routes {
    // Gathered by loops, not adapter chains (module size).
    let mut prefixes = Vec::new();
    for entry in cx.policy.auto_approvers.routes.iter() {
        prefixes.extend(parse_prefix(entry.name.value.trimmed()));
    }
    if let Some(inventory) = cx.inventory() {
        for node in &inventory.nodes {
            prefixes.extend_from_slice(&node.approved_routes);
        }
    }
    prefixes.retain(|prefix| prefix.prefix_len() > 0);
    let set = IpSet::from_nets(prefixes);
    let mut ranges = Vec::new();
    for range in set.ranges() {
        ranges.push(range);
    }
    Routes(ranges)
}

/// Disjoint ranges in ascending order (IPv4 before IPv6, as [`IpSet::ranges`] gives them).
struct Routes(Vec<IpRange>);

impl Routes {
    fn overlaps(&self, range: &IpRange) -> bool {
        let after = self.0.partition_point(|r| r.last() < range.first());
        self.0.get(after).is_some_and(|r| r.first() <= range.last())
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_subnets_nothing_routes() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:router": []},
  "hosts": {"office": "192.0.2.0/24", "lab": "10.9.0.0/16", "db": "100.101.102.103"},
  "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"]}},
  "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["office:443", "lab:22", "db:5432"]}],
  "grants": [{"src": ["tag:ci"], "dst": ["198.51.100.0/24"], "ip": ["443"]}],
}"#;
        assert_eq!(
            findings(text, "TP020"),
            ["\"office:443\"", "\"198.51.100.0/24\""]
        );
    }

    #[test]
    fn tailnet_ranges_and_destinations_holding_them_pass() {
        let text = r#"{
  "tagOwners": {"tag:ci": []},
  "hosts": {"tailnet": "100.64.0.0/10", "quad100": "100.100.100.100", "cros": "100.115.92.0/23"},
  "acls": [{"action": "accept", "src": ["tag:ci"], "dst": [
    "tailnet:*", "quad100:53", "cros:22", "100.64.0.0/10:*", "100.101.102.103:22",
    "fd7a:115c:a1e0::/48:*", "[fd7a:115c:a1e0:b1a:0:1:a00:0]/120:80", "0.0.0.0/0:443",
    "100.0.0.0/8:80", "::/0:443",
  ]}],
  "grants": [{"src": ["tag:ci"], "dst": ["100.64.0.0/10", "fd7a:115c:a1e0::/48"], "ip": ["*"]}],
}"#;
        assert!(findings(text, "TP020").is_empty());
    }

    #[test]
    fn a_route_into_part_of_a_destination_carries_it() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:router": []},
  "autoApprovers": {"routes": {"10.1.0.0/16": ["tag:router"], "fd00::/64": ["tag:router"]}},
  "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["10.0.0.0/8:22", "10.2.0.1:22", "[fd00::1]:80"]}],
}"#;
        assert_eq!(findings(text, "TP020"), ["\"10.2.0.1:22\""]);
    }

    #[test]
    fn internet_destinations_pass_when_an_exit_node_can_carry_them() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:exit": []},
  "autoApprovers": {"exitNode": ["tag:exit"]},
  "grants": [{"src": ["tag:ci"], "dst": ["198.51.100.0/24"], "ip": ["443"]}],
}"#;
        assert!(findings(text, "TP020").is_empty());
    }
}
