//! Inventories from the files users already have, told apart by shape. Keys are matched
//! ignoring ASCII case and `_`, so headscale's snake_case (0.23-0.29) and camelCase (current
//! `main`, protojson) read alike, as do the API's JSON and its Go client's spellings.
//!
//! Each reader records only what its source states; what the source cannot know is marked
//! in [`Unknowns`](super::Unknowns), never guessed.

mod api;
mod headscale;
mod tailscale;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::{Draft, Inventory, Located, Node, Shape, User, invalid};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::{Value, ValueKind};

/// The shape of `root`, or `None` for the project's own format (and anything unrecognised,
/// which its reader then reports).
pub(super) fn detect(root: &Value) -> Option<Shape> {
    if let Some(items) = root.as_array() {
        let first = items.first()?;
        return if has(first, "ipaddresses") {
            Some(Shape::HeadscaleNodes)
        } else if has(first, "name") {
            Some(Shape::HeadscaleUsers)
        } else {
            None
        };
    }
    let first_of = |key: &str| {
        get(root, key)
            .and_then(Value::as_array)
            .and_then(<[Value]>::first)
    };
    // The project's own keys win: its reader reports any other key as unknown.
    let own = |key: &str| root.get(key).is_some();
    let headscale_rest = first_of("nodes").is_some_and(|n| has(n, "ipaddresses"));
    if own("tailnet") || (own("nodes") && !headscale_rest) {
        return None;
    }
    if has(root, "devices") {
        Some(Shape::ApiDevices)
    } else if has(root, "vipservices") {
        Some(Shape::ApiServices)
    } else if has(root, "selfnode") || has(root, "peers") || has(root, "packetfilterrules") {
        Some(Shape::Netmap)
    } else if has(root, "peer") || has(root, "backendstate") || has(root, "self") {
        Some(Shape::Status)
    } else if first_of("users").is_some_and(|u| has(u, "loginname")) {
        Some(Shape::ApiUsers)
    } else if first_of("nodes").is_some_and(|n| has(n, "ipaddresses")) {
        // headscale's REST API: `{"nodes": [...]}`.
        Some(Shape::HeadscaleNodes)
    } else if first_of("users").is_some_and(|u| has(u, "createdat") || has(u, "providerid")) {
        Some(Shape::HeadscaleUsers)
    } else {
        None
    }
}

pub(super) fn read(shape: Shape, root: &Value) -> Result<Draft, Diagnostic> {
    match shape {
        Shape::Status => tailscale::status(root),
        Shape::Netmap => tailscale::netmap(root),
        Shape::ApiDevices => api::devices(root),
        Shape::ApiUsers => api::users(root),
        Shape::ApiServices => api::services(root),
        Shape::HeadscaleNodes => headscale::nodes(root),
        Shape::HeadscaleUsers => headscale::users(root),
        Shape::Own => Err(invalid(root.span, "not a source shape")),
    }
}

/// A draft with nothing in it yet and every fact unknown; readers clear what they know.
fn draft() -> Draft {
    let mut inventory = Inventory::default();
    let unknown = &mut inventory.unknown;
    unknown.roles = true;
    unknown.route_approval = true;
    unknown.nodes = true;
    unknown.users = true;
    Draft {
        inventory,
        nodes_at: Vec::new(),
        users_at: Vec::new(),
        viewer: None,
    }
}

/// Is `key` `want` (lowercase, no `_`) ignoring ASCII case and underscores?
fn key_is(key: &str, want: &str) -> bool {
    key.bytes()
        .filter(|b| *b != b'_')
        .map(|b| b.to_ascii_lowercase())
        .eq(want.bytes())
}

/// The member `want` of an object, unless absent or `null`.
fn get<'v>(value: &'v Value, want: &str) -> Option<&'v Value> {
    value
        .as_object()?
        .iter()
        .find(|m| key_is(&m.key, want))
        .map(|m| &m.value)
        .filter(|v| !v.is_null())
}

fn has(value: &Value, want: &str) -> bool {
    get(value, want).is_some()
}

fn text<'v>(value: &'v Value, want: &str) -> Option<&'v str> {
    get(value, want)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn flag(value: &Value, want: &str) -> bool {
    get(value, want).and_then(Value::as_bool).unwrap_or(false)
}

/// A numeric ID, written as a number (Go's `encoding/json`) or a string (protojson, the API).
fn id(value: &Value, want: &str) -> Option<u64> {
    match &get(value, want)?.kind {
        ValueKind::Number(raw) | ValueKind::String(raw) => raw.parse().ok(),
        _ => None,
    }
}

/// The items of an array member (absent or `null`: none); `path` names the object.
fn items<'v>(value: &'v Value, want: &str, path: &str) -> Result<&'v [Value], Diagnostic> {
    match get(value, want) {
        None => Ok(&[]),
        Some(found) => found.as_array().ok_or_else(|| {
            invalid(
                found.span,
                &format!(
                    "`{path}.{want}` must be an array, found {}",
                    found.type_name()
                ),
            )
        }),
    }
}

/// The strings of an array member.
fn strings(value: &Value, want: &str, path: &str) -> Result<Vec<String>, Diagnostic> {
    items(value, want, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str().map(str::to_owned).ok_or_else(|| {
                invalid(
                    item.span,
                    &format!(
                        "`{path}.{want}[{i}]` must be a string, found {}",
                        item.type_name()
                    ),
                )
            })
        })
        .collect()
}

/// An array of prefixes (`10.0.0.0/24`; a bare address is a host prefix).
fn prefixes(value: &Value, want: &str, path: &str) -> Result<Vec<IpNet>, Diagnostic> {
    let list = items(value, want, path)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let net = item.as_str().and_then(|s| {
            s.parse()
                .ok()
                .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
        });
        match net {
            Some(net) => out.push(net),
            None => {
                return Err(invalid(
                    item.span,
                    &format!("`{path}.{want}[{i}]` is not an IP address or prefix"),
                ));
            }
        }
    }
    Ok(out)
}

/// A node's first IPv4 and first IPv6 address from a list of addresses or host prefixes.
fn addresses(
    value: &Value,
    want: &str,
    path: &str,
) -> Result<(Option<Ipv4Addr>, Option<Ipv6Addr>), Diagnostic> {
    let mut v4 = None;
    let mut v6 = None;
    for net in prefixes(value, want, path)? {
        match net.addr() {
            IpAddr::V4(a) => v4 = v4.or(Some(a)),
            IpAddr::V6(a) => v6 = v6.or(Some(a)),
        }
    }
    Ok((v4, v6))
}

/// The machine name: the first label of a MagicDNS name (`web-1.tail1234.ts.net.`), else
/// the fallback (an OS host name). A node shared in from another tailnet may have the same
/// first label as one of ours: it then keeps its whole DNS name.
fn machine_name(draft: &Draft, dns: Option<&str>, fallback: Option<&str>) -> Option<String> {
    let full = dns
        .map(|d| d.trim_end_matches('.'))
        .filter(|d| !d.is_empty());
    let label = full
        .and_then(|d| d.split('.').next())
        .filter(|label| !label.is_empty())
        .or(fallback)?;
    let taken = draft.inventory.nodes.iter().any(|n| n.name == label);
    Some(match full {
        Some(full) if taken => full.to_owned(),
        _ => label.to_owned(),
    })
}

/// A user known by login: its name is the login's local part.
fn user(id: u64, login: &str) -> User {
    let (name, email) = match login.split_once('@') {
        Some((local, _)) => (local.to_owned(), Some(login.to_owned())),
        None => (login.to_owned(), None),
    };
    User {
        id,
        name,
        email,
        roles: Vec::new(),
        shared: false,
    }
}

/// Adds a user (by login) unless present; returns its login.
fn add_user(draft: &mut Draft, user: User, at: Located) -> String {
    let login = user.login().to_owned();
    if !draft
        .inventory
        .users
        .iter()
        .any(|u| u.login().eq_ignore_ascii_case(&login))
    {
        draft.inventory.users.push(user);
        draft.users_at.push(at);
    }
    login
}

/// Records `user` (see [`add_user`]) as the node's owner when it is untagged, or as who
/// registered it when it is tagged (tagged devices have no owner); returns its login.
fn set_owner(draft: &mut Draft, node: &mut Node, user: User, at: Located) -> String {
    let login = add_user(draft, user, at);
    if node.tags.is_empty() {
        node.user = Some(login.clone());
    } else {
        node.created_by = Some(login.clone());
    }
    login
}

/// Adds a node, read at `span` (`path` in the file).
fn push_node(draft: &mut Draft, node: Node, span: Span, path: String) {
    draft.nodes_at.push(Located { span, path });
    draft.inventory.nodes.push(node);
}

/// Gives users whose local parts collide (`alice@a.com`, `alice@b.org`) their whole login as
/// name, so a name names one user, then points each owned node (whose `user` readers set to
/// the owner's login) at its owner's name, as the project's own inventories do.
fn distinct_names(draft: &mut Draft) {
    let users = &mut draft.inventory.users;
    let names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    for user in users.iter_mut() {
        if names.iter().filter(|n| **n == user.name).count() > 1 {
            user.name = user.login().to_owned();
        }
    }
    for node in &mut draft.inventory.nodes {
        let owner = node
            .user
            .as_deref()
            .and_then(|login| users.iter().find(|u| u.login() == login));
        if let Some(owner) = owner {
            node.user = Some(owner.name.clone());
        }
    }
}

/// Exit routes, which Tailscale lists as `0.0.0.0/0` and `::/0`.
fn exit_routes() -> [IpNet; 2] {
    [
        IpNet::V4(ipnet::Ipv4Net::default()),
        IpNet::V6(ipnet::Ipv6Net::default()),
    ]
}

fn push_new(list: &mut Vec<IpNet>, route: IpNet) {
    if !list.contains(&route) {
        list.push(route);
    }
}
