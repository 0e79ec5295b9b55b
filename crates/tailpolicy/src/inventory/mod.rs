//! The tailnet state a policy is evaluated against: users, nodes and tailnet settings, in the
//! JSON shape of the `users`, `nodes` and `tailnet` fields of the conformance captures.
//!
//! With the `inventory-sources` feature, [`Inventory::read`] also takes the files users already
//! have (`tailscale status --json`, `tailscale debug netmap`, the Tailscale API's devices, users
//! and VIP services, headscale's `nodes list` / `users list -o json`), told apart by shape
//! (`sources/`). Every shape goes through the same checks (`check.rs`).

// The checks and the source readers stay out of the WASM module (its size budget).
#[cfg(feature = "inventory-sources")]
mod check;
mod json;
#[cfg(feature = "inventory-sources")]
mod sources;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    /// Tailscale Services (`svc:` names) from the API's `vip-services`.
    pub services: Vec<Service>,
    /// Identities (`tag:depot-runner`, a user login) of nodes that come and go, such as
    /// ephemeral CI runners: [`Inventory::add_assumed_nodes`] adds one node for each.
    pub assume_nodes: Vec<String>,
}

/// A Tailscale Service (`GET /tailnet/{t}/vip-services`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Service {
    /// `svc:name`.
    pub name: String,
    pub addrs: Vec<IpAddr>,
    /// As the API writes them, e.g. `tcp:443`.
    pub ports: Vec<String>,
    pub tags: Vec<String>,
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
    /// A user of another tailnet that devices were shared with (API `type: shared`): not a
    /// member of this tailnet, so not in `autogroup:member`.
    pub shared: bool,
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
    /// Removed when it goes offline (API `isEphemeral`, headscale's ephemeral auth keys).
    pub ephemeral: bool,
    /// Shared in from another tailnet (API `isExternal`, a netmap `Sharer`): its owner is
    /// not a member of this tailnet.
    pub shared: bool,
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
            ephemeral: false,
            shared: false,
        }
    }

    /// The node's addresses, IPv4 first.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> {
        let v4 = self.ipv4.map(IpAddr::V4);
        v4.into_iter().chain(self.ipv6.map(IpAddr::V6))
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

/// The code of the diagnostic for inventory JSON that does not load (kept for callers).
pub use crate::codes::INVENTORY as INVALID_INVENTORY;

const INVENTORY_HELP: &str =
    "an inventory is a JSON object `{\"users\": [...], \"nodes\": [...], \"tailnet\": {...}}`";

/// What [`Inventory::read`] found in one file.
#[derive(Debug, Clone)]
pub struct Read {
    pub inventory: Inventory,
    /// Things Tailscale allows but that are likely mistakes (a node without an address).
    pub warnings: Vec<Diagnostic>,
    pub shape: Shape,
    /// The node whose view the file is (`tailscale status`, a netmap).
    pub viewer: Option<String>,
}

/// The kinds of file [`Inventory::read`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Own,
    Status,
    Netmap,
    ApiDevices,
    ApiUsers,
    ApiServices,
    HeadscaleNodes,
    HeadscaleUsers,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Own => "tailpolicy inventory",
            Shape::Status => "`tailscale status --json`",
            Shape::Netmap => "`tailscale debug netmap`",
            Shape::ApiDevices => "Tailscale API devices",
            Shape::ApiUsers => "Tailscale API users",
            Shape::ApiServices => "Tailscale API VIP services",
            Shape::HeadscaleNodes => "`headscale nodes list -o json`",
            Shape::HeadscaleUsers => "`headscale users list -o json`",
        }
    }
}

/// Where a node or user came from in the file, for the checks' messages.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "inventory-sources"),
    expect(dead_code, reason = "only the inventory readers look at it")
)]
pub(crate) struct Located {
    pub span: Span,
    pub path: String,
}

/// An inventory as read, before the checks.
#[cfg_attr(
    not(feature = "inventory-sources"),
    expect(dead_code, reason = "only the inventory readers look at it")
)]
pub(crate) struct Draft {
    pub inventory: Inventory,
    pub nodes_at: Vec<Located>,
    pub users_at: Vec<Located>,
    pub viewer: Option<String>,
}

impl Inventory {
    /// Reads inventory JSON; a failure is an `INVENTORY` diagnostic located in `text`.
    ///
    /// The text is read by the policy parser, so comments and trailing commas are allowed
    /// as in policy files. Unknown top-level keys are errors; unknown keys of a user or node
    /// are ignored (captures carry more fields), and a `null` field counts as absent.
    pub fn parse(text: &str) -> Result<Self, Diagnostic> {
        Self::read(text).map(|read| read.inventory)
    }

    /// [`parse`](Self::parse), also returning warnings and the file's shape.
    pub fn read(text: &str) -> Result<Read, Diagnostic> {
        let parsed = crate::syntax::parse(text);
        if let Some(first) = parsed.diagnostics.into_iter().find(Diagnostic::is_error) {
            let mut error = invalid(first.primary_span(), &first.message);
            // The parser's help for an empty document describes a policy file.
            if first.code != crate::codes::EMPTY_DOCUMENT {
                error.help = first.help.or(error.help);
            }
            return Err(error);
        }
        let Some(root) = parsed.value else {
            return Err(invalid(Span::at(0), "expected a JSON object"));
        };
        #[cfg(feature = "inventory-sources")]
        if let Some(shape) = sources::detect(&root) {
            let draft = sources::read(shape, &root)?;
            return finish(draft, shape);
        }
        finish(read_own(&root)?, Shape::Own)
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

    /// The checks every file gets, on an inventory built in code or merged from several
    /// files (no locations): the first error, or the warnings. Addresses outside the tailnet
    /// ranges are warnings here (each file was checked by its own shape's rule).
    pub fn check(&self) -> Result<Vec<Diagnostic>, Diagnostic> {
        #[cfg(feature = "inventory-sources")]
        return check::check(self, &[], &[], true);
        #[cfg(not(feature = "inventory-sources"))]
        Ok(Vec::new())
    }

    /// Adds this file's facts to `self` (several `--inventory` files: devices + users +
    /// services, or the status of several nodes). Users are matched by login, nodes by
    /// address (else name); a fact is unknown only when no file knows it.
    pub fn merge(&mut self, other: Inventory) {
        for user in other.users {
            let login = user.login().to_ascii_lowercase();
            match self
                .users
                .iter_mut()
                .find(|u| u.login().eq_ignore_ascii_case(&login))
            {
                Some(known) => {
                    if known.id == 0 {
                        known.id = user.id;
                    }
                    if self.unknown.roles && !other.unknown.roles {
                        known.roles = user.roles;
                    }
                    known.email = known.email.take().or(user.email);
                    known.shared |= user.shared;
                }
                None => self.users.push(user),
            }
        }
        for node in other.nodes {
            let same = |n: &&mut Node| match (n.addrs().next(), node.addrs().next()) {
                (Some(a), Some(b)) => n.addrs().any(|x| x == b) || node.addrs().any(|x| x == a),
                _ => n.name == node.name,
            };
            match self.nodes.iter_mut().find(same) {
                Some(known) => {
                    known.ipv4 = known.ipv4.or(node.ipv4);
                    known.ipv6 = known.ipv6.or(node.ipv6);
                    for (mine, theirs) in [
                        (&mut known.routable_ips, node.routable_ips),
                        (&mut known.approved_routes, node.approved_routes),
                        (&mut known.primary_routes, node.primary_routes),
                    ] {
                        for route in theirs {
                            if !mine.contains(&route) {
                                mine.push(route);
                            }
                        }
                    }
                    known.ephemeral |= node.ephemeral;
                    known.shared |= node.shared;
                }
                None => self.nodes.push(node),
            }
        }
        for service in other.services {
            if !self.services.iter().any(|s| s.name == service.name) {
                self.services.push(service);
            }
        }
        for identity in other.assume_nodes {
            if !self.assume_nodes.contains(&identity) {
                self.assume_nodes.push(identity);
            }
        }
        if self.tailnet.domains.is_none() {
            self.tailnet.domains = other.tailnet.domains;
        }
        self.tailnet.other.extend(other.tailnet.other);
        let (mine, theirs) = (&mut self.unknown, other.unknown);
        mine.roles &= theirs.roles;
        mine.route_approval &= theirs.route_approval;
        mine.nodes &= theirs.nodes;
        mine.users &= theirs.users;
    }

    /// Adds a node for each identity in `assume_nodes` that no node has yet: ephemeral, with
    /// that tag or owner and the highest tailnet addresses free, so `compile` and queries show
    /// what such a runner gets while none is online. Errors name an identity that is neither
    /// a tag nor a user login.
    pub fn add_assumed_nodes(&mut self) -> Result<(), String> {
        for identity in self.assume_nodes.clone() {
            let mut node = Node::named(format!("{identity} (assumed)"));
            if identity
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("tag:"))
            {
                node.tags.push(identity.to_ascii_lowercase());
            } else if identity.contains('@') && !identity.contains(':') {
                node.user = Some(identity.clone());
            } else {
                return Err(format!(
                    "cannot assume a node for `{identity}`: expected a tag (`tag:ci`) or a user login (`alice@example.com`)"
                ));
            }
            if self.nodes.iter().any(|n| n.name == node.name) {
                continue;
            }
            let used: Vec<IpAddr> = self.nodes.iter().flat_map(Node::addrs).collect();
            let v4 = (u32::from(Ipv4Addr::new(100, 64, 0, 1))
                ..=u32::from(Ipv4Addr::new(100, 127, 255, 254)))
                .rev()
                .map(Ipv4Addr::from)
                .find(|ip| {
                    let v6 = assumed_v6(*ip);
                    !used.contains(&IpAddr::V4(*ip)) && !used.contains(&IpAddr::V6(v6))
                });
            node.ipv4 = v4;
            node.ipv6 = v4.map(assumed_v6);
            node.ephemeral = true;
            self.nodes.push(node);
        }
        Ok(())
    }
}

#[cfg(feature = "inventory-sources")]
use check::finish;

/// Without the checks: the inventory as read.
#[cfg(not(feature = "inventory-sources"))]
fn finish(draft: Draft, shape: Shape) -> Result<Read, Diagnostic> {
    Ok(Read {
        inventory: draft.inventory,
        warnings: Vec::new(),
        shape,
        viewer: draft.viewer,
    })
}

fn read_own(root: &Value) -> Result<Draft, Diagnostic> {
    let mut inventory = Inventory::default();
    let mut nodes_at = Vec::new();
    let mut users_at = Vec::new();
    for member in fields(root, None)? {
        let value = &member.value;
        match member.key.as_str() {
            "users" => {
                inventory.users = list(value, Path::root("users"), read_user)?;
                users_at = located(value, "users");
            }
            "nodes" => {
                inventory.nodes = list(value, Path::root("nodes"), read_node)?;
                nodes_at = located(value, "nodes");
            }
            "tailnet" if value.is_null() => {}
            "tailnet" => inventory.tailnet = read_tailnet(value)?,
            "unknown" if value.is_null() => {}
            "unknown" => inventory.unknown = read_unknowns(value)?,
            #[cfg(feature = "inventory-sources")]
            "services" => {
                inventory.services = list(value, Path::root("services"), read_service)?;
            }
            #[cfg(feature = "inventory-sources")]
            "assume_nodes" => inventory.assume_nodes = strings(value, Path::root("assume_nodes"))?,
            // Nothing in the WASM module uses services or node templates yet.
            #[cfg(not(feature = "inventory-sources"))]
            "services" | "assume_nodes" => {}
            other => {
                return Err(invalid(
                    member.key_span,
                    &format!(
                        "unknown field `{other}`, expected one of `users`, `nodes`, `tailnet`, `unknown`, `services`, `assume_nodes`"
                    ),
                )
                .with_help(shapes_help()));
            }
        }
    }
    Ok(Draft {
        inventory,
        nodes_at,
        users_at,
        viewer: None,
    })
}

/// The help naming every shape the inventory may have.
fn shapes_help() -> &'static str {
    if cfg!(feature = "inventory-sources") {
        SHAPES_HELP
    } else {
        INVENTORY_HELP
    }
}

const SHAPES_HELP: &str = "an inventory is the project's `{\"users\": [...], \"nodes\": [...], \"tailnet\": {...}}`, or (with the `inventory-sources` feature) the output of `tailscale status --json`, `tailscale debug netmap`, the Tailscale API's `devices`, `users` or `vip-services`, or `headscale nodes list -o json` / `headscale users list -o json`";

/// Each item's span and path (`nodes[3]`) in an array.
fn located(value: &Value, key: &str) -> Vec<Located> {
    if !cfg!(feature = "inventory-sources") {
        return Vec::new();
    }
    let items = value.as_array().unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| Located {
            span: item.span,
            path: format!("{key}[{i}]"),
        })
        .collect()
}

fn read_unknowns(value: &Value) -> Result<Unknowns, Diagnostic> {
    let path = Path::root("unknown");
    let mut unknown = Unknowns::default();
    for member in fields(value, Some(path))? {
        let field = &member.value;
        let flag = match member.key.as_str() {
            "roles" => &mut unknown.roles,
            "route_approval" => &mut unknown.route_approval,
            "nodes" => &mut unknown.nodes,
            "users" => &mut unknown.users,
            _ => continue,
        };
        *flag = field
            .as_bool()
            .ok_or_else(|| wrong_type(field, path.key(&member.key), "true or false"))?;
    }
    Ok(unknown)
}

#[cfg(feature = "inventory-sources")]
fn read_service(value: &Value, path: Path<'_>) -> Result<Service, Diagnostic> {
    let mut service = Service::default();
    for member in fields(value, Some(path))? {
        let field = &member.value;
        let field_path = path.key(&member.key);
        match member.key.as_str() {
            "name" => service.name = string(field, field_path)?,
            "addrs" => {
                service.addrs = list(field, field_path, |item, path| {
                    parsed(item, path, "an IP address")
                })?;
            }
            "ports" => service.ports = strings(field, field_path)?,
            "tags" => service.tags = strings(field, field_path)?,
            _ => {}
        }
    }
    Ok(service)
}

/// The IPv6 address of an assumed node: the tailnet prefix and its IPv4 address.
fn assumed_v6(v4: Ipv4Addr) -> Ipv6Addr {
    let [a, b, c, d] = v4.octets();
    Ipv6Addr::new(
        0xfd7a,
        0x115c,
        0xa1e0,
        0,
        0,
        0,
        u16::from_be_bytes([a, b]),
        u16::from_be_bytes([c, d]),
    )
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

/// The items of an array, `null` being an empty one (out of the generic `list`).
fn items_of<'v>(value: &'v Value, path: Path<'_>) -> Result<&'v [Value], Diagnostic> {
    if value.is_null() {
        return Ok(&[]);
    }
    value
        .as_array()
        .ok_or_else(|| wrong_type(value, path, "an array"))
}

/// The items of an array (`null` is an empty one), each read by `read`.
fn list<T>(
    value: &Value,
    path: Path<'_>,
    read: impl Fn(&Value, Path<'_>) -> Result<T, Diagnostic>,
) -> Result<Vec<T>, Diagnostic> {
    let items = items_of(value, path)?;
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

/// A boolean field; `null` is false.
fn flag(value: &Value, path: Path<'_>) -> Result<bool, Diagnostic> {
    if value.is_null() {
        return Ok(false);
    }
    value
        .as_bool()
        .ok_or_else(|| wrong_type(value, path, "true or false"))
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
    let text = text_of(value, path)?;
    text.parse().map_err(|_| not_a(value, path, text, kind))
}

// The non-generic halves of `parsed` (module size: one copy, not one per parsed type).
fn text_of<'v>(value: &'v Value, path: Path<'_>) -> Result<&'v str, Diagnostic> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(value, path, "a string"))
}

#[cold]
#[inline(never)]
fn not_a(value: &Value, path: Path<'_>, text: &str, kind: &str) -> Diagnostic {
    invalid(value.span, &format!("`{path}`: `{text}` is not {kind}"))
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
        shared: false,
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
            "shared" => user.shared = flag(field, field_path)?,
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
            "ephemeral" => node.ephemeral = flag(field, field_path)?,
            "shared" => node.shared = flag(field, field_path)?,
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
        (
            error.message,
            text.get(span.start as usize..span.end as usize).unwrap(),
        )
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
    fn an_empty_inventory_is_described_as_an_inventory() {
        let error = Inventory::parse("  ").unwrap_err();
        assert!(
            error.help.as_deref().is_some_and(|h| !h.contains("policy")),
            "{error:?}"
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
