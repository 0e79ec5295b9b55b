//! Name resolution: which nodes and addresses a selector stands for, given a policy and an
//! inventory (policy-semantics §3.4).

use crate::fasthash::{FastMap as HashMap, FastSet as HashSet};
use crate::text::{Trimmed, ascii_lowercase};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::addr::{IpRange, IpSet, format_net, internet, tailnet_v4, tailnet_v6};
use crate::inventory::{Inventory, Node, User};
use crate::model::Policy;
use crate::selector::{Autogroup, Selector, parse_prefix};

/// One address entry as Tailscale writes it in `SrcIPs` or `DstPorts.IP`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    /// `*`: every address.
    Any,
    Net(IpNet),
    Range(IpRange),
}

impl Addr {
    /// The wire form: `*`, a bare IP for a host prefix, a CIDR, or `first-last`.
    pub fn wire(&self) -> String {
        match self {
            Addr::Any => "*".to_owned(),
            Addr::Net(net) => format_net(net),
            Addr::Range(range) => range.to_range_string(),
        }
    }

    /// The addresses covered; `*` is every address.
    pub fn to_set(&self) -> IpSet {
        match self {
            Addr::Any => IpSet::all(),
            Addr::Net(net) => IpSet::from_net(net),
            Addr::Range(range) => IpSet::from_range(*range),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match self {
            Addr::Any => true,
            Addr::Net(net) => net.contains(&ip),
            Addr::Range(range) => range.contains(ip),
        }
    }
}

/// A node as resolution sees it: its addresses and identity.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub addrs: Vec<IpAddr>,
    /// The owner's login (lowercased) for user-owned nodes.
    pub login: Option<String>,
    pub user_id: Option<u64>,
    pub roles: Vec<String>,
    /// Lowercased tags; non-empty for tagged nodes.
    pub tags: Vec<String>,
    /// Approved routes other than exit routes.
    pub subnet_routes: Vec<IpNet>,
    /// Advertised routes, approved or not.
    pub advertised: Vec<IpNet>,
    /// Has an approved `0.0.0.0/0` or `::/0`.
    pub exit_node: bool,
    /// Advertised routes that `autoApprovers` approve although the inventory does not list
    /// them as approved (already included in `subnet_routes` / `exit_node`).
    pub auto_approved: Vec<IpNet>,
    /// Routes the inventory marks this node as primary router for.
    pub primary_routes: Vec<IpNet>,
    /// Shared in from another tailnet, or owned by a user who was shared in: in
    /// `autogroup:shared`, not in `autogroup:member`.
    pub shared: bool,
}

impl NodeInfo {
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }

    pub fn has_addr(&self, ip: IpAddr) -> bool {
        self.addrs.contains(&ip)
    }

    /// The node's own addresses as host prefixes.
    pub fn host_nets(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.addrs.iter().map(|a| IpNet::from(*a))
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        // `self.tags` are lowercase: comparing ignoring ASCII case equals comparing with the
        // lowercased tag, without allocating (this runs for every node and selector).
        let tag = tag.trimmed();
        self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

pub fn is_exit_route(net: &IpNet) -> bool {
    net.prefix_len() == 0
}

/// Resolves selectors against one policy and inventory.
#[derive(Clone)]
pub struct Resolver<'a> {
    pub policy: &'a Policy,
    pub nodes: Vec<NodeInfo>,
    groups: HashMap<&'a str, GroupMembers>,
    hosts: HashMap<&'a str, IpNet>,
    /// Untagged nodes by owner login (lowercase), and nodes by tag (lowercase), in node
    /// order: users, groups and tags resolve without scanning every node.
    by_login: HashMap<String, Vec<usize>>,
    by_tag: HashMap<String, Vec<usize>>,
}

/// A group's members, trimmed and lowercased, arranged for [`login_matches`] without a scan:
/// whole logins in a set, and the names of headscale's bare `name@` forms.
#[derive(Clone, Default)]
struct GroupMembers {
    logins: HashSet<String>,
    bare: Vec<String>,
}

impl GroupMembers {
    /// True when some member matches `login` ([`login_matches`] of any member).
    fn matches(&self, login: &str) -> bool {
        self.logins.contains(ascii_lowercase(login).as_ref())
            || self.bare.iter().any(|name| {
                login
                    .split('@')
                    .next()
                    .is_some_and(|l| l.eq_ignore_ascii_case(name))
            })
    }
}

/// A selector's addresses: its own (a prefix, a host, `*`, ...), or those of the nodes that
/// match it, which callers gather as a list or straight into a set.
enum Resolution {
    Addrs(Vec<Addr>),
    Nodes,
}

impl<'a> Resolver<'a> {
    pub fn new(policy: &'a Policy, inventory: &Inventory) -> Self {
        Self::with_extra_nodes(policy, inventory, Vec::new())
    }

    /// As [`new`](Self::new), with `extra` nodes after the inventory's, given in resolved
    /// form (the redundant-rule lint's stand-in devices, built without an inventory copy).
    pub fn with_extra_nodes(
        policy: &'a Policy,
        inventory: &Inventory,
        extra: Vec<NodeInfo>,
    ) -> Self {
        let users = UserIndex::new(inventory);
        let mut nodes: Vec<NodeInfo> = Vec::with_capacity(inventory.nodes.len() + extra.len());
        for node in &inventory.nodes {
            nodes.push(node_info(node, &users));
        }
        nodes.extend(extra);
        let mut groups = HashMap::default();
        for g in &policy.groups {
            let mut members = GroupMembers::default();
            for member in g.values.iter() {
                let member = member.value.trimmed().to_ascii_lowercase();
                if let Some(name) = member.strip_suffix('@') {
                    members.bare.push(name.to_owned());
                }
                members.logins.insert(member);
            }
            groups.insert(g.name.value.as_str(), members);
        }
        let mut hosts = HashMap::default();
        for h in &policy.hosts {
            if let Some(prefix) = parse_prefix(h.value.value.trimmed()) {
                hosts.insert(h.name.value.as_str(), prefix);
            }
        }
        let mut by_login: HashMap<String, Vec<usize>> = HashMap::default();
        let mut by_tag: HashMap<String, Vec<usize>> = HashMap::default();
        for (i, node) in nodes.iter().enumerate() {
            if let Some(login) = &node.login
                && !node.is_tagged()
            {
                by_login
                    .entry(login.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
            for tag in &node.tags {
                let list = by_tag.entry(tag.to_ascii_lowercase()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        let mut resolver = Self {
            policy,
            nodes,
            groups,
            hosts,
            by_login,
            by_tag,
        };
        resolver.apply_auto_approval();
        resolver
    }

    /// Routes a node advertises that `autoApprovers` cover are approved when advertised, so
    /// they count as approved even when the inventory does not list them.
    fn apply_auto_approval(&mut self) {
        let mut approvals = Vec::new();
        for (index, node) in self.nodes.iter().enumerate() {
            for route in &node.advertised {
                let approved = if is_exit_route(route) {
                    node.exit_node
                } else {
                    node.subnet_routes.contains(route)
                };
                if !approved && self.auto_approves(node, route) {
                    approvals.push((index, *route));
                }
            }
        }
        for (index, route) in approvals {
            if let Some(node) = self.nodes.get_mut(index) {
                node.auto_approved.push(route);
                if is_exit_route(&route) {
                    node.exit_node = true;
                } else {
                    node.subnet_routes.push(route);
                }
            }
        }
    }

    pub fn host(&self, name: &str) -> Option<IpNet> {
        self.hosts.get(name).copied()
    }

    /// A host alias as wire entries: its prefix, or none when it is not defined.
    fn host_addrs(&self, name: &str) -> Vec<Addr> {
        let mut out = Vec::new();
        if let Some(net) = self.host(name) {
            out.push(Addr::Net(net));
        }
        out
    }

    /// Does a user-identity selector name the owner of `node`?
    fn user_matches(&self, selector: &Selector<'_>, node: &NodeInfo) -> bool {
        let Some(login) = node.login.as_deref() else {
            return false;
        };
        if node.is_tagged() {
            return false;
        }
        match selector {
            Selector::User(user) => login_matches(user, login),
            Selector::Group(group) => self
                .groups
                .get(group)
                .is_some_and(|members| members.matches(login)),
            Selector::UserDomain(domain) => login
                .rsplit_once('@')
                .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)),
            Selector::Autogroup(Autogroup::Member) => !node.shared,
            Selector::Autogroup(Autogroup::Shared) => node.shared,
            Selector::Autogroup(a) => a
                .role()
                .is_some_and(|role| node.roles.iter().any(|r| r == role)),
            _ => false,
        }
    }

    /// True when `node` is one of the nodes the selector names by identity (users, groups,
    /// tags, autogroups) or by address (IPs, hosts, ipsets).
    pub fn node_matches(&self, selector: &Selector<'_>, node: &NodeInfo) -> bool {
        match selector {
            Selector::Wildcard | Selector::Autogroup(Autogroup::DangerAll) => true,
            Selector::Tag(tag) => node.has_tag(tag),
            Selector::Autogroup(Autogroup::Tagged) => node.is_tagged(),
            Selector::User(_) | Selector::Group(_) | Selector::UserDomain(_) => {
                self.user_matches(selector, node)
            }
            Selector::Autogroup(a)
                if matches!(a, Autogroup::Member | Autogroup::Shared) || a.is_role() =>
            {
                self.user_matches(selector, node)
            }
            Selector::Autogroup(_) | Selector::UnknownAutogroup(_) => false,
            _ => {
                let set = self.address_set(selector);
                node.addrs.iter().any(|a| set.contains(*a))
            }
        }
    }

    /// The nodes [`node_matches`](Self::node_matches) accepts, in node order (a list, not
    /// a boxed iterator: one body, no adapter code per caller).
    fn matching(&self, selector: &Selector<'_>) -> Vec<&NodeInfo> {
        let mut out = Vec::new();
        match self.matching_nodes(selector) {
            Some(indices) => {
                for i in indices {
                    out.extend(self.nodes.get(i));
                }
            }
            None => {
                for node in &self.nodes {
                    if self.node_matches(selector, node) {
                        out.push(node);
                    }
                }
            }
        }
        out
    }

    /// The host prefixes of the nodes [`node_matches`](Self::node_matches) accepts, in node
    /// order.
    fn matching_host_nets(&self, selector: &Selector<'_>) -> Vec<IpNet> {
        let mut out = Vec::new();
        for node in self.matching(selector) {
            for net in node.host_nets() {
                out.push(net);
            }
        }
        out
    }

    /// The addresses of the nodes [`node_matches`](Self::node_matches) accepts, in node order.
    fn matching_node_addrs(&self, selector: &Selector<'_>) -> Vec<Addr> {
        let mut out = Vec::new();
        for node in self.matching(selector) {
            for net in node.host_nets() {
                out.push(Addr::Net(net));
            }
        }
        out
    }

    /// The addresses of [`matching_node_addrs`](Self::matching_node_addrs) as a set, built
    /// without the list.
    fn matching_node_set(&self, selector: &Selector<'_>) -> IpSet {
        IpSet::from_nets(self.matching_host_nets(selector))
    }

    /// `union_of(&self.source_addrs(selector))`, without the list for selectors of nodes.
    pub fn source_set(&self, selector: &Selector<'_>) -> IpSet {
        match self.source_resolution(selector) {
            Resolution::Addrs(addrs) => union_of(&addrs),
            Resolution::Nodes => self.matching_node_set(selector),
        }
    }

    /// `union_of(&self.destination_addrs(selector))`, without the list for selectors of
    /// nodes.
    pub fn destination_set(&self, selector: &Selector<'_>) -> IpSet {
        match self.destination_resolution(selector) {
            Resolution::Addrs(addrs) => union_of(&addrs),
            Resolution::Nodes => self.matching_node_set(selector),
        }
    }

    /// For tags, users and groups: the indices of the nodes `node_matches` accepts, found
    /// through `by_tag` and `by_login`, ascending. `None` when the nodes must be scanned
    /// (other selectors, and headscale's bare `name@` logins).
    fn matching_nodes(&self, selector: &Selector<'_>) -> Option<Vec<usize>> {
        let logins = |logins: &mut dyn Iterator<Item = &str>| {
            let mut out: Vec<usize> = Vec::new();
            for login in logins {
                if let Some(nodes) = self.by_login.get(login) {
                    out.extend_from_slice(nodes);
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        };
        match selector {
            Selector::Tag(tag) => Some(
                self.by_tag
                    .get(&tag.trimmed().to_ascii_lowercase())
                    .cloned()
                    .unwrap_or_default(),
            ),
            Selector::User(user) => {
                let user = user.trimmed();
                if user.ends_with('@') {
                    return None;
                }
                let user = ascii_lowercase(user);
                Some(logins(&mut std::iter::once(user.as_ref())))
            }
            Selector::Group(group) => match self.groups.get(group) {
                None => Some(Vec::new()),
                Some(members) if members.bare.is_empty() => {
                    Some(logins(&mut members.logins.iter().map(String::as_str)))
                }
                Some(_) => None,
            },
            _ => None,
        }
    }

    /// Addresses named literally: IPs, CIDRs, ranges, hosts and ipsets (empty for identities).
    pub fn address_set(&self, selector: &Selector<'_>) -> IpSet {
        match selector {
            Selector::Prefix(net) => IpSet::from_net(net),
            Selector::Range(first, last) => IpSet::from_bounds(*first, *last).unwrap_or_default(),
            Selector::Host(name) | Selector::HostRef(name) => self
                .host(name)
                .map(|n| IpSet::from_net(&n))
                .unwrap_or_default(),
            Selector::IpSet(name) => self.ipset(name, 0),
            Selector::Autogroup(Autogroup::Internet) => internet(),
            _ => IpSet::default(),
        }
    }

    /// Evaluates an ipset's ordered add/remove operations.
    fn ipset(&self, name: &str, depth: usize) -> IpSet {
        let mut set = IpSet::default();
        if depth > 32 {
            return set;
        }
        let Some(entry) = self.policy.ipsets.iter().find(|s| s.name.value == name) else {
            return set;
        };
        for item in entry.values.iter() {
            let text = item.value.trimmed();
            let (remove, target) = if let Some(rest) = text.strip_prefix("remove ") {
                (true, rest.trimmed())
            } else {
                (false, text.strip_prefix("add ").unwrap_or(text).trimmed())
            };
            let addrs = match Selector::parse(target) {
                Selector::IpSet(other) => self.ipset(other, depth + 1),
                selector => self.address_set(&selector),
            };
            if remove {
                set.remove_set(&addrs);
            } else {
                set.insert_set(&addrs);
            }
        }
        set
    }

    /// The `SrcIPs` entries for one source selector, in Tailscale's form.
    pub fn source_addrs(&self, selector: &Selector<'_>) -> Vec<Addr> {
        match self.source_resolution(selector) {
            Resolution::Addrs(addrs) => addrs,
            Resolution::Nodes => self.matching_node_addrs(selector),
        }
    }

    /// What `selector` stands for as a source: addresses of its own, or the matching nodes'.
    fn source_resolution(&self, selector: &Selector<'_>) -> Resolution {
        Resolution::Addrs(match selector {
            Selector::Wildcard => self.wildcard_sources(),
            Selector::Autogroup(Autogroup::DangerAll) => vec![Addr::Any],
            Selector::Prefix(net) => vec![Addr::Net(*net)],
            Selector::Host(name) | Selector::HostRef(name) => self.host_addrs(name),
            Selector::Range(..) | Selector::IpSet(_) | Selector::Autogroup(Autogroup::Internet) => {
                set_addrs(&self.address_set(selector))
            }
            _ => return Resolution::Nodes,
        })
    }

    /// `*` as a source: the tailnet ranges plus every approved subnet route.
    pub fn wildcard_sources(&self) -> Vec<Addr> {
        let mut out: Vec<Addr> = set_addrs(&tailnet_v4().union(&tailnet_v6()));
        for node in &self.nodes {
            for route in &node.subnet_routes {
                let addr = Addr::Net(*route);
                if !out.contains(&addr) {
                    out.push(addr);
                }
            }
        }
        out
    }

    /// The `DstPorts.IP` entries for one destination selector (not `autogroup:self`).
    pub fn destination_addrs(&self, selector: &Selector<'_>) -> Vec<Addr> {
        match self.destination_resolution(selector) {
            Resolution::Addrs(addrs) => addrs,
            Resolution::Nodes => self.matching_node_addrs(selector),
        }
    }

    /// What `selector` stands for as a destination: addresses of its own, or the matching
    /// nodes'.
    fn destination_resolution(&self, selector: &Selector<'_>) -> Resolution {
        Resolution::Addrs(match selector {
            Selector::Wildcard => vec![Addr::Any],
            Selector::Prefix(net) => vec![Addr::Net(*net)],
            Selector::Host(name) | Selector::HostRef(name) => self.host_addrs(name),
            // Tailscale writes the internet as address ranges, never prefixes [capture routes-b17].
            Selector::Autogroup(Autogroup::Internet) => {
                let mut out = Vec::new();
                for range in internet().ranges() {
                    out.push(Addr::Range(range));
                }
                out
            }
            Selector::Range(..) | Selector::IpSet(_) => set_addrs(&self.address_set(selector)),
            Selector::Autogroup(Autogroup::SelfDevices) | Selector::Service(_) => Vec::new(),
            _ => return Resolution::Nodes,
        })
    }

    /// Would `autoApprovers` approve `route` advertised by `node`?
    pub fn auto_approves(&self, node: &NodeInfo, route: &IpNet) -> bool {
        let approvers = &self.policy.auto_approvers;
        let identity_matches = |text: &str| {
            let selector = Selector::parse(text);
            match selector {
                Selector::Tag(_)
                | Selector::Autogroup(_)
                | Selector::User(_)
                | Selector::Group(_)
                | Selector::UserDomain(_) => self.node_matches(&selector, node),
                _ => false,
            }
        };
        // Exit routes are approved only by `exitNode`: a `routes` key of `0.0.0.0/0` or
        // `::/0` does not approve them (every routes capture agrees).
        if is_exit_route(route) {
            return approvers
                .exit_node
                .iter()
                .any(|a| identity_matches(&a.value));
        }
        approvers.routes.iter().any(|entry| {
            parse_prefix(entry.name.value.trimmed())
                .is_some_and(|key| key.trunc().contains(&route.trunc()))
                && entry.values.iter().any(|a| identity_matches(&a.value))
        })
    }
}

/// The union of address entries, built in one pass (sorting once rather than merging set by
/// set).
pub fn union_of<'a>(addrs: impl IntoIterator<Item = &'a Addr> + Clone) -> IpSet {
    if addrs.clone().into_iter().any(|a| *a == Addr::Any) {
        return IpSet::all();
    }
    let mut nets = Vec::new();
    for addr in addrs.clone() {
        if let Addr::Net(net) = addr {
            nets.push(*net);
        }
    }
    let mut set = IpSet::from_nets(nets);
    for addr in addrs {
        if let Addr::Range(range) = addr {
            set.insert_range(*range);
        }
    }
    set
}

/// A set as wire entries: one per maximal range (CIDR-aligned ranges as prefixes).
pub fn set_addrs(set: &IpSet) -> Vec<Addr> {
    let mut out = Vec::new();
    for r in set.ranges() {
        out.push(match r.as_net() {
            Some(net) => Addr::Net(net),
            None => Addr::Range(r),
        });
    }
    out
}

fn login_matches(selector: &str, login: &str) -> bool {
    let selector = selector.trimmed();
    if selector.eq_ignore_ascii_case(login) {
        return true;
    }
    // headscale's bare `alice@` form names the user `alice`.
    selector.strip_suffix('@').is_some_and(|name| {
        login
            .split('@')
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(name))
    })
}

/// The inventory's users by name and by email: the first user with either, as a scan in
/// inventory order would find, without scanning for every node. A node whose owner is
/// written as the user's numeric ID (as `tailscale status` and the API identify users)
/// finds its user by ID when no name or email matches.
struct UserIndex<'i> {
    users: &'i [User],
    by_name: HashMap<&'i str, usize>,
    by_email: HashMap<&'i str, usize>,
    by_id: HashMap<u64, usize>,
}

impl<'i> UserIndex<'i> {
    fn new(inventory: &'i Inventory) -> Self {
        let mut by_name = HashMap::default();
        let mut by_email = HashMap::default();
        let mut by_id = HashMap::default();
        for (i, user) in inventory.users.iter().enumerate() {
            by_name.entry(user.name.as_str()).or_insert(i);
            if user.id != 0 {
                by_id.entry(user.id).or_insert(i);
            }
            if let Some(email) = &user.email {
                by_email.entry(email.as_str()).or_insert(i);
            }
        }
        Self {
            users: &inventory.users,
            by_name,
            by_email,
            by_id,
        }
    }

    /// The first user whose name or email is `owner`.
    fn find(&self, owner: &str) -> Option<&'i User> {
        let first = match (self.by_name.get(owner), self.by_email.get(owner)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) | (None, Some(&a)) => a,
            (None, None) => {
                let id = owner.parse::<u64>().ok()?;
                return self.by_id.get(&id).and_then(|&i| self.users.get(i));
            }
        };
        self.users.get(first)
    }
}

fn node_info(node: &Node, users: &UserIndex<'_>) -> NodeInfo {
    let user = node.user.as_deref().and_then(|owner| users.find(owner));
    let login = match (user, node.user.as_deref()) {
        (Some(user), _) => Some(user.login().to_ascii_lowercase()),
        (None, Some(owner)) => Some(owner.to_ascii_lowercase()),
        (None, None) => None,
    };
    let mut addrs = Vec::new();
    if let Some(v4) = node.ipv4 {
        addrs.push(IpAddr::V4(v4));
    }
    if let Some(v6) = node.ipv6 {
        addrs.push(IpAddr::V6(v6));
    }
    let mut tags = Vec::with_capacity(node.tags.len());
    for tag in &node.tags {
        tags.push(tag.trimmed().to_ascii_lowercase());
    }
    let mut subnet_routes = Vec::new();
    let mut exit_node = false;
    for route in &node.approved_routes {
        if is_exit_route(route) {
            exit_node = true;
        } else {
            subnet_routes.push(*route);
        }
    }
    NodeInfo {
        name: node.name.clone(),
        addrs,
        login: if node.tags.is_empty() { login } else { None },
        user_id: user.map(|u| u.id),
        roles: user.map(|u| u.roles.clone()).unwrap_or_default(),
        tags,
        subnet_routes,
        advertised: node.routable_ips.clone(),
        exit_node,
        primary_routes: node.primary_routes.clone(),
        auto_approved: Vec::new(),
        shared: node.shared || user.is_some_and(|u| u.shared),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared-in devices and the devices of shared users are in `autogroup:shared`, not in
    /// `autogroup:member` (policy-semantics §6.9; API `isExternal`, users of `type: shared`).
    #[test]
    fn shared_devices_are_not_members() {
        let inventory = Inventory::parse(
            r#"{
            "users": [
                {"id": 1, "name": "alice", "email": "alice@example.com"},
                {"id": 2, "name": "eve", "email": "eve@other.com", "shared": true}
            ],
            "nodes": [
                {"name": "a", "ipv4": "100.64.0.1", "user": "alice"},
                {"name": "e", "ipv4": "100.64.0.2", "user": "eve"},
                {"name": "s", "ipv4": "100.64.0.3", "user": "alice", "shared": true}
            ]
        }"#,
        )
        .unwrap();
        let policy = Policy::default();
        let resolver = Resolver::new(&policy, &inventory);
        let names = |selector: &str| -> Vec<&str> {
            let selector = Selector::parse(selector);
            resolver
                .nodes
                .iter()
                .filter(|n| resolver.node_matches(&selector, n))
                .map(|n| n.name.as_str())
                .collect()
        };
        assert_eq!(names("autogroup:member"), ["a"]);
        assert_eq!(names("autogroup:shared"), ["e", "s"]);
        assert_eq!(names("eve@other.com"), ["e"]);
    }
}
