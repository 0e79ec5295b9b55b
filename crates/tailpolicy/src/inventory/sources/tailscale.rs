//! One node's view: `tailscale status --json` (Go `ipnstate.Status`) and `tailscale debug
//! netmap` (`netmap.NetworkMap`). Both list only the peers that node can see, with no roles
//! and no advertised-vs-approved split (a netmap has `Hostinfo.RoutableIPs`, but approved
//! routes of secondary HA routers are not sent), so those facts stay unknown.

use super::{
    Draft, Located, addresses, distinct_names, draft, exit_routes, flag, get, id, machine_name,
    prefixes, push_new, push_node, set_owner, strings, text, user,
};
use crate::diagnostic::Diagnostic;
use crate::inventory::Node;
use crate::syntax::Value;

/// The pseudo-user tagged nodes point at.
const TAGGED_DEVICES: &str = "tagged-devices";

/// `User` (status) or `UserProfiles` (netmap): numeric ID, as a string key, → profile.
struct Profiles<'v>(Vec<(u64, &'v Value, &'v str)>, &'static str);

impl<'v> Profiles<'v> {
    fn new(root: &'v Value, key: &str, label: &'static str) -> Self {
        let members = get(root, key)
            .and_then(Value::as_object)
            .unwrap_or_default();
        Profiles(
            members
                .iter()
                .filter_map(|m| Some((m.key.parse().ok()?, &m.value, m.key.as_str())))
                .collect(),
            label,
        )
    }

    /// The login of user `id`, unless it is the tagged-devices pseudo-user.
    fn login(&self, id: u64) -> Option<(&'v Value, &'v str, &'v str)> {
        let (_, profile, key) = self.0.iter().find(|(i, _, _)| *i == id)?;
        let login = text(profile, "loginname")?;
        (login != TAGGED_DEVICES).then_some((*profile, login, *key))
    }
}

pub(super) fn status(root: &Value) -> Result<Draft, Diagnostic> {
    let profiles = Profiles::new(root, "user", "User");
    let mut draft = draft();
    let mut peers: Vec<(&Value, String)> = Vec::new();
    if let Some(me) = get(root, "self") {
        peers.push((me, "Self".to_owned()));
    }
    let map = get(root, "peer")
        .and_then(Value::as_object)
        .unwrap_or_default();
    peers.extend(
        map.iter()
            .map(|m| (&m.value, format!("Peer[\"{}\"]", m.key))),
    );
    for (i, (peer, path)) in peers.into_iter().enumerate() {
        let mut node = Node::named(String::new());
        (node.ipv4, node.ipv6) = addresses(peer, "tailscaleips", &path)?;
        node.tags = strings(peer, "tags", &path)?;
        node.name = machine_name(&draft, text(peer, "dnsname"), text(peer, "hostname"))
            .unwrap_or_else(|| format!("node-{i}"));
        // AllowedIPs holds the node's addresses and the routes it serves: its primary
        // subnet routes and, when it is an exit node, the exit routes.
        for net in prefixes(peer, "allowedips", &path)? {
            if net.prefix_len() < net.max_prefix_len() {
                push_new(&mut node.approved_routes, net);
            }
        }
        node.primary_routes = prefixes(peer, "primaryroutes", &path)?;
        for route in node.primary_routes.clone() {
            push_new(&mut node.approved_routes, route);
        }
        if flag(peer, "exitnodeoption") {
            for route in exit_routes() {
                push_new(&mut node.approved_routes, route);
            }
        }
        node.routable_ips = node.approved_routes.clone();
        node.shared =
            flag(peer, "shareenode") || id(peer, "altshareruserid").is_some_and(|s| s != 0);
        owner(&mut draft, &mut node, &profiles, id(peer, "userid"));
        if i == 0 && path == "Self" {
            draft.viewer = Some(node.name.clone());
        }
        push_node(&mut draft, node, peer.span, path);
    }
    distinct_names(&mut draft);
    Ok(draft)
}

pub(super) fn netmap(root: &Value) -> Result<Draft, Diagnostic> {
    let profiles = Profiles::new(root, "userprofiles", "UserProfiles");
    let mut draft = draft();
    let mut peers: Vec<(&Value, String)> = Vec::new();
    if let Some(me) = get(root, "selfnode") {
        peers.push((me, "SelfNode".to_owned()));
    }
    let list = get(root, "peers")
        .and_then(Value::as_array)
        .unwrap_or_default();
    peers.extend(
        list.iter()
            .enumerate()
            .map(|(i, p)| (p, format!("Peers[{i}]"))),
    );
    for (i, (peer, path)) in peers.into_iter().enumerate() {
        let mut node = Node::named(String::new());
        (node.ipv4, node.ipv6) = addresses(peer, "addresses", &path)?;
        node.tags = strings(peer, "tags", &path)?;
        let hostinfo = get(peer, "hostinfo");
        let hostname = hostinfo.and_then(|h| text(h, "hostname"));
        node.name = machine_name(
            &draft,
            text(peer, "name"),
            text(peer, "computedname").or(hostname),
        )
        .unwrap_or_else(|| format!("node-{i}"));
        if let Some(hostinfo) = hostinfo {
            node.routable_ips = prefixes(hostinfo, "routableips", &format!("{path}.Hostinfo"))?;
        }
        node.primary_routes = prefixes(peer, "primaryroutes", &path)?;
        for net in prefixes(peer, "allowedips", &path)? {
            if net.prefix_len() < net.max_prefix_len() {
                push_new(&mut node.approved_routes, net);
            }
        }
        for route in node.primary_routes.clone() {
            push_new(&mut node.approved_routes, route);
        }
        for route in node.approved_routes.clone() {
            push_new(&mut node.routable_ips, route);
        }
        node.shared = id(peer, "sharer").is_some_and(|s| s != 0);
        owner(&mut draft, &mut node, &profiles, id(peer, "user"));
        if i == 0 && path == "SelfNode" {
            draft.viewer = Some(node.name.clone());
        }
        push_node(&mut draft, node, peer.span, path);
    }
    distinct_names(&mut draft);
    Ok(draft)
}

/// Sets an untagged node's owner from its user ID and records the user. Tagged nodes have no
/// owner (they point at the tagged-devices pseudo-user, or at who tagged them).
fn owner(draft: &mut Draft, node: &mut Node, profiles: &Profiles<'_>, user_id: Option<u64>) {
    let Some((profile, login, key)) = user_id.and_then(|id| profiles.login(id)) else {
        return;
    };
    let found = user(user_id.unwrap_or(0), login);
    let at = Located {
        span: profile.span,
        path: format!("{}[\"{key}\"]", profiles.1),
    };
    let login = set_owner(draft, node, found, at);
    if let Some(u) = draft
        .inventory
        .users
        .iter_mut()
        .find(|u| u.login() == login)
    {
        u.shared |= node.shared;
    }
}
