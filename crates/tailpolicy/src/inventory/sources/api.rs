//! The Tailscale API v2: `GET /tailnet/{t}/devices?fields=all`, `GET /tailnet/{t}/users` and
//! `GET /tailnet/{t}/vip-services`. Devices carry no roles and name users only by login;
//! without `fields=all` they carry no routes either.

use super::{
    Draft, Located, add_user, addresses, distinct_names, draft, flag, get, has, id, items,
    machine_name, prefixes, push_node, set_owner, strings, text, user,
};
use crate::diagnostic::Diagnostic;
use crate::inventory::{Node, Service, invalid};
use crate::syntax::Value;

pub(super) fn devices(root: &Value) -> Result<Draft, Diagnostic> {
    let mut draft = draft();
    draft.inventory.unknown.nodes = false;
    let list = items(root, "devices", "devices")?;
    // `fields=all` adds the route lists (and `clientConnectivity`) to every device.
    draft.inventory.unknown.route_approval = !list.iter().any(|d| {
        has(d, "advertisedroutes") || has(d, "enabledroutes") || has(d, "clientconnectivity")
    });
    for (i, device) in list.iter().enumerate() {
        let path = format!("devices[{i}]");
        let mut node = Node::named(
            machine_name(&draft, text(device, "name"), text(device, "hostname"))
                .unwrap_or_else(|| format!("device-{i}")),
        );
        (node.ipv4, node.ipv6) = addresses(device, "addresses", &path)?;
        node.tags = strings(device, "tags", &path)?;
        node.routable_ips = prefixes(device, "advertisedroutes", &path)?;
        node.approved_routes = prefixes(device, "enabledroutes", &path)?;
        node.ephemeral = flag(device, "isephemeral");
        node.shared = flag(device, "isexternal");
        // `user` is who registered the device: its owner only when it is not tagged.
        if let Some(login) = text(device, "user") {
            let mut found = user(0, login);
            found.shared = node.shared;
            let at = Located {
                span: device.span,
                path: path.clone(),
            };
            set_owner(&mut draft, &mut node, found, at);
        }
        push_node(&mut draft, node, device.span, path);
    }
    distinct_names(&mut draft);
    Ok(draft)
}

pub(super) fn users(root: &Value) -> Result<Draft, Diagnostic> {
    let mut draft = draft();
    draft.inventory.unknown.roles = false;
    draft.inventory.unknown.users = false;
    for (i, entry) in items(root, "users", "users")?.iter().enumerate() {
        let path = format!("users[{i}]");
        let login = text(entry, "loginname")
            .ok_or_else(|| invalid(entry.span, &format!("`{path}` has no `loginName`")))?;
        let mut found = user(id(entry, "id").unwrap_or(0), login);
        // `member` is the role of a user without an admin-console role.
        found.roles = text(entry, "role")
            .filter(|r| *r != "member")
            .map(str::to_owned)
            .into_iter()
            .collect();
        found.shared = text(entry, "type") == Some("shared");
        add_user(
            &mut draft,
            found,
            Located {
                span: entry.span,
                path,
            },
        );
    }
    distinct_names(&mut draft);
    Ok(draft)
}

pub(super) fn services(root: &Value) -> Result<Draft, Diagnostic> {
    let mut draft = draft();
    for (i, entry) in items(root, "vipservices", "vipServices")?
        .iter()
        .enumerate()
    {
        let path = format!("vipServices[{i}]");
        let (v4, v6) = addresses(entry, "addrs", &path)?;
        draft.inventory.services.push(Service {
            name: text(entry, "name").unwrap_or_default().to_owned(),
            addrs: v4
                .map(std::net::IpAddr::V4)
                .into_iter()
                .chain(v6.map(std::net::IpAddr::V6))
                .collect(),
            ports: strings(entry, "ports", &path)?,
            tags: strings(entry, "tags", &path)?,
        });
    }
    let _ = get;
    Ok(draft)
}
