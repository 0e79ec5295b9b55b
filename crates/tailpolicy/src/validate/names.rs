//! Name-defining sections: `groups`, `hosts`, `tagOwners`, `ipsets`, `postures`, and the
//! sections that only reference names: `autoApprovers`, `nodeAttrs`.

use crate::fasthash::FastSet as HashSet;
use crate::text::Trimmed;

use crate::codes;
use crate::model::NamedList;
use crate::selector::{Selector, parse_prefix};

use super::{Place, Validator};

impl Validator<'_> {
    pub(super) fn groups(&mut self) {
        let policy = self.policy;
        for group in &policy.groups {
            let name = group.name.value.as_str();
            if !name.starts_with("group:") {
                self.error(
                    codes::INVALID_NAME,
                    format!("group must start with 'group:', got: \"{name}\""),
                    group.name.span,
                );
                continue;
            }
            for member in group.values.iter() {
                let text = member.value.trimmed();
                match Selector::parse(text) {
                    Selector::Group(_) => {
                        self.error(
                            codes::RECURSIVE_GROUP,
                            format!(
                                "groups[\"{name}\"]: \"{text}\": group members cannot be recursive"
                            ),
                            member.span,
                        );
                        self.help("list the users of the inner group instead");
                    }
                    Selector::User(_) => {}
                    Selector::Tag(_)
                    | Selector::Autogroup(_)
                    | Selector::UnknownAutogroup(_)
                    | Selector::Wildcard => {
                        self.error(
                            codes::INVALID_GROUP_MEMBER,
                            format!("groups[\"{name}\"]: \"{text}\": group members must be users"),
                            member.span,
                        );
                    }
                    _ => {
                        self.error(
                            codes::INVALID_GROUP_MEMBER,
                            format!("username must contain @, got: \"{text}\""),
                            member.span,
                        );
                        self.help("group members are logins such as `alice@example.com` or `alice@github`");
                    }
                }
            }
        }
    }

    pub(super) fn hosts(&mut self) {
        let policy = self.policy;
        for host in &policy.hosts {
            let name = host.name.value.as_str();
            if name.contains('@') {
                self.error(
                    codes::INVALID_HOST,
                    format!(
                        "host names cannot include an @, please change the name for \"{name}\""
                    ),
                    host.name.span,
                );
            } else if name.contains(':') {
                self.error(
                    codes::INVALID_HOST,
                    "host name must not contain colon (:)",
                    host.name.span,
                );
            }
            if parse_prefix(host.value.value.trimmed()).is_none() {
                self.error(
                    codes::INVALID_HOST,
                    format!(
                        "hostname contains invalid IP address: hostname \"{name}\" address \"{}\"",
                        host.value.value
                    ),
                    host.value.span,
                );
                self.help("a host alias names one IP address or CIDR, e.g. `100.101.102.103` or `192.0.2.0/24`");
            }
        }
    }

    pub(super) fn tag_owners(&mut self) {
        let policy = self.policy;
        for entry in &policy.tag_owners {
            let tag = entry.name.value.as_str();
            if let Err(error) = crate::names::check_tag(tag) {
                let message = if tag.starts_with("tag:") {
                    format!("tagOwners[\"{tag}\"]: {error}")
                } else {
                    format!("tag must start with 'tag:', got: \"{tag}\"")
                };
                self.error(codes::INVALID_TAG_NAME, message, entry.name.span);
            }
            for owner in entry.values.iter() {
                match Selector::parse(&owner.value) {
                    Selector::Tag(owning) => {
                        if !self.tag_defined(owning) {
                            self.error(
                                codes::UNDEFINED_TAG,
                                format!("tag \"{tag}\" references undefined tag \"{owning}\""),
                                owner.span,
                            );
                            self.suggest_tag(owning);
                        }
                    }
                    Selector::User(_) => {}
                    Selector::Group(_) | Selector::Autogroup(_) | Selector::UnknownAutogroup(_) => {
                        self.selector(owner, Place::TagOwner);
                    }
                    _ => {
                        self.error(
                            codes::INVALID_TAG_OWNER,
                            format!(
                                "tagOwners[\"{tag}\"]: \"{}\" cannot own a tag",
                                owner.value.trimmed()
                            ),
                            owner.span,
                        );
                        self.help("tag owners are users, groups, role autogroups or other tags");
                    }
                }
            }
        }
    }

    pub(super) fn ipsets(&mut self) {
        let policy = self.policy;
        for set in &policy.ipsets {
            let name = set.name.value.as_str();
            if !name.starts_with("ipset:") {
                self.error(
                    codes::INVALID_NAME,
                    format!("ipset must start with 'ipset:', got: \"{name}\""),
                    set.name.span,
                );
                continue;
            }
            let has_remove = set
                .values
                .iter()
                .any(|v| v.value.trim_start().starts_with("remove "));
            for entry in set.values.iter() {
                let text = entry.value.trimmed();
                let target = if let Some(rest) = text.strip_prefix("add ") {
                    rest.trimmed()
                } else if let Some(rest) = text.strip_prefix("remove ") {
                    rest.trimmed()
                } else {
                    if has_remove {
                        self.error(
                            codes::INVALID_IPSET,
                            format!("ipsets[\"{name}\"]: \"{text}\": an ipset with remove operations needs `add` before every other entry"),
                            entry.span,
                        );
                    }
                    text
                };
                let valid = match Selector::parse(target) {
                    Selector::Prefix(_) | Selector::Range(..) => true,
                    Selector::Autogroup(crate::selector::Autogroup::Internet) => true,
                    Selector::HostRef(host) => {
                        if self.host(host).is_none() {
                            self.error(
                                codes::UNDEFINED_HOST,
                                format!("host not defined in policy: \"{host}\""),
                                entry.span,
                            );
                        }
                        true
                    }
                    Selector::IpSet(other) => {
                        if !policy.ipsets.iter().any(|s| s.name.value == other) {
                            self.error(
                                codes::UNDEFINED_IPSET,
                                format!("ipset not defined in policy: \"{other}\""),
                                entry.span,
                            );
                        }
                        true
                    }
                    _ => false,
                };
                if !valid {
                    self.error(
                        codes::INVALID_IPSET,
                        format!("ipsets[\"{name}\"]: \"{text}\": not a valid ipset entry"),
                        entry.span,
                    );
                    self.help("ipset entries are IPs, CIDRs, ranges `a-b`, `host:<name>`, `autogroup:internet` or `ipset:<name>`, optionally after `add ` or `remove `");
                }
            }
        }
        self.ipset_cycles();
    }

    fn ipset_cycles(&mut self) {
        let policy = self.policy;
        for set in &policy.ipsets {
            let mut seen = HashSet::default();
            let mut stack = vec![set.name.value.as_str()];
            let mut cyclic = false;
            while let Some(current) = stack.pop() {
                let Some(entry) = policy.ipsets.iter().find(|s| s.name.value == current) else {
                    continue;
                };
                for value in entry.values.iter() {
                    let text = value.value.trimmed();
                    let target = text
                        .strip_prefix("add ")
                        .or_else(|| text.strip_prefix("remove "))
                        .unwrap_or(text)
                        .trimmed();
                    if target.starts_with("ipset:") {
                        if target == set.name.value {
                            cyclic = true;
                        } else if seen.insert(target) {
                            stack.push(target);
                        }
                    }
                }
            }
            if cyclic {
                self.error(
                    codes::INVALID_IPSET,
                    format!("ipset \"{}\" includes itself", set.name.value),
                    set.name.span,
                );
            }
        }
    }

    pub(super) fn postures(&mut self) {
        let policy = self.policy;
        for posture in &policy.postures {
            let name = posture.name.value.as_str();
            if !name.starts_with("posture:") {
                self.error(
                    codes::INVALID_NAME,
                    format!("posture must start with 'posture:', got: \"{name}\""),
                    posture.name.span,
                );
            }
            for assertion in posture.values.iter() {
                if let Err(reason) = check_posture_assertion(&assertion.value) {
                    self.error(
                        codes::INVALID_POSTURE,
                        format!("postures[\"{name}\"]: \"{}\": {reason}", assertion.value),
                        assertion.span,
                    );
                }
            }
        }
        // Gathered by loops, not a chain of flat_maps (module size).
        let mut references: Vec<_> = policy.default_src_posture.iter().collect();
        for rule in crate::text::items(&policy.acls) {
            references.extend(rule.src_posture.iter());
        }
        for grant in crate::text::items(&policy.grants) {
            references.extend(grant.src_posture.iter());
        }
        for rule in &policy.ssh {
            references.extend(rule.src_posture.iter());
        }
        for reference in references {
            if !self.postures.contains(reference.value.as_str()) {
                self.error(
                    codes::UNDEFINED_POSTURE,
                    format!("posture not defined in policy: \"{}\"", reference.value),
                    reference.span,
                );
            }
        }
    }

    pub(super) fn auto_approvers(&mut self) {
        let policy = self.policy;
        let approvers = &policy.auto_approvers;
        for route in &approvers.routes {
            if parse_prefix(route.name.value.trimmed()).is_none() {
                self.error(
                    codes::INVALID_AUTO_APPROVER,
                    format!(
                        "autoApprovers.routes: \"{}\" is not a valid route prefix",
                        route.name.value
                    ),
                    route.name.span,
                );
            }
            self.approver_list(route);
        }
        for approver in &approvers.exit_node {
            self.approver(approver);
        }
        for service in &approvers.services {
            // Keys are services (`svc:`) or tags, which approve every service carrying
            // the tag (Tailscale's Kubernetes operator policy, `cmd/k8s-operator/e2e`).
            match Selector::parse(&service.name.value) {
                Selector::Service(_) => {}
                Selector::Tag(tag) => {
                    if !self.tag_defined(tag) {
                        self.undefined_tag(tag, tag, Place::AutoApprover, service.name.span);
                    }
                }
                _ => {
                    self.error(
                        codes::INVALID_AUTO_APPROVER,
                        format!(
                            "autoApprovers.services: \"{}\" must start with 'svc:' or 'tag:'",
                            service.name.value
                        ),
                        service.name.span,
                    );
                }
            }
            self.approver_list(service);
        }
    }

    fn approver_list(&mut self, list: &NamedList) {
        for approver in list.values.iter() {
            self.approver(approver);
        }
    }

    fn approver(&mut self, approver: &crate::model::Str) {
        self.selector(approver, Place::AutoApprover);
    }

    pub(super) fn node_attrs(&mut self) {
        let policy = self.policy;
        for attr in &policy.node_attrs {
            for target in attr.target.iter() {
                self.selector(target, Place::NodeAttrTarget);
            }
            for pool in &attr.ip_pool {
                match parse_prefix(pool.value.trimmed()) {
                    Some(prefix) => {
                        if let Err(error) = crate::names::check_ip_pool(&prefix) {
                            self.error(codes::INVALID_NODE_ATTR, error.to_string(), pool.span);
                        }
                    }
                    None => {
                        self.error(
                            codes::INVALID_NODE_ATTR,
                            format!("ipPool \"{}\" is not a valid CIDR", pool.value),
                            pool.span,
                        );
                    }
                }
            }
            // Node capabilities: the reserved-domain rule is for grant `app` keys (the
            // app-connector attribute is `tailscale.com/app-connectors`); the name's form
            // is not pinned down here, so a bad one is a warning.
            if let Some(app) = &attr.app {
                for (name, _) in &app.entries {
                    if let Err(crate::names::CapabilityNameError::Form) =
                        crate::names::check_capability_name(&name.value)
                    {
                        self.warn(
                            codes::INVALID_CAPABILITY,
                            format!(
                                "nodeAttrs app: `{}` does not have the form {{domain}}/{{path}}",
                                name.value
                            ),
                            name.span,
                        );
                    }
                }
            }
            for connector in &attr.app_connectors {
                for tag in &connector.connectors {
                    self.soft_tag(tag, "connectors");
                }
                for route in &connector.routes {
                    if parse_prefix(route.value.trimmed()).is_none() {
                        self.warn(
                            codes::INVALID_NODE_ATTR,
                            format!("app connector route \"{}\" is not a CIDR", route.value),
                            route.span,
                        );
                    }
                }
            }
        }
    }

    pub(super) fn attr_config(&mut self) {
        let policy = self.policy;
        for entry in &policy.attr_config {
            if let Some(kind) = &entry.kind
                && !matches!(kind.value.as_str(), "string" | "bool" | "number")
            {
                self.warn(
                    codes::INVALID_SETTING,
                    format!(
                        "attrConfig[\"{}\"]: type \"{}\" is not one of \"string\", \"bool\", \"number\"",
                        entry.name.value, kind.value
                    ),
                    kind.span,
                );
            }
            for peer in &entry.broadcast_to_peers {
                if let Selector::Tag(_) = Selector::parse(&peer.value) {
                    self.soft_tag(peer, "broadcastToPeers");
                }
            }
        }
    }
}

/// Checks the shape `<attribute> <operator> <value>` of one posture assertion.
fn check_posture_assertion(text: &str) -> Result<(), String> {
    let text = text.trimmed();
    let Some((attribute, rest)) = text.split_once(char::is_whitespace) else {
        // A bare boolean attribute, as in Tailscale's default policy
        // (`"node:tsAutoUpdate"`).
        if text.contains(':') {
            return Ok(());
        }
        return Err("expected `<attribute> <operator> <value>`".into());
    };
    if !attribute.contains(':') {
        return Err(format!(
            "unknown attribute `{attribute}`: attributes look like `node:os` or `custom:name`"
        ));
    }
    let rest = rest.trim_start();
    let unary = ["IS SET", "NOT SET"];
    if unary.contains(&rest) {
        return Ok(());
    }
    let binary = ["NOT IN", "IN", "==", "!=", "<=", ">=", "<", ">"];
    let Some(op) = binary.iter().find(|op| rest.starts_with(**op)) else {
        return Err(
            "expected an operator: ==, !=, IN, NOT IN, IS SET, NOT SET, <, <=, >, >=".into(),
        );
    };
    let value = rest.get(op.len()..).unwrap_or("").trimmed();
    if value.is_empty() {
        return Err(format!("`{op}` needs a value"));
    }
    Ok(())
}
