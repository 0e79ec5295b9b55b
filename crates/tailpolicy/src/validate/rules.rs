//! `acls` and `grants`.

use crate::codes;
use crate::model::{AclRule, Grant, Str};
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::{Place, Validator};

impl Validator<'_> {
    pub(super) fn acls(&mut self) {
        let policy = self.policy;
        for rule in crate::text::items(&policy.acls).iter() {
            self.acl(rule);
        }
    }

    fn acl(&mut self, rule: &AclRule) {
        match &rule.action {
            Some(action) if action.value == "accept" => {}
            Some(action) => {
                self.error(
                    codes::INVALID_ACL_ACTION,
                    format!("action=\"{}\" is not supported", action.value),
                    action.span,
                );
                self.help("ACLs only allow: the only action is \"accept\"");
            }
            None => {
                self.error(
                    codes::INVALID_ACL_ACTION,
                    "action=\"\" is not supported",
                    rule.span,
                );
                self.help("add \"action\": \"accept\"");
            }
        }
        let sources = self.selectors(&rule.src.items, Place::AclSrc);

        let protocol =
            rule.proto
                .as_ref()
                .and_then(|p| match crate::proto::parse_protocol(&p.value) {
                    Ok(protocol) => Some(protocol),
                    Err(error) => {
                        self.error(codes::INVALID_PROTOCOL, error.to_string(), p.span);
                        None
                    }
                });

        let mut has_self = false;
        for entry in rule.dst.iter() {
            let Some((selector_text, ports)) = self.acl_destination(entry) else {
                continue;
            };
            let selector = Selector::parse(&selector_text);
            if let Selector::Tag(tag) = selector
                && !self.tag_defined(tag)
            {
                self.undefined_tag(tag, &selector_text, Place::AclDst, entry.span);
                continue;
            }
            self.check_selector(&selector, &selector_text, Place::AclDst, entry.span);
            has_self |= selector == Selector::Autogroup(Autogroup::SelfDevices);
            if let (Some(protocol), Some(ports)) = (&protocol, ports)
                && !protocol.supports_ports()
                && !is_all_ports(ports)
            {
                self.error(
                    codes::INVALID_PORTS,
                    format!(
                        "protocol does not support specific ports: \"{}\", only \"*\" is allowed",
                        rule.proto.as_ref().map_or("", |p| p.value.as_str())
                    ),
                    entry.span,
                );
            }
        }
        if has_self {
            self.self_sources(&rule.src.items, &sources, true);
        }
    }

    /// Splits and checks one `selector:ports` entry. Returns the selector text and the parsed
    /// ports when both are valid.
    fn acl_destination<'e>(
        &mut self,
        entry: &'e Str,
    ) -> Option<(std::borrow::Cow<'e, str>, Option<&'e str>)> {
        let raw = entry.value.as_str();
        let (selector, ports) = match crate::ports::split_destination_and_port(raw) {
            Ok(parts) => parts,
            Err(error) => {
                self.error(
                    codes::INVALID_PORTS,
                    format!("dst=\"{raw}\": {error}"),
                    entry.span,
                );
                self.help("ACL destinations are `<target>:<ports>`, e.g. `tag:db:5432`, `database:*` or `[fd7a::1]:22`");
                return None;
            }
        };
        if let Err(error) = crate::ports::parse_port_spec(ports) {
            self.error(
                codes::INVALID_PORTS,
                format!("dst=\"{raw}\": port range \"{ports}\": {error}"),
                entry.span,
            );
            self.help("ports are `*`, a number, a range `a-b`, or a comma-separated list of them");
            return Some((selector, None));
        }
        Some((selector, Some(ports)))
    }

    /// `autogroup:self` needs every source to be a user identity (and, in ACLs, `*`).
    fn self_sources(&mut self, texts: &[Str], sources: &[Selector<'_>], allow_wildcard: bool) {
        for (text, selector) in texts.iter().zip(sources) {
            let ok =
                selector.is_user_identity() || (allow_wildcard && *selector == Selector::Wildcard);
            if !ok {
                self.error(
                    codes::SELF_WITH_BAD_SOURCE,
                    "autogroup:self can only be used with users, groups, or supported autogroups",
                    text.span,
                );
                self.help(if allow_wildcard {
                    "with an `autogroup:self` destination, sources must be users, groups, `autogroup:member`, role autogroups or `*`"
                } else {
                    "with an `autogroup:self` destination, grant sources must be users, groups, `autogroup:member` or role autogroups (not `*`)"
                });
            }
        }
    }

    pub(super) fn grants(&mut self) {
        let policy = self.policy;
        for grant in crate::text::items(&policy.grants).iter() {
            self.grant(grant);
        }
    }

    fn grant(&mut self, grant: &Grant) {
        let sources = self.selectors(&grant.src.items, Place::GrantSrc);
        let mut has_self = false;
        let mut has_internet = false;
        for entry in grant.dst.iter() {
            let selector = self.selector(entry, Place::GrantDst);
            match selector {
                Selector::Autogroup(Autogroup::SelfDevices) => has_self = true,
                Selector::Autogroup(Autogroup::Internet) => has_internet = true,
                Selector::Prefix(prefix) if prefix.prefix_len() == 0 => {
                    self.error(
                        codes::INVALID_GRANT_DESTINATION,
                        format!(
                            "dst \"{}\": to allow all IP addresses, use \"*\" or \"autogroup:internet\"",
                            entry.value.trimmed()
                        ),
                        entry.span,
                    );
                }
                _ => {}
            }
        }
        let ip_empty = grant.ip.as_ref().is_none_or(|ip| ip.is_empty());
        let app_empty = grant.app.as_ref().is_none_or(|app| app.entries.is_empty());
        if ip_empty && app_empty {
            self.error(
                codes::GRANT_WITHOUT_ACCESS,
                "ip and app can not both be empty",
                grant.span,
            );
            self.help(
                "add `\"ip\": [\"*\"]` or the ports it should allow, e.g. `\"ip\": [\"tcp:443\"]`",
            );
        }
        for entry in crate::text::items(&grant.ip).iter() {
            if let Err(error) = crate::proto::parse_grant_ip(&entry.value) {
                self.error(codes::INVALID_PORTS, error.to_string(), entry.span);
                self.help("`ip` entries are `*`, ports (`443`, `80-443`), or `proto:ports` (`tcp:443`, `icmp:*`)");
            }
        }
        if let Some(app) = &grant.app {
            for (name, _) in &app.entries {
                self.grant_capability(name);
            }
            if has_internet && !app.entries.is_empty() {
                self.error(
                    codes::INVALID_GRANT_DESTINATION,
                    "cannot use app grants with autogroup:internet",
                    app.span,
                );
            }
        }
        for via in &grant.via {
            match Selector::parse(&via.value) {
                Selector::Tag(tag) => {
                    if !self.tag_defined(tag) {
                        self.error(
                            codes::UNDEFINED_TAG,
                            format!("tag \"{tag}\" not found"),
                            via.span,
                        );
                        self.suggest_tag(tag);
                    }
                }
                _ => {
                    self.error(codes::INVALID_VIA, "via can only be a tag", via.span);
                }
            }
        }
        if has_self {
            self.self_sources(&grant.src.items, &sources, false);
        }
    }
}

impl Validator<'_> {
    /// A grant `app` key. Tailscale refuses `tailscale.com` names other than the ones it
    /// publishes; the list of published ones is not pinned down, so an unknown one is a
    /// warning unless a capture shows it refused.
    fn grant_capability(&mut self, name: &Str) {
        use crate::names::{CapabilityNameError, check_capability_name};
        let text = name.value.as_str();
        match check_capability_name(text) {
            Ok(()) => {}
            Err(CapabilityNameError::ReservedDomain)
                if !crate::names::is_refused_tailscale_capability(text) =>
            {
                self.warn(
                    codes::INVALID_CAPABILITY,
                    format!("`{text}` is not a tailscale.com capability tailpolicy knows Tailscale to publish"),
                    name.span,
                );
                self.help("Tailscale refuses tailscale.com names it does not publish (\"capability name must not be in the tailscale.com domain\"); check the spelling, or use a domain you control");
            }
            Err(error) => {
                self.error(codes::INVALID_CAPABILITY, error.to_string(), name.span);
            }
        }
    }
}

fn is_all_ports(ports: &str) -> bool {
    ports.trimmed() == "*"
}
