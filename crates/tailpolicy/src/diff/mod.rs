//! Change review: the access one valid policy grants and another does not, both ways
//! (`tailpolicy diff`, docs/diff.md).
//!
//! Network access is compared node by node on the compiled packet filters, the way the
//! receiving node's filter decides (`query::admits`): per protocol, the destination
//! addresses each node receives and the ports are cut into elementary intervals on the union
//! of both policies' boundaries, and in each cell the sources one policy admits and the other
//! does not are an exact set difference. Cells are then split by the rules responsible and
//! by source identity and merged back along one dimension at a time, so every row is an
//! exact product (sources × destinations × protocols × ports) of changed flows.
//!
//! Without an inventory both policies are compiled over one tailnet of hypothetical nodes,
//! one per identity or address either policy mentions (`query::with_identities`).

mod capability;
mod network;
pub mod output;
mod owners;
pub mod pin;
mod ssh;

use crate::addr::IpSet;
use crate::compile::Origin;
use crate::inventory::Inventory;
use crate::model::Policy;
use crate::ports::PortRange;
use crate::text::Trimmed;

pub use network::{access_changes, network_changes};
pub use owners::owner_changes;

/// The difference between two policies.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// Access the new policy grants and the old one does not.
    pub added: Vec<Row>,
    /// Access the old policy grants and the new one does not.
    pub removed: Vec<Row>,
    /// No inventory was given: the nodes compared are hypothetical, one per identity or
    /// address the policies mention.
    pub symbolic: bool,
}

impl Diff {
    /// Nothing changed but order or layout.
    pub fn unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// One row of a difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Network(Box<NetworkRow>),
    Ssh(Box<SshRow>),
    Owner(OwnerRow),
    Capability(Box<CapabilityRow>),
}

impl Row {
    pub fn as_network(&self) -> Option<&NetworkRow> {
        match self {
            Row::Network(row) => Some(row),
            _ => None,
        }
    }

    pub fn as_ssh(&self) -> Option<&SshRow> {
        match self {
            Row::Ssh(row) => Some(row),
            _ => None,
        }
    }

    pub fn as_owner(&self) -> Option<&OwnerRow> {
        match self {
            Row::Owner(row) => Some(row),
            _ => None,
        }
    }

    pub fn as_capability(&self) -> Option<&CapabilityRow> {
        match self {
            Row::Capability(row) => Some(row),
            _ => None,
        }
    }
}

/// A change in the application capabilities (grants with `app`) that sources have at nodes:
/// every source address in `src_ips` gained (or lost) `values` of `capability` at every
/// address of the `dst_nodes`, as Tailscale's client reads its filter's `CapGrant`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRow {
    /// Source labels, as for network rows (the granting rules' source selectors).
    pub src: Vec<String>,
    /// Destination identities (tags, or the owner's login).
    pub dst: Vec<String>,
    pub src_ips: IpSet,
    /// The addresses of `dst_nodes`.
    pub dst_ips: IpSet,
    pub dst_nodes: Vec<String>,
    /// The capability name (`tailscale.com/cap/drive`, `example.com/cap/x`).
    pub capability: String,
    /// The values gained (added rows) or lost (removed rows), as the capability map carries
    /// them.
    pub values: Vec<serde_json::Value>,
    /// The capability itself is gained (the sources had none of it) or lost (none is left),
    /// rather than only some of its values.
    pub whole: bool,
    /// Rules of the old policy: for a removed row, those that gave it; for an added row,
    /// those that gave the same capability to these sources, and the edited rule as it
    /// stood (same section and index, same sources or destinations).
    pub old_rules: Vec<Origin>,
    /// Rules of the new policy, the other way round.
    pub new_rules: Vec<Origin>,
}

/// A change in who may open an SSH session to which node as which login (`login` `*`: any
/// login the rules do not name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshRow {
    /// The source and destination identities (tags, or the owner's login).
    pub src: String,
    pub dst: String,
    pub src_nodes: Vec<String>,
    pub dst_nodes: Vec<String>,
    pub login: String,
    pub old: crate::compile::SshVerdict,
    pub new: crate::compile::SshVerdict,
    /// The local user the login maps to.
    pub old_user: Option<String>,
    pub new_user: Option<String>,
    /// The `ssh` rule that decided, on each side.
    pub old_rule: Option<crate::compile::SshOrigin>,
    pub new_rule: Option<crate::compile::SshOrigin>,
}

/// Flows one policy allows and the other denies: every combination of a source address in
/// `src_ips`, a destination in `dst_ips`, a protocol and a port (on each node in `via`, for
/// routed destinations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRow {
    /// Source identities: tags (`tag:a,tag:b` for a node with both), user logins, host
    /// aliases, or `other addresses`.
    pub src: Vec<String>,
    /// Destination identities, host aliases, routed prefixes, or `autogroup:internet`.
    pub dst: Vec<String>,
    pub src_ips: IpSet,
    pub dst_ips: IpSet,
    /// IANA numbers.
    pub protos: Vec<u8>,
    /// Disjoint, sorted; `*` (0-65535) for protocols without ports.
    pub ports: Vec<PortRange>,
    /// For destinations behind a subnet router or exit node: the nodes whose filter changed.
    pub via: Vec<String>,
    /// Rules of the old policy: for a removed row, those that allowed it; for an added row,
    /// the same rule (same section and index, same sources or destinations) before the edit.
    pub old_rules: Vec<Origin>,
    /// Rules of the new policy, the other way round.
    pub new_rules: Vec<Origin>,
    pub example: Example,
}

/// A packet one policy allows and the other denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    pub src_ip: std::net::IpAddr,
    pub dst_ip: std::net::IpAddr,
    pub proto: u8,
    pub port: u16,
}

/// Who can become what: a name added to (or removed from) `tagOwners`, `autoApprovers`,
/// `nodeAttrs` targets or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRow {
    /// `tagOwners`, `autoApprovers.routes`, `autoApprovers.exitNode`,
    /// `autoApprovers.services`, `groups` or `nodeAttrs`.
    pub section: &'static str,
    /// The tag, prefix, service, group, or node attribute.
    pub target: String,
    /// Who gains (added rows) or loses (removed rows) it, as written.
    pub who: Vec<String>,
    /// Where the entry is in the old and the new policy.
    pub old_span: Option<crate::Span>,
    pub new_span: Option<crate::Span>,
}

/// Every change between two valid policies. With `inventory`, the nodes are its nodes;
/// without, hypothetical ones for every identity and address either policy mentions.
pub fn diff(old: &Policy, new: &Policy, inventory: Option<&Inventory>) -> Diff {
    match inventory {
        Some(inventory) => diff_on(old, new, inventory, false),
        None => diff_on(old, new, &symbolic_tailnet(old, new, &[]), true),
    }
}

/// [`diff`] on a given tailnet (`symbolic`: it is [`symbolic_tailnet`]'s).
pub fn diff_on(old: &Policy, new: &Policy, tailnet: &Inventory, symbolic: bool) -> Diff {
    let (old_compiled, new_compiled) = (
        crate::compile::Compiled::new(old, tailnet),
        crate::compile::Compiled::new(new, tailnet),
    );
    let (mut added, mut removed) = access_changes(&old_compiled, &new_compiled);
    let (ssh_added, ssh_removed) = ssh::ssh_changes(&old_compiled, &new_compiled);
    added.extend(ssh_added.into_iter().map(|r| Row::Ssh(Box::new(r))));
    removed.extend(ssh_removed.into_iter().map(|r| Row::Ssh(Box::new(r))));
    let (owners_added, owners_removed) = owner_changes(old, new);
    added.extend(owners_added.into_iter().map(Row::Owner));
    removed.extend(owners_removed.into_iter().map(Row::Owner));
    if symbolic {
        without_routers(old, new, tailnet, &mut added, &mut removed);
    }
    Diff {
        added,
        removed,
        symbolic,
    }
}

/// `*` as a source holds every approved subnet route, so a hypothetical router puts its
/// prefix in `*`; in a tailnet without that router the prefix is not in `*`. When a policy
/// has `*` sources, the access of sources inside the routed prefixes is also compared on the
/// tailnet without the routers, and those rows that differ are added.
fn without_routers(
    old: &Policy,
    new: &Policy,
    tailnet: &Inventory,
    added: &mut Vec<Row>,
    removed: &mut Vec<Row>,
) {
    let routed: IpSet = tailnet
        .nodes
        .iter()
        .flat_map(|n| n.approved_routes.iter())
        .filter(|r| r.prefix_len() > 0)
        .copied()
        .collect();
    if routed.is_empty() || !(wildcard_source(old) || wildcard_source(new)) {
        return;
    }
    let mut bare = tailnet.clone();
    bare.nodes
        .retain(|n| !n.approved_routes.iter().any(|r| r.prefix_len() > 0));
    let (old_compiled, new_compiled) = (
        crate::compile::Compiled::new(old, &bare),
        crate::compile::Compiled::new(new, &bare),
    );
    let (more_added, more_removed) =
        network::access_changes_of(&old_compiled, &new_compiled, Some(&routed));
    for (rows, more) in [(added, more_added), (removed, more_removed)] {
        for row in more {
            let row = match row {
                Row::Network(mut r) => {
                    r.src_ips = r.src_ips.intersection(&routed);
                    let Some(first) = r.src_ips.ranges().next().map(|f| f.first()) else {
                        continue;
                    };
                    r.example.src_ip = first;
                    Row::Network(r)
                }
                Row::Capability(mut r) => {
                    r.src_ips = r.src_ips.intersection(&routed);
                    if r.src_ips.is_empty() {
                        continue;
                    }
                    Row::Capability(r)
                }
                Row::Ssh(_) | Row::Owner(_) => continue,
            };
            if !rows.contains(&row) {
                rows.push(row);
            }
        }
    }
}

/// Does a rule of `policy` name `*` as a source (or the policy allow everything)?
fn wildcard_source(policy: &Policy) -> bool {
    let star = |list: &crate::model::List<crate::model::Str>| {
        list.items.iter().any(|s| s.value.trimmed() == "*")
    };
    (policy.acls.is_none() && policy.grants.is_none())
        || policy
            .acls
            .iter()
            .flat_map(|l| l.items.iter())
            .any(|r| star(&r.src))
        || policy
            .grants
            .iter()
            .flat_map(|l| l.items.iter())
            // A grant's destinations are the sources of its reversed companion capabilities.
            .any(|g| star(&g.src) || (g.app.is_some() && star(&g.dst)))
}

/// One hypothetical node per identity or address that either policy's rules mention (and
/// per text of `extra`), the same for both policies.
pub fn symbolic_tailnet(old: &Policy, new: &Policy, extra: &[&str]) -> Inventory {
    let mut texts: Vec<String> = extra.iter().map(|t| t.trimmed().to_owned()).collect();
    for policy in [old, new] {
        texts.extend(mentioned(policy));
    }
    texts.sort();
    texts.dedup();
    let empty = Inventory::default();
    let first = crate::query::with_identities(old, &empty, texts.iter().map(String::as_str));
    let mut tailnet = crate::query::with_identities(new, &first, texts.iter().map(String::as_str));
    add_routers(&mut tailnet, [old, new], &texts);
    tailnet
}

/// The addresses `selector` stands for on `tailnet` under `policy` (a tag, user, group, host
/// alias, CIDR or autogroup), for `--no-new-access-for`.
pub fn selector_addrs(policy: &Policy, tailnet: &Inventory, selector: &str) -> IpSet {
    let resolver = crate::resolve::Resolver::new(policy, tailnet);
    let selector = selector.trimmed();
    let parsed = crate::selector::Selector::parse(selector);
    let mut set = crate::resolve::union_of(&resolver.source_addrs(&parsed));
    set.insert_set(&resolver.address_set(&parsed));
    // A node name also counts.
    for node in resolver.nodes.iter().filter(|n| n.name == selector) {
        set.insert_set(&node.addrs.iter().copied().collect());
    }
    set
}

impl Diff {
    /// Does the change let `addrs` reach more, or more reach `addrs` (network access or
    /// application capabilities)?
    pub fn widens(&self, addrs: &IpSet) -> bool {
        self.added.iter().any(|row| match row {
            Row::Network(r) => r.src_ips.overlaps(addrs) || r.dst_ips.overlaps(addrs),
            Row::Capability(r) => r.src_ips.overlaps(addrs) || r.dst_ips.overlaps(addrs),
            Row::Ssh(_) | Row::Owner(_) => false,
        })
    }
}

/// The selectors of a policy's rules (destinations without ports).
fn mentioned(policy: &Policy) -> Vec<String> {
    let mut out = Vec::new();
    let mut src = |text: &str| out.push(text.trimmed().to_owned());
    for rule in policy.acls.iter().flat_map(|l| l.items.iter()) {
        rule.src.items.iter().for_each(|s| src(&s.value));
    }
    for grant in policy.grants.iter().flat_map(|l| l.items.iter()) {
        grant.src.items.iter().for_each(|s| src(&s.value));
        grant.dst.items.iter().for_each(|s| src(&s.value));
    }
    for rule in &policy.ssh {
        rule.src.items.iter().for_each(|s| src(&s.value));
        rule.dst.items.iter().for_each(|s| src(&s.value));
    }
    for owners in &policy.tag_owners {
        src(&owners.name.value);
    }
    for rule in policy.acls.iter().flat_map(|l| l.items.iter()) {
        for dst in &rule.dst.items {
            let text = dst.value.trimmed();
            if let Ok((host, _)) = crate::ports::split_destination_and_port(text) {
                out.push(host.into_owned());
            }
        }
    }
    out
}

/// Hypothetical routers: one per prefix outside the tailnet that `texts` name (directly or
/// through a host alias of either policy), and an exit node when the internet is named.
fn add_routers(tailnet: &mut Inventory, policies: [&Policy; 2], texts: &[String]) {
    use crate::selector::{Autogroup, Selector, parse_prefix};
    let mut prefixes: Vec<ipnet::IpNet> = Vec::new();
    let mut internet = false;
    for text in texts {
        match Selector::parse(text) {
            Selector::Prefix(net) => prefixes.push(net),
            Selector::Host(name) | Selector::HostRef(name) => prefixes.extend(
                policies
                    .iter()
                    .flat_map(|p| p.hosts.iter())
                    .filter(|h| h.name.value.trimmed() == name)
                    .filter_map(|h| parse_prefix(h.value.value.trimmed())),
            ),
            Selector::Autogroup(Autogroup::Internet) => internet = true,
            _ => {}
        }
    }
    let in_tailnet = |net: &ipnet::IpNet| crate::addr::tailnet().contains(net.network());
    prefixes.retain(|net| !in_tailnet(net) && net.prefix_len() > 0);
    prefixes.sort();
    prefixes.dedup();
    let mut used: Vec<u32> = tailnet
        .nodes
        .iter()
        .filter_map(|n| n.ipv4)
        .map(u32::from)
        .collect();
    let mut next = || {
        // Counting down from the top of 100.96.0.0/12, as hypothetical nodes are given
        // addresses near the top of the tailnet range.
        let mut candidate = u32::from(std::net::Ipv4Addr::new(100, 111, 255, 254));
        while used.contains(&candidate) {
            candidate = candidate.saturating_sub(1);
        }
        used.push(candidate);
        std::net::Ipv4Addr::from(candidate)
    };
    for net in prefixes {
        tailnet.nodes.push(crate::inventory::Node {
            ipv4: Some(next()),
            routable_ips: vec![net],
            approved_routes: vec![net],
            ..crate::inventory::Node::named(format!("router for {net} (hypothetical)"))
        });
    }
    if internet {
        let exit: Vec<ipnet::IpNet> = ["0.0.0.0/0", "::/0"]
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect();
        tailnet.nodes.push(crate::inventory::Node {
            ipv4: Some(next()),
            routable_ips: exit.clone(),
            approved_routes: exit,
            ..crate::inventory::Node::named("exit node (hypothetical)".to_owned())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depot() -> (String, Inventory) {
        let text = include_str!("../../../../fixtures/depot/policy.hujson").to_owned();
        let inventory =
            Inventory::parse(include_str!("../../../../fixtures/depot/inventory.json")).unwrap();
        (text, inventory)
    }

    fn parse(text: &str) -> Policy {
        crate::parse_valid(text, &crate::CheckOptions::default()).unwrap()
    }

    fn widened(text: &str) -> String {
        text.replace(r#"["database:5432"]"#, r#"["database:5432,22"]"#)
    }

    #[test]
    fn a_widened_rule_adds_exactly_its_new_port() {
        let (text, inventory) = depot();
        let (old, new) = (parse(&text), parse(&widened(&text)));
        let diff = diff(&old, &new, Some(&inventory));
        assert!(diff.removed.is_empty());
        let [Row::Network(row)] = diff.added.as_slice() else {
            panic!("{diff:#?}");
        };
        assert_eq!(row.src, ["tag:depot-runner"]);
        assert_eq!(row.dst, ["tag:database"]);
        assert_eq!(row.protos, [6]);
        assert_eq!(row.ports, [PortRange::single(22)]);
        assert_eq!(row.dst_ips.to_wire_strings(), ["100.101.102.103"]);
        assert_eq!(row.new_rules.len(), 1);
        assert_eq!(row.old_rules.len(), 1);
        assert_eq!(row.example.port, 22);
        // The reverse is the same row, removed.
        let back = super::diff(&new, &old, Some(&inventory));
        assert!(back.added.is_empty());
        assert_eq!(back.removed.len(), 1);
    }

    #[test]
    fn without_an_inventory_the_identities_stand_for_devices() {
        let (text, _) = depot();
        let (old, new) = (parse(&text), parse(&widened(&text)));
        let diff = diff(&old, &new, None);
        assert!(diff.symbolic);
        let [Row::Network(row)] = diff.added.as_slice() else {
            panic!("{diff:#?}");
        };
        assert_eq!(row.src, ["tag:depot-runner"]);
        assert_eq!(row.dst, ["database"]);
        assert_eq!(row.ports, [PortRange::single(22)]);
    }

    #[test]
    fn reordering_and_reformatting_change_nothing() {
        let old = parse(
            r#"{"tagOwners": {"tag:a": [], "tag:b": []},
              "acls": [{"action": "accept", "src": ["tag:a"], "dst": ["tag:b:22"]},
                       {"action": "accept", "src": ["tag:b"], "dst": ["tag:a:80"]}]}"#,
        );
        let new = parse(
            r#"{"acls": [
                {"action": "accept", "src": ["tag:b"], "dst": ["tag:a:80"]},
                {"action": "accept", "src": ["tag:a"], "dst": ["tag:b:22", "tag:b:22"]},
              ],
              "tagOwners": {"tag:b": [], "tag:a": []}}"#,
        );
        assert!(diff(&old, &new, None).unchanged());
    }

    #[test]
    fn ssh_check_to_accept_and_a_new_login_are_added_rows() {
        let (text, inventory) = depot();
        let new_text = text
            .replace(r#""action":      "check","#, r#""action":      "accept","#)
            .replace(r#"["root", "ubuntu"]"#, r#"["root", "ubuntu", "postgres"]"#);
        let (old, new) = (parse(&text), parse(&new_text));
        let diff = diff(&old, &new, Some(&inventory));
        assert!(diff.removed.is_empty(), "{:#?}", diff.removed);
        let ssh: Vec<&SshRow> = diff.added.iter().filter_map(Row::as_ssh).collect();
        assert_eq!(ssh.len(), 9, "{ssh:#?}");
        use crate::compile::SshVerdict::{Accept, Check, Deny};
        for row in &ssh {
            assert_eq!(row.src, "alice@example.com");
            let expected = if row.login == "postgres" { Deny } else { Check };
            assert_eq!((row.old, row.new), (expected, Accept), "{row:#?}");
        }
        // Back again: the same rows, removed.
        let back = super::diff(&new, &old, Some(&inventory));
        assert_eq!(back.removed.len(), 9);
    }

    #[test]
    fn capability_values_gained_and_lost_are_rows() {
        let inventory = Inventory::parse(
            r#"{"users": [{"id": 1, "name": "alice", "email": "alice@example.com"}],
                "nodes": [{"name": "laptop", "ipv4": "100.64.0.1", "user": "alice"},
                          {"name": "web", "ipv4": "100.64.0.2", "tags": ["tag:web"]},
                          {"name": "ci", "ipv4": "100.64.0.3", "tags": ["tag:ci"]}]}"#,
        )
        .unwrap();
        let policy = |apps: &str| {
            parse(&format!(
                r#"{{"tagOwners": {{"tag:web": [], "tag:ci": []}},
                    "grants": [{{"src": ["alice@example.com"], "dst": ["tag:web"],
                                 "app": {{"example.com/cap/web": [{apps}]}}}},
                               {{"src": ["tag:ci"], "dst": ["tag:web"], "ip": ["443"]}}]}}"#
            ))
        };
        let old = policy(r#"{"role": "viewer"}"#);
        let new = policy(r#"{"role": "viewer"}, {"role": "admin"}"#);
        let diff = diff(&old, &new, Some(&inventory));
        assert!(diff.removed.is_empty(), "{diff:#?}");
        let [Row::Capability(row)] = diff.added.as_slice() else {
            panic!("{diff:#?}");
        };
        assert_eq!(row.capability, "example.com/cap/web");
        assert_eq!(row.values, [serde_json::json!({"role": "admin"})]);
        assert!(!row.whole);
        assert_eq!(row.src, ["alice@example.com"]);
        assert_eq!(row.dst, ["tag:web"]);
        assert_eq!(row.dst_nodes, ["web"]);
        assert_eq!(row.src_ips.to_wire_strings(), ["100.64.0.1"]);
        assert_eq!((row.old_rules.len(), row.new_rules.len()), (1, 1));
        // Removing the grant loses the capability whole.
        let none = parse(
            r#"{"tagOwners": {"tag:web": [], "tag:ci": []},
                "grants": [{"src": ["tag:ci"], "dst": ["tag:web"], "ip": ["443"]}]}"#,
        );
        let gone = super::diff(&new, &none, Some(&inventory));
        assert!(gone.added.is_empty(), "{gone:#?}");
        let [Row::Capability(row)] = gone.removed.as_slice() else {
            panic!("{gone:#?}");
        };
        assert!(row.whole);
        assert_eq!(row.values.len(), 2);
        // Same capabilities written in another order: unchanged.
        let reordered = policy(r#"{"role": "admin"}, {"role": "viewer"}"#);
        assert!(super::diff(&new, &reordered, Some(&inventory)).unchanged());
    }

    /// A hypothetical router for `10.1.0.0/24` puts the prefix in `*`; a tailnet without it
    /// does not, and there the new rule newly allows ICMP from the prefix (the GRE rule from
    /// `*` already allowed it with the router).
    #[test]
    fn without_an_inventory_prefixes_are_also_compared_outside_star() {
        let old = parse(
            r#"{"tagOwners": {"tag:a": []},
                "acls": [{"action": "accept", "src": ["*"], "proto": "gre", "dst": ["*:*"]}]}"#,
        );
        let new = parse(
            r#"{"tagOwners": {"tag:a": []},
                "acls": [{"action": "accept", "src": ["*"], "proto": "gre", "dst": ["*:*"]},
                         {"action": "accept", "src": ["10.1.0.0/24"], "dst": ["tag:a:22"]}]}"#,
        );
        let diff = diff(&old, &new, None);
        let icmp = diff.added.iter().any(|r| match r {
            Row::Network(r) => {
                r.src == ["10.1.0.0/24"] && r.dst == ["tag:a"] && r.protos.contains(&1)
            }
            _ => false,
        });
        assert!(icmp, "{diff:#?}");
    }

    #[test]
    fn tag_owner_changes_are_rows() {
        let old = parse(r#"{"tagOwners": {"tag:ci": ["alice@example.com"]}, "acls": []}"#);
        let new = parse(
            r#"{"tagOwners": {"tag:ci": ["alice@example.com", "bob@example.com"]}, "acls": []}"#,
        );
        let diff = diff(&old, &new, None);
        let [Row::Owner(row)] = diff.added.as_slice() else {
            panic!("{diff:#?}");
        };
        assert_eq!((row.section, row.target.as_str()), ("tagOwners", "tag:ci"));
        assert_eq!(row.who, ["bob@example.com"]);
    }
}
