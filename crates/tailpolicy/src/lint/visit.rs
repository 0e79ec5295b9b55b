//! Every place a policy names something: selectors in rules, owners, approvers, tests,
//! ipset operations, posture names. Rules that ask "is X used?" or "where does X appear?"
//! walk this list instead of the policy's many sections.

use crate::model::{List, NamedList, Policy, Str};
use crate::ports::split_destination_and_port;
use crate::selector::Selector;
use crate::span::Span;
use crate::text::Trimmed;

/// Where a name appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    AclSrc,
    AclDst,
    GrantSrc,
    GrantDst,
    GrantVia,
    SshSrc,
    SshDst,
    /// An SSH rule's session `recorder`.
    SshRecorder,
    /// A key of `autoApprovers.services` (a `svc:` service or a tag).
    ServiceKey,
    /// An app connector's `connectors` (`nodeAttrs` `tailscale.com/app-connectors`).
    AppConnector,
    /// An `attrConfig` entry's `broadcastToPeers`.
    AttrBroadcast,
    /// A `recorder`/`recorders` tag in a grant's `tailscale.com/cap/kubernetes` value
    /// (the Kubernetes operator's session recording).
    CapRecorder,
    /// A `tagOwners` value.
    TagOwner,
    /// A `groups` member.
    GroupMember,
    /// An `ipsets` operation's target.
    IpsetEntry,
    /// A value of `autoApprovers.routes`, `.exitNode` or `.services`.
    AutoApprover,
    NodeAttrTarget,
    TestSrc,
    /// A `tests` `accept`/`deny` destination (port removed).
    TestDst,
    SshTestSrc,
    SshTestDst,
    /// A `srcPosture` or `defaultSrcPosture` entry.
    Posture,
}

/// One name, as written (trimmed; ports and ipset operations removed).
#[derive(Debug, Clone)]
pub(crate) struct Reference<'a> {
    pub text: &'a str,
    pub span: Span,
    pub place: Place,
    /// For values of a definition (`tagOwners`, `groups`, `ipsets`), the name defined.
    pub owner: Option<&'a str>,
    /// `text` classified, once for every rule that asks.
    pub selector: Selector<'a>,
}

impl<'a> Reference<'a> {
    fn new(text: &'a str, span: Span, place: Place, owner: Option<&'a str>) -> Self {
        Reference {
            text,
            span,
            place,
            owner,
            selector: Selector::parse(text),
        }
    }
}

/// Every reference in the policy, in section order.
pub(crate) fn references(policy: &Policy) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    add_all(policy, &mut out);
    out
}

fn add_all<'a>(policy: &'a Policy, out: &mut Vec<Reference<'a>>) {
    let plain = |out: &mut Vec<Reference<'a>>, s: &'a Str, place: Place, owner: Option<&'a str>| {
        out.push(Reference::new(s.value.trimmed(), s.span, place, owner));
    };
    let with_port = |out: &mut Vec<Reference<'a>>, s: &'a Str, place: Place| {
        let text = s.value.trimmed();
        // `[v6]/len:port` loses its brackets (an owned string); the bare text still names
        // no group, tag, host or ipset, so keeping the whole entry is fine there.
        let selector = match split_destination_and_port(text) {
            Ok((std::borrow::Cow::Borrowed(alias), _)) => alias,
            _ => text,
        };
        out.push(Reference::new(selector, s.span, place, None));
    };
    let list = |out: &mut Vec<Reference<'a>>, items: &'a List<Str>, place: Place| {
        for s in items.iter() {
            plain(out, s, place, None);
        }
    };
    let named = |out: &mut Vec<Reference<'a>>, entries: &'a [NamedList], place: Place| {
        for entry in entries {
            for s in entry.values.iter() {
                plain(out, s, place, Some(entry.name.value.trimmed()));
            }
        }
    };

    for rule in crate::text::items(&policy.acls).iter() {
        list(out, &rule.src, Place::AclSrc);
        for dst in rule.dst.iter() {
            with_port(out, dst, Place::AclDst);
        }
        for posture in &rule.src_posture {
            plain(out, posture, Place::Posture, None);
        }
    }
    for grant in crate::text::items(&policy.grants).iter() {
        list(out, &grant.src, Place::GrantSrc);
        list(out, &grant.dst, Place::GrantDst);
        for via in &grant.via {
            plain(out, via, Place::GrantVia, None);
        }
        for posture in &grant.src_posture {
            plain(out, posture, Place::Posture, None);
        }
        // Nested loops, not a flat_map/filter_map/flatten chain (module size).
        for app in grant.app.iter() {
            for (name, value) in &app.entries {
                if name.value.trimmed() != "tailscale.com/cap/kubernetes" {
                    continue;
                }
                for object in value.as_array().unwrap_or_default() {
                    for member in object.as_object().unwrap_or_default() {
                        if !(member.key.eq_ignore_ascii_case("recorder")
                            || member.key.eq_ignore_ascii_case("recorders"))
                        {
                            continue;
                        }
                        for item in member.value.as_array().unwrap_or_default() {
                            if let Some(text) = item.as_str() {
                                out.push(Reference::new(
                                    text.trimmed(),
                                    item.span,
                                    Place::CapRecorder,
                                    None,
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    for rule in &policy.ssh {
        list(out, &rule.src, Place::SshSrc);
        list(out, &rule.dst, Place::SshDst);
        for posture in &rule.src_posture {
            plain(out, posture, Place::Posture, None);
        }
        for recorder in &rule.recorder {
            plain(out, recorder, Place::SshRecorder, None);
        }
    }
    named(out, &policy.tag_owners, Place::TagOwner);
    named(out, &policy.groups, Place::GroupMember);
    for set in &policy.ipsets {
        for entry in set.values.iter() {
            let text = entry.value.trimmed();
            let target = text
                .strip_prefix("add ")
                .or_else(|| text.strip_prefix("remove "))
                .unwrap_or(text)
                .trimmed();
            out.push(Reference::new(
                target,
                entry.span,
                Place::IpsetEntry,
                Some(set.name.value.trimmed()),
            ));
        }
    }
    named(out, &policy.auto_approvers.routes, Place::AutoApprover);
    named(out, &policy.auto_approvers.services, Place::AutoApprover);
    for service in &policy.auto_approvers.services {
        plain(out, &service.name, Place::ServiceKey, None);
    }
    for s in &policy.auto_approvers.exit_node {
        plain(out, s, Place::AutoApprover, None);
    }
    for attr in &policy.node_attrs {
        list(out, &attr.target, Place::NodeAttrTarget);
        for connector in &attr.app_connectors {
            for tag in &connector.connectors {
                plain(out, tag, Place::AppConnector, None);
            }
        }
    }
    for entry in &policy.attr_config {
        for peer in &entry.broadcast_to_peers {
            plain(out, peer, Place::AttrBroadcast, None);
        }
    }
    for posture in &policy.default_src_posture {
        plain(out, posture, Place::Posture, None);
    }
    for test in &policy.tests {
        if let Some(src) = &test.src {
            plain(out, src, Place::TestSrc, None);
        }
        for dst in test.accept.iter().chain(&test.deny) {
            with_port(out, dst, Place::TestDst);
        }
    }
    for test in &policy.ssh_tests {
        if let Some(src) = &test.src {
            plain(out, src, Place::SshTestSrc, None);
        }
        for dst in &test.dst {
            plain(out, dst, Place::SshTestDst, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_in_every_section() {
        let text = r#"{
  "groups": {"group:a": ["x@example.com"]},
  "tagOwners": {"tag:t": ["group:a"]},
  "hosts": {"h": "10.0.0.1"},
  "ipsets": {"ipset:s": ["add host:h", "remove 10.0.0.2"]},
  "acls": [{"action": "accept", "src": ["group:a"], "dst": ["tag:t:22", "[fd7a::1]:80"]}],
  "grants": [{"src": ["ipset:s"], "dst": ["h"], "ip": ["*"], "via": ["tag:t"], "srcPosture": ["posture:p"]}],
  "postures": {"posture:p": ["node:os == 'linux'"]},
  "tests": [{"src": "x@example.com", "accept": ["h:22"]}],
}"#;
        let parsed = crate::syntax::parse(text);
        let (policy, _) = crate::model::lower(parsed.value.as_ref().unwrap());
        let refs: Vec<(&str, Place, Option<&str>)> = references(&policy)
            .iter()
            .map(|r| (r.text, r.place, r.owner))
            .collect();
        assert_eq!(
            refs,
            [
                ("group:a", Place::AclSrc, None),
                ("tag:t", Place::AclDst, None),
                ("fd7a::1", Place::AclDst, None),
                ("ipset:s", Place::GrantSrc, None),
                ("h", Place::GrantDst, None),
                ("tag:t", Place::GrantVia, None),
                ("posture:p", Place::Posture, None),
                ("group:a", Place::TagOwner, Some("tag:t")),
                ("x@example.com", Place::GroupMember, Some("group:a")),
                ("host:h", Place::IpsetEntry, Some("ipset:s")),
                ("10.0.0.2", Place::IpsetEntry, Some("ipset:s")),
                ("x@example.com", Place::TestSrc, None),
                ("h", Place::TestDst, None),
            ]
        );
    }
}
