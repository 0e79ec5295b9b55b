//! The tailnet state a policy is evaluated against: users, nodes and tailnet settings, in the
//! JSON shape of the `users`, `nodes` and `tailnet` fields of the conformance captures.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::{Member, Value, ValueKind};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    pub users: Vec<User>,
    pub nodes: Vec<Node>,
    pub tailnet: Tailnet,
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: u64,
    /// The login name without domain, e.g. `odin`.
    pub name: String,
    /// The login, e.g. `odin@example.com`.
    pub email: Option<String>,
    /// Admin-console roles: `owner`, `admin`, `it-admin`, `network-admin`, `billing-admin`,
    /// `auditor`; they make the user a member of the matching role autogroup.
    pub roles: Vec<String>,
}

impl User {
    /// The login used in policies: the email, or the bare name.
    pub fn login(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.name)
    }

    /// The domain of the login, lowercased.
    pub fn domain(&self) -> Option<String> {
        self.login()
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// The owning user's `name` (or login); `None` for tagged nodes.
    pub user: Option<String>,
    pub tags: Vec<String>,
    /// Routes the node advertises (`Hostinfo.RoutableIPs`), exit routes included.
    pub routable_ips: Vec<IpNet>,
    /// The approved subset of `routable_ips`; only approved routes carry traffic.
    pub approved_routes: Vec<IpNet>,
    /// Routes this node currently serves as the primary (HA) router, as in
    /// `tailcfg.Node.PrimaryRoutes`. When no router of a prefix lists it, the first router in
    /// inventory order with the route approved is taken as primary.
    pub primary_routes: Vec<IpNet>,
    /// Who created a tagged node (unit fixtures); not part of its identity.
    pub created_by: Option<String>,
}

impl Node {
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// Tailnet settings beyond the policy file. Unknown keys are kept, not rejected, so captures
/// with more settings still load.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tailnet {
    /// Domains associated with the tailnet, usable in `user:*@domain` and
    /// `localpart:*@domain`. When absent, the domain of the first user (the tailnet's owner)
    /// is taken.
    pub domains: Option<Vec<String>>,
    pub other: BTreeMap<String, crate::syntax::Value>,
}

/// The code of the diagnostic for inventory JSON that does not load.
pub const INVALID_INVENTORY: &str = "INVENTORY";

const INVENTORY_HELP: &str =
    "an inventory is a JSON object `{\"users\": [...], \"nodes\": [...], \"tailnet\": {...}}`";

impl Inventory {
    /// Reads inventory JSON; a failure is an `INVENTORY` diagnostic located in `text`.
    ///
    /// The text is read by the policy parser, so comments and trailing commas are allowed
    /// as in policy files. Unknown top-level keys are errors; unknown keys of a user or node
    /// are ignored (captures carry more fields), and a `null` field counts as absent.
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        let parsed = crate::syntax::parse(text);
        if let Some(first) = parsed.diagnostics.into_iter().find(Diagnostic::is_error) {
            let mut error = invalid(first.primary_span(), &first.message);
            error.help = first.help.or(error.help);
            return Err(error);
        }
        let Some(root) = parsed.value else {
            return Err(invalid(Span::at(0), "expected a JSON object"));
        };
        let mut inventory = Inventory::default();
        for member in fields(&root, "the inventory")? {
            match member.key.as_str() {
                "users" => inventory.users = list(&member.value, "users", read_user)?,
                "nodes" => inventory.nodes = list(&member.value, "nodes", read_node)?,
                "tailnet" if member.value.is_null() => {}
                "tailnet" => inventory.tailnet = read_tailnet(&member.value)?,
                other => {
                    return Err(invalid(
                        member.key_span,
                        &format!(
                            "unknown field `{other}`, expected one of `users`, `nodes`, `tailnet`"
                        ),
                    ));
                }
            }
        }
        Ok(inventory)
    }

    /// The domains usable in `user:*@domain` expressions, lowercased.
    pub fn associated_domains(&self) -> Vec<String> {
        match &self.tailnet.domains {
            Some(domains) => domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            None => self
                .users
                .first()
                .and_then(User::domain)
                .into_iter()
                .collect(),
        }
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

fn invalid(span: Span, message: &str) -> Diagnostic {
    Diagnostic::error(
        INVALID_INVENTORY,
        format!("invalid inventory: {message}"),
        span,
    )
    .with_help(INVENTORY_HELP)
}

/// `value`'s members, or an error naming `what` when it is not an object.
fn fields<'v>(value: &'v Value, what: &str) -> Result<&'v [Member], Diagnostic> {
    value.as_object().ok_or_else(|| {
        invalid(
            value.span,
            &format!("{what} must be an object, found {}", value.type_name()),
        )
    })
}

/// The items of an array (`null` is an empty one), each read by `read` with its path.
fn list<T>(
    value: &Value,
    path: &str,
    read: impl Fn(&Value, &str) -> Result<T, Diagnostic>,
) -> Result<Vec<T>, Diagnostic> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value.as_array().ok_or_else(|| {
        invalid(
            value.span,
            &format!("`{path}` must be an array, found {}", value.type_name()),
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, &format!("{path}[{i}]")))
        .collect()
}

fn string(value: &Value, path: &str) -> Result<String, Diagnostic> {
    value.as_str().map(str::to_owned).ok_or_else(|| {
        invalid(
            value.span,
            &format!("`{path}` must be a string, found {}", value.type_name()),
        )
    })
}

fn optional_string(value: &Value, path: &str) -> Result<Option<String>, Diagnostic> {
    if value.is_null() {
        return Ok(None);
    }
    string(value, path).map(Some)
}

/// A string field parsed by `FromStr`; `kind` names what it should be.
fn parsed<T: std::str::FromStr>(value: &Value, path: &str, kind: &str) -> Result<T, Diagnostic> {
    let text = string(value, path)?;
    text.parse()
        .map_err(|_| invalid(value.span, &format!("`{path}`: `{text}` is not {kind}")))
}

fn optional_parsed<T: std::str::FromStr>(
    value: &Value,
    path: &str,
    kind: &str,
) -> Result<Option<T>, Diagnostic> {
    if value.is_null() {
        return Ok(None);
    }
    parsed(value, path, kind).map(Some)
}

fn prefixes(value: &Value, path: &str) -> Result<Vec<IpNet>, Diagnostic> {
    list(value, path, |item, path| {
        parsed(item, path, "an IP prefix such as `10.0.0.0/24`")
    })
}

/// A required field's value, or an error at the object that lacks it.
fn required<'v>(
    found: Option<&'v Value>,
    object: &Value,
    path: &str,
    key: &str,
) -> Result<&'v Value, Diagnostic> {
    found
        .filter(|value| !value.is_null())
        .ok_or_else(|| invalid(object.span, &format!("`{path}` has no `{key}`")))
}

fn read_user(value: &Value, path: &str) -> Result<User, Diagnostic> {
    let mut name = None;
    let mut user = User {
        id: 0,
        name: String::new(),
        email: None,
        roles: Vec::new(),
    };
    for member in fields(value, &format!("`{path}`"))? {
        let field = &member.value;
        let field_path = format!("{path}.{}", member.key);
        match member.key.as_str() {
            "id" if field.is_null() => {}
            "id" => {
                user.id = match &field.kind {
                    ValueKind::Number(raw) => raw.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    invalid(
                        field.span,
                        &format!("`{field_path}` must be a whole number of at least 0"),
                    )
                })?;
            }
            "name" => name = Some(field),
            "email" => user.email = optional_string(field, &field_path)?,
            "roles" => user.roles = list(field, &field_path, string)?,
            _ => {}
        }
    }
    user.name = string(
        required(name, value, path, "name")?,
        &format!("{path}.name"),
    )?;
    Ok(user)
}

fn read_node(value: &Value, path: &str) -> Result<Node, Diagnostic> {
    let mut name = None;
    let mut node = Node {
        name: String::new(),
        ipv4: None,
        ipv6: None,
        user: None,
        tags: Vec::new(),
        routable_ips: Vec::new(),
        approved_routes: Vec::new(),
        primary_routes: Vec::new(),
        created_by: None,
    };
    for member in fields(value, &format!("`{path}`"))? {
        let field = &member.value;
        let field_path = format!("{path}.{}", member.key);
        let field_path = field_path.as_str();
        match member.key.as_str() {
            "name" => name = Some(field),
            "ipv4" => node.ipv4 = optional_parsed(field, field_path, "an IPv4 address")?,
            "ipv6" => node.ipv6 = optional_parsed(field, field_path, "an IPv6 address")?,
            "user" => node.user = optional_string(field, field_path)?,
            "tags" => node.tags = list(field, field_path, string)?,
            "routable_ips" => node.routable_ips = prefixes(field, field_path)?,
            "approved_routes" => node.approved_routes = prefixes(field, field_path)?,
            "primary_routes" => node.primary_routes = prefixes(field, field_path)?,
            "created_by" => node.created_by = optional_string(field, field_path)?,
            _ => {}
        }
    }
    node.name = string(
        required(name, value, path, "name")?,
        &format!("{path}.name"),
    )?;
    Ok(node)
}

fn read_tailnet(value: &Value) -> Result<Tailnet, Diagnostic> {
    let mut tailnet = Tailnet::default();
    for member in fields(value, "`tailnet`")? {
        if member.key == "domains" {
            if !member.value.is_null() {
                tailnet.domains = Some(list(&member.value, "tailnet.domains", string)?);
            }
        } else {
            tailnet
                .other
                .insert(member.key.clone(), member.value.clone());
        }
    }
    Ok(tailnet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_at(text: &str) -> (String, &str) {
        let error = Inventory::parse(text).unwrap_err();
        assert_eq!(error.code, INVALID_INVENTORY);
        let span = error.primary_span();
        (error.message, &text[span.start as usize..span.end as usize])
    }

    #[test]
    fn reads_every_field() {
        let inventory = Inventory::parse(
            r#"{
              // Comments and trailing commas, as in policy files.
              "users": [{"id": 7, "name": "amy", "email": "amy@example.com", "roles": ["admin"], "extra": 1}],
              "nodes": [{"name": "r", "ipv4": "100.64.0.1", "ipv6": "fd7a:115c:a1e0::1",
                         "user": null, "tags": ["tag:router"], "routable_ips": ["10.0.0.0/24"],
                         "approved_routes": ["10.0.0.0/24"], "primary_routes": [], "created_by": "amy"}],
              "tailnet": {"domains": ["example.com"], "settings": {"x": true}},
            }"#,
        )
        .unwrap();
        assert_eq!(inventory.users[0].id, 7);
        assert_eq!(inventory.users[0].roles, ["admin"]);
        let node = &inventory.nodes[0];
        assert_eq!(node.ipv4, Some(Ipv4Addr::new(100, 64, 0, 1)));
        assert_eq!(node.user, None);
        assert_eq!(node.routable_ips, ["10.0.0.0/24".parse::<IpNet>().unwrap()]);
        assert_eq!(node.created_by.as_deref(), Some("amy"));
        assert_eq!(inventory.associated_domains(), ["example.com"]);
        let settings = &inventory.tailnet.other["settings"];
        assert_eq!(settings.get("x").and_then(Value::as_bool), Some(true));
    }

    #[test]
    fn errors_name_the_field_and_point_at_it() {
        let (message, at) =
            error_at(r#"{"nodes": [{"name": "a"}, {"name": "b", "ipv4": "1.2.3"}]}"#);
        assert_eq!(
            message,
            "invalid inventory: `nodes[1].ipv4`: `1.2.3` is not an IPv4 address"
        );
        assert_eq!(at, r#""1.2.3""#);
        let (message, at) = error_at(r#"{"users": [{"id": -1, "name": "a"}]}"#);
        assert!(message.contains("`users[0].id`"), "{message}");
        assert_eq!(at, "-1");
        let (message, at) = error_at(r#"{"nodes": [{"ipv4": "100.64.0.1"}]}"#);
        assert_eq!(message, "invalid inventory: `nodes[0]` has no `name`");
        assert_eq!(at, r#"{"ipv4": "100.64.0.1"}"#);
        let (message, at) = error_at(r#"{"node": []}"#);
        assert!(message.contains("unknown field `node`"), "{message}");
        assert_eq!(at, r#""node""#);
        let (message, _) = error_at(r#"{"nodes": {"a": 1}}"#);
        assert_eq!(
            message,
            "invalid inventory: `nodes` must be an array, found object"
        );
    }

    #[test]
    fn syntax_errors_keep_the_parser_location() {
        let (message, at) = error_at("{\n  \"nodes\": [,]\n}");
        assert!(message.starts_with("invalid inventory: "), "{message}");
        assert_eq!(at, ",");
        let (message, _) = error_at("[]");
        assert_eq!(
            message,
            "invalid inventory: the inventory must be an object, found array"
        );
    }
}
