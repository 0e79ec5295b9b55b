//! Compilation of the `ssh` section into the per-node Tailscale SSH policy Tailscale sends
//! (`tailcfg.SSHPolicy.Rules`, a list of `tailcfg.SSHRule`), and the `sshTests` verdict for
//! one source node, destination node and login.
//!
//! What the control server sends each destination node (policy-semantics §5.9, checked against
//! every accepted `ssh` capture):
//!
//! * Rules are taken in policy order, then **every `check` rule is moved before every
//!   `accept` rule** (a stable sort): the client takes the first rule that matches, so check
//!   wins over accept [capture ssh-multi-rule-accept-then-check].
//! * `sshUsers` (login → local user): `root` maps to itself when listed and to `""` (deny)
//!   otherwise; `autogroup:nonroot` adds `"*": "="` (any login as the same local name);
//!   every other entry, trimmed, is a literal login mapped to itself, even when it looks
//!   like a group, tag or malformed `localpart:` [captures ssh-malformed-user-*].
//! * Principals are the source nodes' addresses (`nodeIP`, IPv4 and IPv6), listed once per
//!   identity of the node that the sources name: a user's device once, a tagged device once
//!   per tag of it the sources name (`tag:x`, or every tag through `autogroup:tagged`), so
//!   a device with two tags appears twice under `autogroup:tagged` [capture ssh-b6]. Naming
//!   an identity twice does not repeat it. Order is not significant.
//! * A non-`autogroup:self` destination that names the node gives one rule with every
//!   source as principal. `autogroup:self` gives the node's owner's untagged devices among
//!   the sources (tagged nodes never match it).
//! * With a `localpart:*@<domain>` user the rule is split per source user (ascending user
//!   id, tagged sources last): first the common user map, then, for a user whose login is
//!   in `<domain>`, a rule mapping that user's local part to itself. Each source user's own
//!   devices also receive these rules even when they are not a destination, with that
//!   user's devices as principals [captures ssh-d2, ssh-d11, ssh-f5].
//! * `check` compiles to `holdAndDelegate` (a URL on the control server); `accept` to
//!   `accept` plus agent, local and remote port forwarding. `checkPeriod` is not sent to
//!   the node (no capture carries `sessionDuration`); it is kept on [`SshRuleOut`].
//!   `acceptEnv` is copied through.

use crate::text::Trimmed;

use serde::{Deserialize, Serialize};

use super::Compiled;
use crate::duration::{CheckPeriod, DEFAULT_CHECK_PERIOD, parse_check_period};
use crate::model::SshRule;
use crate::resolve::NodeInfo;
use crate::selector::{Autogroup, Selector};
use crate::span::Span;

/// The `holdAndDelegate` URL of a `check` rule. Tailscale's server fills in the
/// `$`-variables when it hands out the rule; only its presence is significant.
pub const CHECK_ACTION_URL: &str = "https://login.tailscale.com/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER";

/// `tailcfg.SSHPrincipal`: a source, by node address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SshPrincipal {
    #[serde(rename = "nodeIP")]
    pub node_ip: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `tailcfg.SSHAction`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshAction {
    #[serde(default, skip_serializing_if = "is_false")]
    pub accept: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reject: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_and_delegate: Option<String>,
    /// Nanoseconds. Tailscale does not send it for policy rules (the check period is
    /// enforced by the control server); present for completeness of the wire type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration: Option<i64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_agent_forwarding: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_local_port_forwarding: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_remote_port_forwarding: bool,
}

impl SshAction {
    /// What an `accept` rule sends.
    pub fn accept() -> Self {
        Self {
            accept: true,
            allow_agent_forwarding: true,
            allow_local_port_forwarding: true,
            allow_remote_port_forwarding: true,
            ..Self::default()
        }
    }

    /// What a `check` rule sends.
    pub fn check() -> Self {
        Self {
            hold_and_delegate: Some(CHECK_ACTION_URL.to_owned()),
            ..Self::default()
        }
    }

    pub fn is_check(&self) -> bool {
        self.hold_and_delegate.is_some()
    }
}

/// `tailcfg.SSHRule` wire JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshRuleWire {
    #[serde(default)]
    pub principals: Vec<SshPrincipal>,
    /// Login → local user; `""` denies, `"="` keeps the login. Sorted, as Go marshals maps.
    #[serde(rename = "sshUsers", default)]
    pub ssh_users: SshUsers,
    pub action: SshAction,
    #[serde(rename = "acceptEnv", default, skip_serializing_if = "Vec::is_empty")]
    pub accept_env: Vec<String>,
}

/// `sshUsers`: login → local user, sorted by login, serialized as a JSON object (as a
/// `BTreeMap<String, String>` would be). A sorted `Vec`: a `BTreeMap` of strings was about
/// 4 KB of the WASM module for maps of a few entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshUsers(Vec<(String, String)>);

impl SshUsers {
    /// Sets `login`'s local user (replacing an earlier one).
    pub fn insert(&mut self, login: String, local: String) {
        match self.0.binary_search_by(|(l, _)| l.as_str().cmp(&login)) {
            Ok(at) => {
                if let Some(entry) = self.0.get_mut(at) {
                    entry.1 = local;
                }
            }
            Err(at) => self.0.insert(at, (login, local)),
        }
    }

    pub fn get(&self, login: &str) -> Option<&String> {
        let at = self
            .0
            .binary_search_by(|(l, _)| l.as_str().cmp(login))
            .ok()?;
        self.0.get(at).map(|(_, local)| local)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(l, u)| (l, u))
    }
}

impl<const N: usize> From<[(String, String); N]> for SshUsers {
    fn from(entries: [(String, String); N]) -> Self {
        let mut users = Self::default();
        for (login, local) in entries {
            users.insert(login, local);
        }
        users
    }
}

impl Serialize for SshUsers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for SshUsers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(Self(map.into_iter().collect()))
    }
}

impl SshRuleWire {
    /// The local user a login maps to under this rule, as the client computes it: the
    /// login's own entry, else the `*` entry; `=` means the login itself. `None` when the
    /// rule does not allow the login (no entry, or an empty one).
    pub fn local_user(&self, login: &str) -> Option<String> {
        let mapped = self
            .ssh_users
            .get(login)
            .or_else(|| self.ssh_users.get("*"))?;
        let local = if mapped == "=" {
            login
        } else {
            mapped.as_str()
        };
        (!local.is_empty()).then(|| local.to_owned())
    }
}

/// The `ssh` rule a compiled SSH rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SshOrigin {
    /// Index in the `ssh` section.
    pub index: usize,
    #[serde(skip)]
    pub span: Span,
}

/// One compiled SSH rule for a destination node, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SshRuleOut {
    pub origin: SshOrigin,
    /// The source nodes (indices into the resolver's nodes), once per principal group:
    /// a node appears as often as Tailscale lists it.
    pub sources: Vec<usize>,
    /// For `check` rules: how long a successful check lasts (12h when not given).
    pub check_period: Option<CheckPeriod>,
    pub wire: SshRuleWire,
}

impl SshRuleOut {
    pub fn is_check(&self) -> bool {
        self.wire.action.is_check()
    }
}

/// The verdict of an SSH connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SshVerdict {
    Accept,
    Check,
    Deny,
}

impl SshVerdict {
    /// True unless denied: a `check` verdict admits the session once the check succeeds.
    /// (Tailscale's `sshTests` compare verdicts exactly: an `accept` assertion fails on a
    /// `check` rule, per policy-semantics §7.2; headscale's runner is laxer.)
    pub fn allows(self) -> bool {
        self != SshVerdict::Deny
    }
}

/// What happens when one node connects to another as one login (`sshTests` semantics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshDecision {
    pub verdict: SshVerdict,
    /// The index in the `ssh` section of the rule that decided (none for a deny).
    pub rule: Option<usize>,
    /// The local user the login maps to (none for a deny).
    pub local_user: Option<String>,
}

impl SshDecision {
    fn deny() -> Self {
        Self {
            verdict: SshVerdict::Deny,
            rule: None,
            local_user: None,
        }
    }
}

/// The parsed `users` of one rule.
struct Users {
    /// The user map every principal group gets.
    base: SshUsers,
    /// `localpart:*@<domain>` domains.
    localpart_domains: Vec<String>,
}

fn parse_users(rule: &SshRule) -> Option<Users> {
    let list = rule.users.as_ref()?;
    let mut root = false;
    let mut nonroot = false;
    let mut literals: Vec<String> = Vec::new();
    let mut localpart_domains = Vec::new();
    for entry in list.iter() {
        let text = entry.value.trimmed();
        match Selector::parse(text) {
            _ if text == "root" => root = true,
            Selector::Autogroup(Autogroup::NonRoot) => nonroot = true,
            Selector::LocalpartDomain(domain) => localpart_domains.push(domain.to_owned()),
            // Rejected by validation; never a login.
            _ if text.is_empty() || text == "*" => {}
            _ => literals.push(text.to_owned()),
        }
    }
    if !root && !nonroot && literals.is_empty() && localpart_domains.is_empty() {
        return None;
    }
    let mut base = SshUsers::default();
    if nonroot {
        base.insert("*".to_owned(), "=".to_owned());
    }
    base.insert("root".to_owned(), if root { "root" } else { "" }.to_owned());
    for login in literals {
        base.insert(login.clone(), login);
    }
    Some(Users {
        base,
        localpart_domains,
    })
}

/// The local part of `login` when its domain is one of `domains`.
fn localpart<'l>(login: &'l str, domains: &[String]) -> Option<&'l str> {
    let (local, domain) = login.rsplit_once('@')?;
    (!local.is_empty() && domains.iter().any(|d| d.eq_ignore_ascii_case(domain))).then_some(local)
}

/// A group of principals: one user's devices, or the tagged sources.
struct Group<'n> {
    /// The user's login; `None` for tagged (or ownerless) sources.
    login: Option<&'n str>,
    nodes: Vec<usize>,
}

impl Compiled<'_> {
    /// The SSH rules Tailscale sends node `node`, in the order the client evaluates them.
    pub fn ssh_rules(&self, node: usize) -> Vec<SshRuleOut> {
        let nodes = &self.resolver.nodes;
        let Some(dst) = nodes.get(node) else {
            return Vec::new();
        };
        let mut out: Vec<SshRuleOut> = Vec::new();
        for (index, rule) in self.resolver.policy.ssh.iter().enumerate() {
            self.compile_ssh_rule(index, rule, node, dst, &mut out);
        }
        // Check rules first, each group in policy order.
        out.sort_by_key(|r| !r.is_check());
        out
    }

    fn compile_ssh_rule(
        &self,
        index: usize,
        rule: &SshRule,
        node: usize,
        dst: &NodeInfo,
        out: &mut Vec<SshRuleOut>,
    ) {
        let (action, check_period) = match rule.action.as_ref().map(|a| a.value.trimmed()) {
            Some("accept") => (SshAction::accept(), None),
            Some("check") => {
                let period = rule
                    .check_period
                    .as_ref()
                    .and_then(|p| parse_check_period(p.value.trimmed()).ok())
                    .unwrap_or(CheckPeriod::Every(DEFAULT_CHECK_PERIOD));
                (SshAction::check(), Some(period))
            }
            _ => return,
        };
        let Some(users) = parse_users(rule) else {
            return;
        };
        let sources = self.ssh_sources(rule);
        if sources.is_empty() {
            return;
        }
        let origin = SshOrigin {
            index,
            span: rule.span,
        };
        let mut accept_env: Vec<String> = Vec::new();
        for e in rule.accept_env.iter() {
            accept_env.push(e.value.clone());
        }
        let emit = |group: &Group<'_>, out: &mut Vec<SshRuleOut>| {
            if group.nodes.is_empty() {
                return;
            }
            let mut push = |ssh_users: SshUsers| {
                out.push(SshRuleOut {
                    origin,
                    sources: group.nodes.clone(),
                    check_period,
                    wire: SshRuleWire {
                        principals: self.principals(&group.nodes),
                        ssh_users,
                        action: action.clone(),
                        accept_env: accept_env.clone(),
                    },
                });
            };
            push(users.base.clone());
            if let Some(local) = group
                .login
                .and_then(|login| localpart(login, &users.localpart_domains))
            {
                push(SshUsers::from([(local.to_owned(), local.to_owned())]));
            }
        };

        let selectors = parsed(&rule.dst.items);
        let self_selector = Selector::Autogroup(Autogroup::SelfDevices);
        let has_self = selectors.contains(&self_selector);
        let mut others: Vec<&Selector<'_>> = Vec::new();
        for s in &selectors {
            if *s != self_selector {
                others.push(s);
            }
        }
        let has_localpart = !users.localpart_domains.is_empty();

        if has_self
            && !dst.is_tagged()
            && let Some(login) = dst.login.as_deref()
        {
            emit(&self.user_group(&sources, login), out);
        }
        if others.is_empty() {
            return;
        }
        if others.iter().any(|s| self.resolver.node_matches(s, dst)) {
            if has_localpart {
                for group in self.groups_by_user(&sources) {
                    emit(&group, out);
                }
            } else {
                emit(
                    &Group {
                        login: None,
                        nodes: sources,
                    },
                    out,
                );
            }
        } else if has_localpart && sources.contains(&node) {
            // A source that is not a destination still receives the rule for its own
            // user's devices when the rule maps local parts [captures ssh-d2, ssh-f5].
            match dst.login.as_deref() {
                Some(login) if !dst.is_tagged() => emit(&self.user_group(&sources, login), out),
                _ => emit(
                    &Group {
                        login: None,
                        nodes: vec![node],
                    },
                    out,
                ),
            }
        }
    }

    /// The source nodes of a rule, in node order, each once per identity of the node the
    /// sources name: a user's device once, a tagged device once per tag named (directly or
    /// through `autogroup:tagged`). Naming an identity twice does not repeat it.
    fn ssh_sources(&self, rule: &SshRule) -> Vec<usize> {
        let selectors = parsed(&rule.src.items);
        let mut out = Vec::new();
        for (index, node) in self.resolver.nodes.iter().enumerate() {
            let times = if node.is_tagged() {
                let mut named = 0;
                for tag in distinct_tags(node) {
                    if selectors.iter().any(|s| names_tag(s, tag)) {
                        named += 1;
                    }
                }
                // A tagged device named by address only (not valid in `ssh`) counts once.
                if named == 0
                    && selectors
                        .iter()
                        .any(|s| self.resolver.node_matches(s, node))
                {
                    1
                } else {
                    named
                }
            } else {
                usize::from(
                    selectors
                        .iter()
                        .any(|s| self.resolver.node_matches(s, node)),
                )
            };
            for _ in 0..times {
                out.push(index);
            }
        }
        out
    }

    /// The sources owned (untagged) by `login`.
    fn user_group<'n>(&self, sources: &[usize], login: &'n str) -> Group<'n> {
        let mut nodes = Vec::new();
        for &i in sources {
            if self
                .resolver
                .nodes
                .get(i)
                .is_some_and(|n| !n.is_tagged() && n.login.as_deref() == Some(login))
            {
                nodes.push(i);
            }
        }
        Group {
            login: Some(login),
            nodes,
        }
    }

    /// The sources grouped by owner, by ascending user id; tagged and ownerless sources last.
    fn groups_by_user(&self, sources: &[usize]) -> Vec<Group<'_>> {
        let nodes = &self.resolver.nodes;
        let mut owners: Vec<(Option<u64>, &str)> = Vec::new();
        let mut rest = Vec::new();
        for &i in sources {
            let owner = nodes
                .get(i)
                .filter(|n| !n.is_tagged())
                .and_then(|n| n.login.as_deref().map(|login| (n.user_id, login)));
            match owner {
                Some((id, login)) => {
                    if !owners.iter().any(|(_, l)| *l == login) {
                        owners.push((id, login));
                    }
                }
                None => rest.push(i),
            }
        }
        owners.sort();
        let mut groups: Vec<Group<'_>> = Vec::new();
        for (_, login) in owners {
            groups.push(self.user_group(sources, login));
        }
        groups.push(Group {
            login: None,
            nodes: rest,
        });
        groups
    }

    fn principals(&self, sources: &[usize]) -> Vec<SshPrincipal> {
        let mut out = Vec::new();
        for &i in sources {
            for addr in self
                .resolver
                .nodes
                .get(i)
                .map_or(&[] as &[std::net::IpAddr], |n| n.addrs.as_slice())
            {
                out.push(SshPrincipal {
                    node_ip: addr.to_string(),
                });
            }
        }
        out
    }

    /// What happens when node `src_node` opens an SSH session to `dst_node` as `login`,
    /// as `sshTests` evaluate it: the first of the destination's rules (check rules first)
    /// that lists the source and maps the login to a local user decides. `autogroup:nonroot`
    /// never admits `root` (its rule maps root to `""`), and a `localpart:*@<domain>` rule
    /// admits only the source user's own local part, when the domain matches.
    pub fn ssh_decision(&self, src_node: usize, dst_node: usize, login: &str) -> SshDecision {
        if self.resolver.nodes.get(src_node).is_none() {
            return SshDecision::deny();
        }
        for rule in self.ssh_rules(dst_node) {
            if !rule.sources.contains(&src_node) {
                continue;
            }
            if let Some(local) = rule.wire.local_user(login) {
                return SshDecision {
                    verdict: if rule.is_check() {
                        SshVerdict::Check
                    } else {
                        SshVerdict::Accept
                    },
                    rule: Some(rule.origin.index),
                    local_user: Some(local),
                };
            }
        }
        SshDecision::deny()
    }
}

/// The node's tags, each once.
fn distinct_tags(node: &NodeInfo) -> Vec<&str> {
    let mut tags: Vec<&str> = Vec::new();
    for t in &node.tags {
        tags.push(t);
    }
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// A rule side's selectors, parsed.
fn parsed(texts: &[crate::model::Str]) -> Vec<Selector<'_>> {
    let mut out = Vec::new();
    for t in texts {
        out.push(Selector::parse(&t.value));
    }
    out
}

/// Does a source selector name the identity `tag` (lowercase)?
fn names_tag(selector: &Selector<'_>, tag: &str) -> bool {
    match selector {
        Selector::Tag(t) => t.trimmed().eq_ignore_ascii_case(tag),
        Selector::Autogroup(Autogroup::Tagged | Autogroup::DangerAll) | Selector::Wildcard => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::model;
    use crate::syntax;

    fn compile_and<T>(policy: &str, f: impl FnOnce(&Compiled<'_>) -> T) -> T {
        let inventory = Inventory::parse(&serde_json::json!({
            "users": [
                {"id": 1, "name": "alice", "email": "alice@example.com"},
                {"id": 2, "name": "bob", "email": "bob@other.org"}
            ],
            "nodes": [
                {"name": "a1", "ipv4": "100.64.0.1", "ipv6": "fd7a:115c:a1e0::1", "user": "alice"},
                {"name": "b1", "ipv4": "100.64.0.2", "user": "bob"},
                {"name": "srv", "ipv4": "100.64.0.3", "tags": ["tag:server", "tag:prod"]}
            ]
        })
        .to_string())
        .unwrap();
        let root = syntax::parse(policy).value;
        let policy = root.map(|r| model::lower(&r).0).unwrap_or_default();
        let compiled = Compiled::new(&policy, &inventory);
        f(&compiled)
    }

    #[test]
    fn check_rules_come_first_and_root_is_denied_unless_listed() {
        let policy = r#"{"ssh": [
            {"action": "accept", "src": ["alice@example.com"], "dst": ["tag:server"], "users": ["ubuntu"]},
            {"action": "check", "src": ["alice@example.com"], "dst": ["tag:server"], "users": ["root"]}
        ]}"#;
        compile_and(policy, |c| {
            let rules = c.ssh_rules(2);
            assert_eq!(rules.len(), 2);
            assert!(rules[0].is_check());
            assert_eq!(rules[0].origin.index, 1);
            assert_eq!(
                rules[1].wire.ssh_users.get("root").map(String::as_str),
                Some("")
            );
            assert_eq!(c.ssh_decision(0, 2, "root").verdict, SshVerdict::Check);
            assert_eq!(c.ssh_decision(0, 2, "ubuntu").verdict, SshVerdict::Accept);
            assert_eq!(c.ssh_decision(0, 2, "other").verdict, SshVerdict::Deny);
            assert_eq!(c.ssh_decision(1, 2, "ubuntu").verdict, SshVerdict::Deny);
        });
    }

    #[test]
    fn nonroot_and_localpart() {
        let policy = r#"{"ssh": [
            {"action": "accept", "src": ["autogroup:member"], "dst": ["tag:server"],
             "users": ["autogroup:nonroot", "localpart:*@example.com"]}
        ]}"#;
        compile_and(policy, |c| {
            let rules = c.ssh_rules(2);
            // alice: common + localpart; bob: common only.
            assert_eq!(rules.len(), 3);
            assert_eq!(
                rules[1].wire.ssh_users,
                SshUsers::from([("alice".to_owned(), "alice".to_owned())])
            );
            assert_eq!(c.ssh_decision(0, 2, "root").verdict, SshVerdict::Deny);
            assert_eq!(c.ssh_decision(0, 2, "alice").verdict, SshVerdict::Accept);
            // Every user's own devices receive the rule too.
            assert_eq!(c.ssh_rules(0).len(), 2);
            assert_eq!(c.ssh_rules(1).len(), 1);
        });
    }

    #[test]
    fn self_destination_and_tagged_multiplicity() {
        let policy = r#"{"ssh": [
            {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]},
            {"action": "accept", "src": ["autogroup:tagged"], "dst": ["tag:server"], "users": ["root"]}
        ]}"#;
        compile_and(policy, |c| {
            let a1 = c.ssh_rules(0);
            assert_eq!(a1.len(), 1);
            assert_eq!(a1[0].wire.principals.len(), 2);
            assert_eq!(c.ssh_decision(1, 0, "root").verdict, SshVerdict::Deny);
            let srv = c.ssh_rules(2);
            assert_eq!(srv.len(), 1);
            // Two tags: listed twice.
            assert_eq!(srv[0].wire.principals.len(), 2);
        });
    }

    #[test]
    fn principals_once_per_named_identity() {
        let policy = r#"{"ssh": [
            {"action": "accept", "src": ["tag:server"], "dst": ["tag:server"], "users": ["root"]},
            {"action": "accept", "src": ["tag:server", "tag:prod", "tag:server"], "dst": ["tag:server"], "users": ["root"]},
            {"action": "accept", "src": ["autogroup:member", "alice@example.com", "group:none"], "dst": ["tag:server"], "users": ["root"]}
        ]}"#;
        compile_and(policy, |c| {
            let counts: Vec<usize> = c.ssh_rules(2).iter().map(|r| r.sources.len()).collect();
            assert_eq!(counts, vec![1, 2, 2]);
        });
    }

    #[test]
    fn out_of_range_and_malformed_never_panic() {
        compile_and(
            r#"{"ssh": [{"action": "Accept", "src": ["*"], "dst": ["*"]}, {}]}"#,
            |c| {
                assert!(c.ssh_rules(99).is_empty());
                assert!(c.ssh_rules(0).is_empty());
                assert_eq!(c.ssh_decision(99, 0, "root").verdict, SshVerdict::Deny);
            },
        );
    }
}
