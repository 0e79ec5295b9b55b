//! Facts a query may depend on that the tool does not have (no inventory, or one whose source
//! lacks them): a user's role, which identity a device at an address has, whether a router
//! or exit node carries a destination. A query that the known facts deny is tried again
//! under one assumption at a time; the first that allows it becomes the answer's condition.
//! Every assumption only adds access (a role, an identity for an identity-less device, a
//! router), so "denied under none" is denied in every tailnet consistent with the policy.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::addr::internet;
use crate::compile::{Compiled, Origin, PieceKind};
use crate::inventory::{Inventory, Node, User};
use crate::model::{Policy, Str};
use crate::ports::split_destination_and_port;
use crate::resolve::Addr;
use crate::selector::{Autogroup, Selector, parse_prefix};
use crate::text::Trimmed;

/// Something the tailnet must have for an answer to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Condition {
    /// `device` (a device with the identity or address exists), `route` (a subnet router
    /// carries the destination), `exit-node`, `role` (a user has an admin-console role) or
    /// `owner` (the device at an address has an identity), `service`, or `posture` (the
    /// source device meets a device posture the allowing rules ask for).
    #[cfg_attr(
        test,
        ts(
            type = "\"device\" | \"route\" | \"exit-node\" | \"role\" | \"owner\" | \"service\" | \"posture\""
        )
    )]
    pub kind: &'static str,
    pub text: String,
}

impl Condition {
    /// A condition the policy's `tests` count as undetermined: not the device's existence
    /// (tests run from a device with the identity) nor routing (tests ignore route approval).
    pub fn decides_tests(&self) -> bool {
        matches!(self.kind, "role" | "owner")
    }
}

/// Device posture: when every rule in `matches` asks the source device to meet a posture
/// (its `srcPosture`, or else the policy's `defaultSrcPosture`), the access holds only for
/// a device that meets one. No inventory carries posture attributes, so it is a condition.
pub(crate) fn posture_condition(policy: &Policy, matches: &[Origin]) -> Option<Condition> {
    let mut parts = Vec::new();
    for origin in matches {
        let own = origin.rule_in(policy)?.src_posture();
        let postures = if own.is_empty() {
            &policy.default_src_posture
        } else {
            own
        };
        if postures.is_empty() {
            // This rule allows it from any device.
            return None;
        }
        let mut names: Vec<String> = Vec::new();
        for p in postures {
            names.push(format!("`{}`", p.value));
        }
        let from = if own.is_empty() {
            "defaultSrcPosture"
        } else {
            "srcPosture"
        };
        parts.push(format!(
            "{} ({}'s {from})",
            names.join(" or "),
            origin.label()
        ));
    }
    (!parts.is_empty()).then(|| Condition {
        kind: "posture",
        text: format!(
            "the source device meets {}; no inventory holds device posture attributes",
            parts.join(", or ")
        ),
    })
}

/// What the query's inventory tells for certain.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    pub roles: bool,
    pub routes: bool,
    pub nodes: bool,
}

impl Facts {
    pub fn of(inventory: Option<&Inventory>) -> Self {
        inventory.map_or_else(Self::default, |i| Facts {
            roles: !i.unknown.roles,
            routes: !i.unknown.route_approval && !i.unknown.nodes,
            nodes: !i.unknown.nodes,
        })
    }
}

/// An identity a device may have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Identity {
    Tag(String),
    User(String),
}

/// One assumption about the tailnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assumption {
    /// The source's user has this role.
    SrcRole(&'static str),
    /// The identity-less device at the source (or destination) address has this identity.
    SrcIs(Identity),
    DstIs(Identity),
    /// A router (tagged, for a grant's `via`) has an approved route for the destination.
    Router(Option<String>),
    /// An approved exit node (tagged, for `via`).
    ExitNode(Option<String>),
}

impl Assumption {
    /// True for the assumptions that add a router: the destination address then needs no
    /// device of its own.
    pub fn routes(&self) -> bool {
        matches!(self, Assumption::Router(_) | Assumption::ExitNode(_))
    }

    /// Makes the assumption true in `inventory` (nodes `src`, `dst` of the query).
    pub fn apply(
        &self,
        inventory: &mut Inventory,
        src: Option<usize>,
        dst: IpAddr,
        dst_node: Option<usize>,
    ) {
        let mut set = |index: Option<usize>, identity: &Identity| {
            if let Some(node) = index.and_then(|i| inventory.nodes.get_mut(i)) {
                match identity {
                    Identity::Tag(tag) => node.tags = vec![tag.clone()],
                    Identity::User(user) => node.user = Some(user.clone()),
                }
            }
        };
        match self {
            Assumption::SrcIs(identity) => set(src, identity),
            Assumption::DstIs(identity) => set(dst_node, identity),
            Assumption::SrcRole(role) => {
                let Some(owner) = src
                    .and_then(|i| inventory.nodes.get(i))
                    .and_then(|n| n.user.clone())
                else {
                    return;
                };
                let known = inventory
                    .users
                    .iter()
                    .find(|u| u.name == owner || u.email.as_deref() == Some(owner.as_str()));
                let user = User {
                    id: known.map_or(0, |u| u.id),
                    email: known.and_then(|u| u.email.clone()),
                    name: owner,
                    roles: vec![(*role).to_owned()],
                    shared: known.is_some_and(|u| u.shared),
                };
                // First, so that the resolver's by-name lookup finds it.
                inventory.users.insert(0, user);
            }
            Assumption::Router(tag) | Assumption::ExitNode(tag) => {
                let route = if matches!(self, Assumption::Router(_)) {
                    vec![IpNet::from(dst)]
                } else {
                    // `0.0.0.0/0` and `::/0`, without `IpNet::new`'s `Result`s to flatten.
                    vec![
                        IpNet::V4(ipnet::Ipv4Net::default()),
                        IpNet::V6(ipnet::Ipv6Net::default()),
                    ]
                };
                let ip = super::free_tailnet_ip(inventory.nodes.iter());
                inventory.nodes.push(Node {
                    ipv4: Some(ip),
                    tags: tag.iter().cloned().collect(),
                    routable_ips: route.clone(),
                    approved_routes: route,
                    ..Node::named("router (hypothetical)".to_owned())
                });
            }
        }
    }

    /// The condition, in words.
    pub fn condition(
        &self,
        policy: &Policy,
        compiled: &Compiled<'_>,
        matches: &[Origin],
        src: &str,
        dst: IpAddr,
    ) -> Condition {
        let identity = |identity: &Identity| match identity {
            Identity::Tag(tag) => format!("is tagged `{tag}`"),
            Identity::User(user) if user == MEMBER => "belongs to a member".to_owned(),
            Identity::User(user) => format!("belongs to `{user}`"),
        };
        match self {
            Assumption::SrcRole(role) => Condition {
                kind: "role",
                text: format!("`{src}` {}", role_phrase(role)),
            },
            Assumption::SrcIs(id) => Condition {
                kind: "owner",
                text: format!("the device at `{src}` {}", identity(id)),
            },
            Assumption::DstIs(id) => Condition {
                kind: "owner",
                text: format!("the device at `{dst}` {}", identity(id)),
            },
            Assumption::Router(tag) => {
                let prefix = route_prefix(policy, compiled, matches, dst);
                let router = match tag {
                    Some(tag) => format!("a router tagged `{tag}` (the grant's `via`)"),
                    None => "a router".to_owned(),
                };
                Condition {
                    kind: "route",
                    text: format!(
                        "{router} for `{}` is approved; {}",
                        crate::addr::format_net(&prefix),
                        approvers(policy, Some(&prefix))
                    ),
                }
            }
            Assumption::ExitNode(tag) => Condition {
                kind: "exit-node",
                text: format!(
                    "an exit node{} is approved and used; {}",
                    tag.as_ref()
                        .map(|t| format!(" tagged `{t}` (the grant's `via`)"))
                        .unwrap_or_default(),
                    approvers(policy, None)
                ),
            },
        }
    }
}

/// The login of a hypothetical member named by no rule.
pub(crate) const MEMBER: &str = "autogroup:member";

fn role_phrase(role: &str) -> &'static str {
    match role {
        "owner" => "is the tailnet's owner",
        "admin" => "is an admin",
        "it-admin" => "is an IT admin",
        "network-admin" => "is a network admin",
        "billing-admin" => "is a billing admin",
        _ => "is an auditor",
    }
}

/// Who `autoApprovers` lets approve `prefix` (or exit nodes, for `None`).
fn approvers(policy: &Policy, prefix: Option<&IpNet>) -> String {
    let approvers = &policy.auto_approvers;
    let mut names: Vec<&Str> = Vec::new();
    match prefix {
        None => {
            for name in approvers.exit_node.iter() {
                names.push(name);
            }
        }
        Some(prefix) => {
            for entry in approvers.routes.iter() {
                let covers = parse_prefix(entry.name.value.trimmed()).is_some_and(|key| {
                    key.prefix_len() > 0 && key.trunc().contains(&prefix.trunc())
                });
                if covers {
                    for name in entry.values.iter() {
                        names.push(name);
                    }
                }
            }
        }
    }
    if names.is_empty() {
        return match prefix {
            Some(_) => "no `autoApprovers` entry approves one, so an admin must".to_owned(),
            None => "no `autoApprovers.exitNode` entry approves one, so an admin must".to_owned(),
        };
    }
    let mut who: Vec<String> = Vec::new();
    for n in &names {
        let n = n.value.trimmed();
        who.push(if n.starts_with("tag:") {
            format!("tagged `{n}`")
        } else {
            format!("of `{n}`")
        });
    }
    let what = if prefix.is_some() {
        "routers"
    } else {
        "exit nodes"
    };
    format!("`autoApprovers` approves {what} {}", who.join(" or "))
}

/// The route to name for `dst`: the most specific `autoApprovers` key holding it, else the
/// most specific destination prefix of an allowing rule, else the address itself.
fn route_prefix(
    policy: &Policy,
    compiled: &Compiled<'_>,
    matches: &[Origin],
    dst: IpAddr,
) -> IpNet {
    // Plain loops, not adapter chains (module size). Ties go to the later prefix, as
    // `max_by_key` did.
    fn consider(best: &mut Option<IpNet>, net: IpNet, dst: IpAddr) {
        if net.prefix_len() > 0
            && net.contains(&dst)
            && best.is_none_or(|b| net.prefix_len() >= b.prefix_len())
        {
            *best = Some(net);
        }
    }
    let mut best = None;
    for entry in policy.auto_approvers.routes.iter() {
        if let Some(net) = parse_prefix(entry.name.value.trimmed()) {
            consider(&mut best, net, dst);
        }
    }
    if best.is_none() {
        for piece in &compiled.pieces {
            let PieceKind::Network { dsts } = &piece.kind else {
                continue;
            };
            if !matches.contains(&piece.origin) {
                continue;
            }
            for (addr, _) in dsts {
                if let Addr::Net(net) = addr {
                    consider(&mut best, *net, dst);
                }
            }
        }
    }
    best.map_or_else(|| IpNet::from(dst), |n| n.trunc())
}

/// Which part of a rule a name comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Src,
    Dst,
    SshSrc,
    SshDst,
}

/// The role autogroups named in `part`.
pub(crate) fn named_roles(policy: &Policy, part: Part) -> Vec<&'static str> {
    let mut out = Vec::new();
    for text in selectors(policy, part) {
        if let Selector::Autogroup(a) = Selector::parse(&text)
            && let Some(role) = a.role()
            && !out.contains(&role)
        {
            out.push(role);
        }
    }
    out
}

/// The identities named in `part`: tags, users (group members too), and a member for
/// `autogroup:member`.
pub(crate) fn named_identities(policy: &Policy, part: Part) -> Vec<Identity> {
    let mut out = Vec::new();
    let mut push = |id: Identity| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    for text in selectors(policy, part) {
        match Selector::parse(&text) {
            Selector::Tag(tag) => push(Identity::Tag(tag.to_ascii_lowercase())),
            Selector::User(user) => push(Identity::User(user.to_owned())),
            Selector::Group(group) => {
                for g in policy.groups.iter() {
                    if g.name.value != group {
                        continue;
                    }
                    for member in g.values.iter() {
                        push(Identity::User(member.value.trimmed().to_owned()));
                    }
                }
            }
            Selector::Autogroup(Autogroup::Member) => push(Identity::User(MEMBER.to_owned())),
            _ => {}
        }
    }
    out
}

/// The selector texts of one part of every rule (hosts without their ports).
fn selectors(policy: &Policy, part: Part) -> Vec<String> {
    let mut out = Vec::new();
    for (value, acl_dst) in part_values(policy, part) {
        out.push(match acl_dst {
            true => split_destination_and_port(value.trimmed())
                .map_or_else(|_| value.to_owned(), |(host, _)| host.into_owned()),
            false => value.to_owned(),
        });
    }
    out
}

/// The texts of one part of every rule as written, each with whether it is an ACL
/// destination (`host:port`). One walk for every caller (module size).
pub(crate) fn part_values(policy: &Policy, part: Part) -> Vec<(&str, bool)> {
    // One non-generic push per list instead of a flat_map chain per part (module size).
    fn push<'p>(out: &mut Vec<(&'p str, bool)>, values: std::slice::Iter<'p, Str>, acl_dst: bool) {
        for value in values {
            out.push((value.value.as_str(), acl_dst));
        }
    }
    let mut out: Vec<(&str, bool)> = Vec::new();
    let acls = crate::text::items(&policy.acls);
    let grants = crate::text::items(&policy.grants);
    match part {
        Part::Src => {
            for rule in acls {
                push(&mut out, rule.src.iter(), false);
            }
            for grant in grants {
                push(&mut out, grant.src.iter(), false);
            }
        }
        Part::Dst => {
            for rule in acls {
                push(&mut out, rule.dst.iter(), true);
            }
            for grant in grants {
                push(&mut out, grant.dst.iter(), false);
            }
        }
        Part::SshSrc => {
            for rule in &policy.ssh {
                push(&mut out, rule.src.iter(), false);
            }
        }
        Part::SshDst => {
            for rule in &policy.ssh {
                push(&mut out, rule.dst.iter(), false);
            }
        }
    }
    out
}

/// The `via` tags of the rules whose destinations hold `dst`.
pub(crate) fn via_tags(compiled: &Compiled<'_>, dst: IpAddr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in &compiled.pieces {
        let PieceKind::Network { dsts } = &piece.kind else {
            continue;
        };
        if dsts.iter().any(|(a, _)| a.contains(dst)) {
            for tag in &piece.via {
                if !out.contains(tag) {
                    out.push(tag.clone());
                }
            }
        }
    }
    out
}

/// Is `dst` in the internet (where an exit node could carry it)?
pub(crate) fn in_internet(dst: IpAddr) -> bool {
    internet().contains(dst)
}
