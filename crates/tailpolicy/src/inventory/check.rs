//! Checks every inventory gets, whatever its shape: names, addresses and users that would make
//! a node vanish from `compile` or a rule match the wrong node are errors; what Tailscale
//! allows (a node without an address) is a warning.

use std::net::IpAddr;

use super::{Draft, INVALID_INVENTORY, Inventory, Located, Read, Shape, invalid};
use crate::addr::{CGNAT_V4, TAILNET_V6};
use crate::diagnostic::Diagnostic;
use crate::fasthash::FastMap;
use crate::span::Span;

/// Runs the checks on a draft: the first error, or the inventory with its warnings.
pub(crate) fn finish(draft: Draft, shape: Shape) -> Result<Read, Diagnostic> {
    // headscale can be configured with other prefixes (it warns); Tailscale never is.
    let lenient = shape == Shape::HeadscaleNodes;
    let warnings = check(&draft.inventory, &draft.nodes_at, &draft.users_at, lenient)?;
    Ok(Read {
        inventory: draft.inventory,
        warnings,
        shape,
        viewer: draft.viewer,
    })
}

/// Checks an inventory (also a merged one, whose items have no location: `at` may be short,
/// and messages then name the node). With `lenient`, an address outside the tailnet ranges
/// is a warning.
pub(crate) fn check(
    inventory: &Inventory,
    nodes_at: &[Located],
    users_at: &[Located],
    lenient: bool,
) -> Result<Vec<Diagnostic>, Diagnostic> {
    let place = |at: &[Located], i: usize, what: &str, name: &str| match at.get(i) {
        Some(located) => (located.span, format!("`{}`", located.path)),
        None => (Span::at(0), format!("{what} `{name}`")),
    };
    let mut warnings = Vec::new();
    // First index of each name and address: large tailnets are checked in linear time.
    let mut seen_names: FastMap<&str, usize> = FastMap::default();
    let mut seen_addrs: FastMap<IpAddr, usize> = FastMap::default();
    for (i, node) in inventory.nodes.iter().enumerate() {
        let (span, path) = place(nodes_at, i, "node", &node.name);
        if let Some(&first) = seen_names.get(node.name.as_str()) {
            let (_, first_path) = place(nodes_at, first, "node", &node.name);
            return Err(invalid(
                span,
                &format!(
                    "{path}: node name `{}` is also {first_path}'s; one of them would vanish from the results",
                    node.name
                ),
            ));
        }
        for tag in &node.tags {
            if !tag.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tag:")) {
                return Err(invalid(
                    span,
                    &format!("{path}: `{tag}` is not a tag: tags start with `tag:`"),
                ));
            }
        }
        seen_names.insert(&node.name, i);
        let mut any = false;
        for addr in node.addrs() {
            any = true;
            let inside = match addr {
                IpAddr::V4(v4) => CGNAT_V4.contains(&v4),
                IpAddr::V6(v6) => TAILNET_V6.contains(&v6),
            };
            if !inside {
                let message = format!(
                    "{path}: address `{addr}` is outside the tailnet ranges `100.64.0.0/10` and `fd7a:115c:a1e0::/48`"
                );
                if !lenient {
                    return Err(invalid(span, &message));
                }
                warnings.push(Diagnostic::warning(INVALID_INVENTORY, message, span));
            }
            if let Some(&first) = seen_addrs.get(&addr) {
                let (_, first_path) = place(
                    nodes_at,
                    first,
                    "node",
                    inventory.nodes.get(first).map_or("", |n| &n.name),
                );
                return Err(invalid(
                    span,
                    &format!("{path}: address `{addr}` is also {first_path}'s"),
                ));
            }
            seen_addrs.insert(addr, i);
        }
        if !any {
            warnings.push(Diagnostic::warning(
                INVALID_INVENTORY,
                format!(
                    "{path}: node `{}` has no address, so no rule can name it by address and it is in no filter",
                    node.name
                ),
                span,
            ));
        }
    }
    let mut seen_logins: FastMap<String, usize> = FastMap::default();
    let mut seen_users: FastMap<&str, usize> = FastMap::default();
    for (i, user) in inventory.users.iter().enumerate() {
        let (span, path) = place(users_at, i, "user", &user.name);
        let login = user.login();
        if let Some(&first) = seen_logins.get(&login.to_ascii_lowercase()) {
            let (_, first_path) = place(users_at, first, "user", &user.name);
            return Err(invalid(
                span,
                &format!("{path}: user `{login}` is also {first_path}"),
            ));
        }
        if let Some(&first) = seen_users.get(user.name.as_str()) {
            let (_, first_path) = place(users_at, first, "user", &user.name);
            return Err(invalid(
                span,
                &format!(
                    "{path}: user name `{}` is also {first_path}'s, so a node owned by `{}` is ambiguous",
                    user.name, user.name
                ),
            )
            .with_help("give each user a distinct `name` (e.g. the whole login)"));
        }
        seen_logins.insert(login.to_ascii_lowercase(), i);
        seen_users.insert(&user.name, i);
    }
    Ok(warnings)
}
