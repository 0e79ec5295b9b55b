//! headscale: `headscale nodes list -o json` and `headscale users list -o json`, in the
//! snake_case of 0.23-0.29 (Go `encoding/json` over the protobuf structs: numeric IDs) and
//! the camelCase of current `main` (protojson: IDs as strings). headscale has no
//! admin-console roles, so nobody holds one.

use super::{
    Draft, Located, add_user, addresses, distinct_names, draft, exit_routes, flag, get, has, id,
    machine_name, prefixes, push_node, set_owner, strings, text,
};
use crate::diagnostic::Diagnostic;
use crate::inventory::{Node, User};
use crate::syntax::Value;

/// The list: a bare array, or `{"nodes": [...]}` / `{"users": [...]}` from the REST API.
fn list<'v>(root: &'v Value, key: &str) -> &'v [Value] {
    root.as_array()
        .or_else(|| get(root, key).and_then(Value::as_array))
        .unwrap_or_default()
}

/// A headscale user: its `name`, and its email when set (policies name users either way).
fn headscale_user(value: &Value) -> Option<User> {
    let name = text(value, "name")?;
    Some(User {
        id: id(value, "id").unwrap_or(0),
        name: name.to_owned(),
        email: text(value, "email").map(str::to_owned),
        roles: Vec::new(),
        shared: false,
    })
}

pub(super) fn nodes(root: &Value) -> Result<Draft, Diagnostic> {
    let mut draft = draft();
    let unknown = &mut draft.inventory.unknown;
    unknown.roles = false;
    unknown.nodes = false;
    let nodes = list(root, "nodes");
    // Nodes list their routes from 0.26; before, routes lived in `headscale routes list`.
    draft.inventory.unknown.route_approval = !nodes
        .iter()
        .any(|n| has(n, "approvedroutes") || has(n, "availableroutes") || has(n, "subnetroutes"));
    for (i, entry) in nodes.iter().enumerate() {
        let path = format!("[{i}]");
        let mut node = Node::named(
            machine_name(
                &draft,
                None,
                text(entry, "givenname").or(text(entry, "name")),
            )
            .unwrap_or_else(|| format!("node-{i}")),
        );
        (node.ipv4, node.ipv6) = addresses(entry, "ipaddresses", &path)?;
        // `tags` from 0.28; before, the admin's `forced_tags` and the granted `valid_tags`
        // (`invalid_tags` were requested but refused).
        node.tags = strings(entry, "tags", &path)?;
        if !has(entry, "tags") {
            for tag in strings(entry, "forcedtags", &path)?
                .into_iter()
                .chain(strings(entry, "validtags", &path)?)
            {
                if !node.tags.contains(&tag) {
                    node.tags.push(tag);
                }
            }
        }
        node.routable_ips = prefixes(entry, "availableroutes", &path)?;
        node.approved_routes = prefixes(entry, "approvedroutes", &path)?;
        // `subnet_routes` are the routes the node serves: its primary routes and exit routes.
        let exits = exit_routes();
        node.primary_routes = prefixes(entry, "subnetroutes", &path)?
            .into_iter()
            .filter(|r| !exits.contains(r))
            .collect();
        node.ephemeral = get(entry, "preauthkey").is_some_and(|k| flag(k, "ephemeral"));
        if let Some(owner) = get(entry, "user").and_then(headscale_user) {
            let at = Located {
                span: get(entry, "user").map_or(entry.span, |u| u.span),
                path: format!("{path}.user"),
            };
            set_owner(&mut draft, &mut node, owner, at);
        }
        push_node(&mut draft, node, entry.span, path);
    }
    distinct_names(&mut draft);
    Ok(draft)
}

pub(super) fn users(root: &Value) -> Result<Draft, Diagnostic> {
    let mut draft = draft();
    draft.inventory.unknown.roles = false;
    draft.inventory.unknown.users = false;
    for (i, entry) in list(root, "users").iter().enumerate() {
        let path = format!("[{i}]");
        let found = headscale_user(entry).ok_or_else(|| {
            crate::inventory::invalid(entry.span, &format!("`{path}` has no `name`"))
        })?;
        add_user(
            &mut draft,
            found,
            Located {
                span: entry.span,
                path,
            },
        );
    }
    Ok(draft)
}
