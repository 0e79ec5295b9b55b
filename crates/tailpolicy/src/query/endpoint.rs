//! Hypothetical nodes: the inventory plus the devices one query adds (an identity no node
//! has, an address no node holds), and the endpoints of a query resolved on it.

use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Source,
    Destination,
}

/// The inventory plus the hypothetical nodes one query adds, without copying the inventory.
pub(super) struct Overlay<'i> {
    pub(super) base: &'i Inventory,
    /// Lookups into `base`.
    pub(super) lookup: &'i Lookup,
    pub(super) added: Vec<Node>,
    /// Users added for hypothetical role holders.
    pub(super) users: Vec<crate::inventory::User>,
    /// Give any address no node has a hypothetical node of its own, routed or not (the
    /// policy's `tests` ignore route approval).
    pub(super) addresses_as_nodes: bool,
    /// The address [`unused_tailnet_ip`] last gave, where the next search starts (nodes are
    /// only ever added, so no address above it is free again).
    pub(super) free_below: Option<u32>,
}

impl<'i> Overlay<'i> {
    pub(super) fn new(base: &'i Inventory, lookup: &'i Lookup, addresses_as_nodes: bool) -> Self {
        Self {
            base,
            lookup,
            added: Vec::new(),
            users: Vec::new(),
            addresses_as_nodes,
            free_below: None,
        }
    }

    /// The first node with this name.
    pub(super) fn position_by_name(&self, name: &str) -> Option<usize> {
        self.lookup.by_name.get(name).copied().or_else(|| {
            let i = self.added.iter().position(|n| n.name == name)?;
            Some(self.base.nodes.len() + i)
        })
    }

    /// The first node with this address.
    pub(super) fn position_by_addr(&self, ip: IpAddr) -> Option<usize> {
        let addrs = &self.lookup.by_addr;
        let at = addrs.partition_point(|(a, _)| *a < ip);
        let found = addrs.get(at).filter(|(a, _)| *a == ip).map(|&(_, i)| i);
        found.or_else(|| {
            let i = self.added.iter().position(|n| has_addr(n, ip))?;
            Some(self.base.nodes.len() + i)
        })
    }

    /// Does some node advertise a route holding `ip`?
    pub(super) fn routed(&self, ip: IpAddr) -> bool {
        // Exit routes hold every address; only subnet routes count here.
        let holds = |n: &Node| {
            n.routable_ips
                .iter()
                .any(|r| r.prefix_len() > 0 && r.contains(&ip))
        };
        for &i in &self.lookup.advertisers {
            if self.base.nodes.get(i).is_some_and(holds) {
                return true;
            }
        }
        self.added.iter().any(holds)
    }

    /// The first added node (index in the overlay) that fits; the base's nodes are found
    /// through the lookup tables.
    pub(super) fn added_position(&self, predicate: &dyn Fn(&Node) -> bool) -> Option<usize> {
        let i = self.added.iter().position(predicate)?;
        Some(self.base.nodes.len() + i)
    }

    pub(super) fn get(&self, index: usize) -> Option<&Node> {
        match index.checked_sub(self.base.nodes.len()) {
            None => self.base.nodes.get(index),
            Some(added) => self.added.get(added),
        }
    }

    pub(super) fn push(&mut self, node: Node) -> usize {
        self.added.push(node);
        self.base.nodes.len() + self.added.len() - 1
    }

    /// The inventory with the added nodes, when there are any.
    pub(super) fn augmented(&self) -> Option<Inventory> {
        if self.added.is_empty() && self.users.is_empty() {
            return None;
        }
        let mut inventory = self.base.clone();
        inventory.nodes.extend(self.added.iter().cloned());
        inventory.users.extend(self.users.iter().cloned());
        Some(inventory)
    }
}

/// Resolves a query endpoint, adding a hypothetical node to `inventory` when the text names
/// an identity that no node has exactly.
pub(super) fn endpoint(
    policy: &Policy,
    inventory: &mut Overlay<'_>,
    text: &str,
    side: Side,
) -> Result<Endpoint, QueryError> {
    let unknown = || match side {
        Side::Source => QueryError::UnknownSource(text.to_owned()),
        Side::Destination => QueryError::UnknownDestination(text.to_owned()),
    };
    if let Some(index) = inventory.position_by_name(text) {
        let node = inventory.get(index).ok_or_else(unknown)?;
        let ip = node
            .ipv4
            .map(IpAddr::V4)
            .or(node.ipv6.map(IpAddr::V6))
            .ok_or_else(unknown)?;
        return Ok(Endpoint {
            label: text.to_owned(),
            ip,
            node: Some(index),
            hypothetical: false,
            address: false,
        });
    }
    let selector = Selector::parse(text);
    match selector {
        Selector::Prefix(net) => Ok(address_endpoint(inventory, text, net)),
        Selector::Host(name) | Selector::HostRef(name) => {
            let net = policy
                .hosts
                .iter()
                .find(|h| h.name.value == name)
                .and_then(|h| parse_prefix(h.value.value.trimmed()))
                .ok_or_else(unknown)?;
            Ok(address_endpoint(inventory, text, net))
        }
        Selector::Tag(tag) => {
            let tag = tag.to_ascii_lowercase();
            let existing = inventory.lookup.single_tag.get(&tag).copied().or_else(|| {
                inventory.added_position(&|n| {
                    n.tags.len() == 1 && n.tags.iter().all(|t| t.eq_ignore_ascii_case(&tag))
                })
            });
            let owned = policy
                .tag_owners
                .iter()
                .any(|t| t.name.value.trimmed().eq_ignore_ascii_case(&tag));
            if existing.is_none()
                && !owned
                && !inventory.lookup.tags.contains_key(&tag)
                && inventory
                    .added_position(&|n| n.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)))
                    .is_none()
            {
                return Err(QueryError::UnknownTag(tag));
            }
            Ok(identity_endpoint(inventory, text, existing, &|| Node {
                tags: vec![tag.clone()],
                ..Node::named(format!("{tag} (hypothetical)"))
            }))
        }
        Selector::User(login) => Ok(user_endpoint(inventory, text, login)),
        // A member the policy names nowhere, or a user with only this role.
        Selector::Autogroup(Autogroup::Member) => Ok(user_endpoint(inventory, text, MEMBER)),
        Selector::UserDomain(domain) if side == Side::Source => Ok(user_endpoint(
            inventory,
            text,
            &format!("{MEMBER}@{domain}"),
        )),
        Selector::Autogroup(a) if a.is_role() && side == Side::Source => {
            let login = format!("autogroup:{}", a.role().unwrap_or_default());
            if !inventory.users.iter().any(|u| u.name == login) {
                inventory.users.push(crate::inventory::User {
                    id: 0,
                    name: login.clone(),
                    email: None,
                    roles: a.role().map(str::to_owned).into_iter().collect(),
                    shared: false,
                });
            }
            Ok(user_endpoint(inventory, text, &login))
        }
        Selector::Autogroup(Autogroup::Tagged) if side == Side::Source => {
            let tag = policy
                .tag_owners
                .first()
                .map(|t| t.name.value.trimmed().to_owned())
                .ok_or_else(unknown)?;
            endpoint(policy, inventory, &tag, side)
        }
        // Any device: one with no identity matches only what holds for every device.
        Selector::Wildcard | Selector::Autogroup(Autogroup::DangerAll) => {
            Ok(identity_endpoint(inventory, text, None, &|| {
                Node::named("a device (hypothetical)".to_owned())
            }))
        }
        Selector::Range(first, _) => Ok(address_endpoint(inventory, text, IpNet::from(first))),
        Selector::IpSet(_) => {
            let set =
                crate::resolve::Resolver::new(policy, &Inventory::default()).address_set(&selector);
            let first = set.ranges().next().map(|r| r.first()).ok_or_else(unknown)?;
            Ok(address_endpoint(inventory, text, IpNet::from(first)))
        }
        Selector::Group(group) => {
            let member = policy
                .groups
                .iter()
                .find(|g| g.name.value == group)
                .ok_or_else(unknown)?
                .values
                .items
                .first()
                .map(|m| m.value.trimmed().to_owned())
                .ok_or_else(|| QueryError::EmptyGroup(group.to_owned()))?;
            Ok(user_endpoint(inventory, text, &member))
        }
        _ => Err(unknown()),
    }
}

/// An address endpoint. A tailnet address no node has becomes a hypothetical node (no user,
/// no tags) with that address, so rules naming the address still apply without an inventory.
pub(super) fn address_endpoint(inventory: &mut Overlay<'_>, text: &str, net: IpNet) -> Endpoint {
    let ip = net.addr();
    let node = inventory.position_by_addr(ip);
    let in_tailnet = tailnet_v4().contains(ip) || crate::addr::tailnet_v6().contains(ip);
    // Addresses behind a subnet route (4via6 prefixes lie inside the tailnet range) are
    // reached through the router, not a node of their own.
    let routed = inventory.routed(ip);
    if node.is_some() || (!inventory.addresses_as_nodes && (!in_tailnet || routed)) {
        return Endpoint {
            label: text.to_owned(),
            ip,
            node,
            hypothetical: false,
            address: true,
        };
    }
    let index = inventory.push(Node {
        ipv4: match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        },
        ipv6: match ip {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => None,
        },
        ..Node::named(format!("{ip} (hypothetical)"))
    });
    Endpoint {
        label: text.to_owned(),
        ip,
        node: Some(index),
        hypothetical: true,
        address: true,
    }
}

pub(super) fn user_endpoint(inventory: &mut Overlay<'_>, text: &str, login: &str) -> Endpoint {
    let user = inventory
        .lookup
        .user_by_login
        .get(&login.to_ascii_lowercase())
        .and_then(|&i| inventory.base.users.get(i));
    let owner = user.map_or_else(|| login.to_owned(), |u| u.name.clone());
    // A node names its owner by name, login or (where the inventory has them) numeric ID.
    let by_owner = |key: &str| inventory.lookup.untagged_by_owner.get(key).copied();
    // The lowest of the three lookups (options compared directly: module size).
    let mut existing = by_owner(&owner);
    let others = [
        user.and_then(|u| by_owner(u.email.as_deref()?)),
        user.filter(|u| u.id != 0)
            .and_then(|u| by_owner(&u.id.to_string())),
    ];
    for other in others {
        let Some(i) = other else {
            continue;
        };
        existing = Some(existing.map_or(i, |e| e.min(i)));
    }
    let existing = existing.or_else(|| {
        inventory
            .added_position(&|n| n.tags.is_empty() && n.user.as_deref() == Some(owner.as_str()))
    });
    identity_endpoint(inventory, text, existing, &|| Node {
        user: Some(owner.clone()),
        ..Node::named(format!("{login} (hypothetical)"))
    })
}

pub(super) fn identity_endpoint(
    inventory: &mut Overlay<'_>,
    text: &str,
    existing: Option<usize>,
    // `dyn`: one copy of this function for its three callers (module size).
    make: &dyn Fn() -> Node,
) -> Endpoint {
    if let Some(index) = existing
        && let Some(ip) = inventory
            .get(index)
            .and_then(|n| n.ipv4.map(IpAddr::V4).or(n.ipv6.map(IpAddr::V6)))
    {
        return Endpoint {
            label: text.to_owned(),
            ip,
            node: Some(index),
            hypothetical: false,
            address: false,
        };
    }
    let mut node = make();
    let ip = unused_tailnet_ip(inventory);
    node.ipv4 = Some(ip);
    let index = inventory.push(node);
    Endpoint {
        label: text.to_owned(),
        ip: IpAddr::V4(ip),
        node: Some(index),
        hypothetical: true,
        address: false,
    }
}

/// The highest tailnet IPv4 address no node uses (hypothetical nodes take these).
pub(super) fn unused_tailnet_ip(inventory: &mut Overlay<'_>) -> Ipv4Addr {
    // The search starts below the last answer: one identity per rule made this quadratic
    // (sorting every address for every hypothetical node) in `diff` without an inventory.
    let bottom = u32::from(Ipv4Addr::new(100, 64, 0, 1));
    let top = u32::from(Ipv4Addr::new(100, 127, 255, 254));
    let mut candidate = inventory.free_below.map_or(top, |b| b.min(top));
    let used = |ip: u32| {
        inventory.lookup.ipv4s.binary_search(&ip).is_ok()
            || inventory
                .added
                .iter()
                .any(|n| n.ipv4.map(u32::from) == Some(ip))
    };
    while used(candidate) && candidate > bottom {
        candidate -= 1;
    }
    inventory.free_below = Some(candidate);
    let ip = Ipv4Addr::from(candidate);
    debug_assert!(tailnet_v4().contains(IpAddr::V4(ip)));
    ip
}

/// The highest tailnet IPv4 address none of `nodes` uses.
pub(super) fn free_tailnet_ip<'n>(nodes: impl Iterator<Item = &'n Node>) -> Ipv4Addr {
    let mut used = Vec::new();
    for n in nodes {
        if let Some(v4) = n.ipv4 {
            used.push(u32::from(v4));
        }
    }
    highest_free(used)
}

// A sorted `Vec` rather than a hash set, and out of the generic caller: smaller module.
pub(super) fn highest_free(mut used: Vec<u32>) -> Ipv4Addr {
    used.sort_unstable();
    let top = u32::from(Ipv4Addr::new(100, 127, 255, 254));
    let mut candidate = top;
    while used.binary_search(&candidate).is_ok()
        && candidate > u32::from(Ipv4Addr::new(100, 64, 0, 1))
    {
        candidate -= 1;
    }
    let ip = Ipv4Addr::from(candidate);
    debug_assert!(tailnet_v4().contains(IpAddr::V4(ip)));
    ip
}
