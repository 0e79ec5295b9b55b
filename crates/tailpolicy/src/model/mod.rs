//! The typed policy model: every section Tailscale documents, with the span of every value.
//!
//! Lowering ([`lower`]) checks structure only (known keys, JSON types); what the values mean
//! is checked by [`crate::validate`].

pub(crate) mod lower;

use crate::span::{Span, Spanned};

pub use lower::lower;

/// A string from the policy with its span (including quotes).
pub type Str = Spanned<String>;

/// An array from the policy: its items and the span of the whole array.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List<T> {
    pub span: Span,
    pub items: Vec<T>,
}

impl<T> List<T> {
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// One `"name": [values]` entry of a map section (`groups`, `tagOwners`, `ipsets`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedList {
    pub name: Str,
    pub values: List<Str>,
}

/// The whole policy file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policy {
    pub span: Span,
    /// `None` when the key is absent or `null`; `Some` (possibly empty) otherwise. An empty
    /// `acls` or `grants` denies everything, while neither present allows everything.
    pub acls: Option<List<AclRule>>,
    pub grants: Option<List<Grant>>,
    pub ssh: Vec<SshRule>,
    pub groups: Vec<NamedList>,
    pub hosts: Vec<HostEntry>,
    pub tag_owners: Vec<NamedList>,
    pub ipsets: Vec<NamedList>,
    pub postures: Vec<NamedList>,
    pub default_src_posture: Vec<Str>,
    pub auto_approvers: AutoApprovers,
    pub node_attrs: Vec<NodeAttr>,
    pub tests: Vec<AclTest>,
    pub ssh_tests: Vec<SshTest>,
    /// `attrConfig`: custom device attributes (`tailscale-client-go-v2` `ACLAttrConfig`).
    pub attr_config: Vec<AttrConfig>,
    pub settings: Settings,
}

/// One `attrConfig` entry: a custom device attribute and who may set and see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttrConfig {
    pub name: Str,
    /// `"string"`, `"bool"` or `"number"`.
    pub kind: Option<Str>,
    pub allow_set_by_node: Option<Spanned<bool>>,
    /// Destinations that receive the attribute's value, e.g. `tag:admin`.
    pub broadcast_to_peers: Vec<Str>,
}

/// A `hosts` entry: an alias for an IP address or CIDR.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEntry {
    pub name: Str,
    pub value: Str,
}

/// A first-generation ACL rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AclRule {
    pub span: Span,
    pub action: Option<Str>,
    /// `src`, or the legacy `users`.
    pub src: List<Str>,
    /// `dst`, or the legacy `ports`: `selector:ports` strings.
    pub dst: List<Str>,
    pub proto: Option<Str>,
    pub src_posture: Vec<Str>,
    /// Spans of legacy `users`/`ports` keys, for the lint that suggests `src`/`dst`.
    pub legacy_keys: Vec<Span>,
}

/// A grant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grant {
    pub span: Span,
    pub src: List<Str>,
    pub dst: List<Str>,
    /// `None` when absent or `null`.
    pub ip: Option<List<Str>>,
    pub app: Option<CapMap>,
    pub via: Vec<Str>,
    pub src_posture: Vec<Str>,
}

/// An `app` capability map: capability name → array of JSON objects (`null` is read as an
/// empty array). Values stay source trees; they become JSON only in compiled output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapMap {
    pub span: Span,
    pub entries: Vec<(Str, crate::syntax::Value)>,
}

/// A Tailscale SSH rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshRule {
    pub span: Span,
    pub action: Option<Str>,
    pub src: List<Str>,
    pub dst: List<Str>,
    /// `None` when absent or `null`.
    pub users: Option<List<Str>>,
    pub check_period: Option<Str>,
    pub accept_env: Vec<Str>,
    pub src_posture: Vec<Str>,
    /// Session recording: the tags of the recorder nodes.
    pub recorder: Vec<Str>,
    /// Refuse the session when no recorder is reachable.
    pub enforce_recorder: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AutoApprovers {
    pub span: Option<Span>,
    pub routes: Vec<NamedList>,
    pub exit_node: Vec<Str>,
    pub services: Vec<NamedList>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeAttr {
    pub span: Span,
    pub target: List<Str>,
    pub attr: Vec<Str>,
    pub app: Option<CapMap>,
    pub ip_pool: Vec<Str>,
    /// The entries of `app["tailscale.com/app-connectors"]`, read from `app`.
    pub app_connectors: Vec<AppConnector>,
}

/// The capability name of the app-connector node attribute.
pub const APP_CONNECTORS: &str = "tailscale.com/app-connectors";

/// One app connector (`tailscale-client-go-v2` `NodeAttrGrantApp`, plus `routes`). The
/// value stays in `app` too, where the capability map is compiled from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppConnector {
    pub span: Span,
    pub name: Option<Str>,
    /// Tags of the connector nodes.
    pub connectors: Vec<Str>,
    pub domains: Vec<Str>,
    pub routes: Vec<Str>,
    pub preset_app_id: Option<Str>,
}

/// A `tests` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AclTest {
    pub span: Span,
    /// `src`, or the legacy `user`.
    pub src: Option<Str>,
    pub proto: Option<Str>,
    /// `accept`, or the legacy `allow`.
    pub accept: Vec<Str>,
    pub deny: Vec<Str>,
    pub src_posture_attrs: Option<crate::syntax::Value>,
}

/// An `sshTests` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshTest {
    pub span: Span,
    pub src: Option<Str>,
    pub dst: Vec<Str>,
    pub accept: Vec<Str>,
    pub check: Vec<Str>,
    pub deny: Vec<Str>,
    pub src_posture_attrs: Option<crate::syntax::Value>,
}

/// Tailnet-wide settings that live in the policy file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub randomize_client_port: Option<Spanned<bool>>,
    pub disable_ipv4: Option<Spanned<bool>>,
    pub one_cgnat_route: Option<Str>,
    pub derp_map: Option<crate::syntax::Value>,
    pub node_visibility: Option<crate::syntax::Value>,
}
