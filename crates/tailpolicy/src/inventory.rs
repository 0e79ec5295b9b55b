//! The tailnet state a policy is evaluated against: users, nodes and tailnet settings, in the
//! JSON shape of the `users`, `nodes` and `tailnet` fields of the conformance captures.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub tailnet: Tailnet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(default)]
    pub id: u64,
    /// The login name without domain, e.g. `odin`.
    pub name: String,
    /// The login, e.g. `odin@example.com`.
    #[serde(default)]
    pub email: Option<String>,
    /// Admin-console roles: `owner`, `admin`, `it-admin`, `network-admin`, `billing-admin`,
    /// `auditor`; they make the user a member of the matching role autogroup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    #[serde(default)]
    pub ipv4: Option<Ipv4Addr>,
    #[serde(default)]
    pub ipv6: Option<Ipv6Addr>,
    /// The owning user's `name` (or login); `None` for tagged nodes.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Routes the node advertises (`Hostinfo.RoutableIPs`), exit routes included.
    #[serde(default)]
    pub routable_ips: Vec<IpNet>,
    /// The approved subset of `routable_ips`; only approved routes carry traffic.
    #[serde(default)]
    pub approved_routes: Vec<IpNet>,
    /// Routes this node currently serves as the primary (HA) router, as in
    /// `tailcfg.Node.PrimaryRoutes`. When no router of a prefix lists it, the first router in
    /// inventory order with the route approved is taken as primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_routes: Vec<IpNet>,
    /// Who created a tagged node (unit fixtures); not part of its identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl Node {
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// Tailnet settings beyond the policy file. Unknown keys are kept, not rejected, so captures
/// with more settings still load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tailnet {
    /// Domains associated with the tailnet, usable in `user:*@domain` and
    /// `localpart:*@domain`. When absent, the domain of the first user (the tailnet's owner)
    /// is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The code of the diagnostic for inventory JSON that does not load.
pub const INVALID_INVENTORY: &str = "INVENTORY";

impl Inventory {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Reads inventory JSON; a failure is an `INVENTORY` diagnostic located in `text`.
    pub fn parse(text: &str) -> Result<Self, crate::Diagnostic> {
        Self::from_json(text).map_err(|err| {
            // serde_json counts 1-based lines and 1-based byte columns.
            let line_start: usize = text
                .split_inclusive('\n')
                .take(err.line().saturating_sub(1))
                .map(str::len)
                .sum();
            let offset = (line_start + err.column().saturating_sub(1)).min(text.len());
            let offset = u32::try_from(offset).unwrap_or(u32::MAX);
            let message = err.to_string();
            // serde_json appends " at line L column C"; the position is in the span.
            let message = match message.rsplit_once(" at line ") {
                Some((head, _)) if err.line() > 0 => head.to_owned(),
                _ => message,
            };
            crate::Diagnostic::error(
                INVALID_INVENTORY,
                format!("invalid inventory: {message}"),
                crate::Span::at(offset),
            )
            .with_help(
                "an inventory is a JSON object `{\"users\": [...], \"nodes\": [...], \"tailnet\": {...}}`",
            )
        })
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
