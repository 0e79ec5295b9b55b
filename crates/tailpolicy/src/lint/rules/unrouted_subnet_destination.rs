use crate::text::Trimmed;
use ipnet::IpNet;

use crate::addr::{IpSet, internet, tailnet_v4, tailnet_v6};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::ports::split_destination_and_port;
use crate::selector::{Selector, parse_prefix};
use crate::span::Span;

declare_rule! {
    /// ### What it does
    /// Flags a destination outside the tailnet's own addresses (a CIDR, an IP or a host
    /// alias) that no subnet route can carry: no `autoApprovers.routes` entry covers any of
    /// it and, when an inventory is given, no node has an approved route into it. Internet
    /// addresses are not flagged when an exit node exists or can be approved.
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
    for rule in policy.acls.iter().flat_map(|l| l.iter()) {
        for entry in rule.dst.iter() {
            if let Ok((selector, _)) = split_destination_and_port(&entry.value) {
                destinations.push((selector, entry.span));
            }
        }
    }
    for grant in policy.grants.iter().flat_map(|l| l.iter()) {
        for entry in grant.dst.iter() {
            destinations.push((entry.value.trimmed().into(), entry.span));
        }
    }
    let hosts: crate::fasthash::FastMap<&str, IpNet> = policy
        .hosts
        .iter()
        .filter_map(|h| parse_prefix(h.value.value.trimmed()).map(|p| (h.name.value.trimmed(), p)))
        .collect();
    let (tailnet_v4, tailnet_v6, internet) = (tailnet_v4(), tailnet_v6(), internet());
    for (text, span) in destinations {
        let Some(prefix) = literal_prefix(&hosts, &text) else {
            continue;
        };
        let outside = IpSet::from_net(&prefix)
            .difference(&tailnet_v4)
            .difference(&tailnet_v6);
        if outside.is_empty() || routes.overlaps(&outside) {
            continue;
        }
        if exit_possible && outside.is_subset(&internet) {
            continue;
        }
        // Formatting an address is slow; once per finding, not three times.
        let prefix = prefix.to_string();
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
/// every approved subnet route.
fn carried_routes(cx: &RuleContext<'_>) -> IpSet {
    let mut set = IpSet::default();
    for entry in &cx.policy.auto_approvers.routes {
        if let Some(prefix) = parse_prefix(entry.name.value.trimmed())
            && prefix.prefix_len() > 0
        {
            set.insert_net(&prefix);
        }
    }
    if let Some(inventory) = cx.inventory() {
        for node in &inventory.nodes {
            for route in node.approved_routes.iter().filter(|r| r.prefix_len() > 0) {
                set.insert_net(route);
            }
        }
    }
    set
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
    fn internet_destinations_pass_when_an_exit_node_can_carry_them() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:exit": []},
  "autoApprovers": {"exitNode": ["tag:exit"]},
  "grants": [{"src": ["tag:ci"], "dst": ["198.51.100.0/24"], "ip": ["443"]}],
}"#;
        assert!(findings(text, "TP020").is_empty());
    }
}
