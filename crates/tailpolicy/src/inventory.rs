//! The tailnet state a policy is evaluated against: users, nodes and tailnet settings, in the
//! JSON shape of the `users`, `nodes` and `tailnet` fields of the conformance captures.

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
    /// Facts the inventory's source did not have. All known for the project's own format;
    /// sources such as `tailscale status --json` lack some, and answers that depend on a
    /// missing fact are undetermined, as without an inventory.
    pub unknown: Unknowns,
}

/// Which facts about the tailnet an inventory does not know (`false`: known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unknowns {
    /// Users' admin-console roles (so membership of `autogroup:admin` and the other roles).
    pub roles: bool,
    /// Which advertised routes are approved.
    pub route_approval: bool,
    /// Whether every node is listed (a node's `status` shows only the peers it can see).
    pub nodes: bool,
    /// Whether every user is listed.
    pub users: bool,
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
    /// A node with no addresses, owner, tags or routes.
    pub fn named(name: String) -> Self {
        Node {
            name,
            ipv4: None,
            ipv6: None,
            user: None,
            tags: Vec::new(),
            routable_ips: Vec::new(),
            approved_routes: Vec::new(),
            primary_routes: Vec::new(),
            created_by: None,
        }
    }

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
    /// Every other key, as written.
    pub other: Vec<Member>,
}

impl Tailnet {
    /// The setting `key` (the last one, if it is given twice).
    pub fn setting(&self, key: &str) -> Option<&Value> {
        self.other
            .iter()
            .rev()
            .find(|member| member.key == key)
            .map(|member| &member.value)
    }
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
        for member in fields(&root, None)? {
            match member.key.as_str() {
                "users" => inventory.users = list(&member.value, Path::root("users"), read_user)?,
                "nodes" => inventory.nodes = list(&member.value, Path::root("nodes"), read_node)?,
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

#[cold]
#[inline(never)]
fn invalid(span: Span, message: &str) -> Diagnostic {
    Diagnostic::error(
        INVALID_INVENTORY,
        format!("invalid inventory: {message}"),
        span,
    )
    .with_help(INVENTORY_HELP)
}

/// Where a value sits, as in `nodes[3].ipv4`; written out only for an error message.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    fn root(key: &'a str) -> Self {
        Path {
            parent: None,
            step: Step::Key(key),
        }
    }

    fn key(&'a self, key: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    fn index(&'a self, index: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
        }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.step {
            Step::Key(key) if self.parent.is_none() => f.write_str(key),
            Step::Key(key) => write!(f, ".{key}"),
            Step::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// `value`'s members, or an error when it is not an object.
fn fields<'v>(value: &'v Value, path: Option<Path<'_>>) -> Result<&'v [Member], Diagnostic> {
    value.as_object().ok_or_else(|| {
        let what = match path {
            Some(path) => format!("`{path}`"),
            None => "the inventory".to_owned(),
        };
        invalid(
            value.span,
            &format!("{what} must be an object, found {}", value.type_name()),
        )
    })
}

fn wrong_type(value: &Value, path: Path<'_>, expected: &str) -> Diagnostic {
    invalid(
        value.span,
        &format!("`{path}` must be {expected}, found {}", value.type_name()),
    )
}

/// The items of an array (`null` is an empty one), each read by `read`.
fn list<T>(
    value: &Value,
    path: Path<'_>,
    read: impl Fn(&Value, Path<'_>) -> Result<T, Diagnostic>,
) -> Result<Vec<T>, Diagnostic> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(value, path, "an array"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(read(item, path.index(i))?);
    }
    Ok(out)
}

fn string(value: &Value, path: Path<'_>) -> Result<String, Diagnostic> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| wrong_type(value, path, "a string"))
}

fn optional_string(value: &Value, path: Path<'_>) -> Result<Option<String>, Diagnostic> {
    if value.is_null() {
        return Ok(None);
    }
    string(value, path).map(Some)
}

fn strings(value: &Value, path: Path<'_>) -> Result<Vec<String>, Diagnostic> {
    list(value, path, string)
}

/// A string field parsed by `FromStr`; `kind` names what it should be.
fn parsed<T: std::str::FromStr>(
    value: &Value,
    path: Path<'_>,
    kind: &str,
) -> Result<T, Diagnostic> {
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type(value, path, "a string"))?;
    text.parse()
        .map_err(|_| invalid(value.span, &format!("`{path}`: `{text}` is not {kind}")))
}

fn optional_parsed<T: std::str::FromStr>(
    value: &Value,
    path: Path<'_>,
    kind: &str,
) -> Result<Option<T>, Diagnostic> {
    if value.is_null() {
        return Ok(None);
    }
    parsed(value, path, kind).map(Some)
}

fn prefixes(value: &Value, path: Path<'_>) -> Result<Vec<IpNet>, Diagnostic> {
    list(value, path, |item, path| {
        parsed(item, path, "an IP prefix such as `10.0.0.0/24`")
    })
}

/// The `name` every user and node has, or an error at the object that lacks it.
fn name(found: Option<&Value>, object: &Value, path: Path<'_>) -> Result<String, Diagnostic> {
    match found.filter(|value| !value.is_null()) {
        Some(value) => string(value, path.key("name")),
        None => Err(invalid(object.span, &format!("`{path}` has no `name`"))),
    }
}

fn read_user(value: &Value, path: Path<'_>) -> Result<User, Diagnostic> {
    let mut found_name = None;
    let mut user = User {
        id: 0,
        name: String::new(),
        email: None,
        roles: Vec::new(),
    };
    for member in fields(value, Some(path))? {
        let field = &member.value;
        let field_path = path.key(&member.key);
        match member.key.as_str() {
            "id" if field.is_null() => {}
            "id" => {
                user.id = match &field.kind {
                    ValueKind::Number(raw) => raw.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| wrong_type(field, field_path, "a whole number of at least 0"))?;
            }
            "name" => found_name = Some(field),
            "email" => user.email = optional_string(field, field_path)?,
            "roles" => user.roles = strings(field, field_path)?,
            _ => {}
        }
    }
    user.name = name(found_name, value, path)?;
    Ok(user)
}

fn read_node(value: &Value, path: Path<'_>) -> Result<Node, Diagnostic> {
    let mut found_name = None;
    let mut node = Node::named(String::new());
    for member in fields(value, Some(path))? {
        let field = &member.value;
        let field_path = path.key(&member.key);
        match member.key.as_str() {
            "name" => found_name = Some(field),
            "ipv4" => node.ipv4 = optional_parsed(field, field_path, "an IPv4 address")?,
            "ipv6" => node.ipv6 = optional_parsed(field, field_path, "an IPv6 address")?,
            "user" => node.user = optional_string(field, field_path)?,
            "tags" => node.tags = strings(field, field_path)?,
            "routable_ips" => node.routable_ips = prefixes(field, field_path)?,
            "approved_routes" => node.approved_routes = prefixes(field, field_path)?,
            "primary_routes" => node.primary_routes = prefixes(field, field_path)?,
            "created_by" => node.created_by = optional_string(field, field_path)?,
            _ => {}
        }
    }
    node.name = name(found_name, value, path)?;
    Ok(node)
}

fn read_tailnet(value: &Value) -> Result<Tailnet, Diagnostic> {
    let path = Path::root("tailnet");
    let mut tailnet = Tailnet::default();
    for member in fields(value, Some(path))? {
        if member.key == "domains" {
            if !member.value.is_null() {
                tailnet.domains = Some(strings(&member.value, path.key("domains"))?);
            }
        } else {
            tailnet.other.push(member.clone());
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
        let settings = inventory.tailnet.setting("settings");
        assert_eq!(
            settings.and_then(|s| s.get("x")).and_then(Value::as_bool),
            Some(true)
        );
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
        assert_eq!(
            message,
            "invalid inventory: `users[0].id` must be a whole number of at least 0, found number"
        );
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
