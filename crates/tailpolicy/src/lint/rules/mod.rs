//! One module per rule, named after the rule. Shared helpers live here.

pub(crate) mod acl_expressible_as_grant;
pub(crate) mod broad_access_rule;
pub(crate) mod broad_tag_owner;
pub(crate) mod ci_tag_broad_destination;
pub(crate) mod ci_tag_broad_owner;
pub(crate) mod danger_all_source;
pub(crate) mod duplicate_list_entry;
pub(crate) mod duplicate_node_attr;
pub(crate) mod empty_group;
pub(crate) mod host_bits_set;
pub(crate) mod invalid_suppression;
pub(crate) mod legacy_acl_field;
pub(crate) mod public_host_address;
pub(crate) mod redundant_rule;
pub(crate) mod shared_ip_pool;
pub(crate) mod ssh_check_from_tag;
pub(crate) mod ssh_root_from_broad_source;
pub(crate) mod unrouted_subnet_destination;
pub(crate) mod untested_sensitive_access;
pub(crate) mod unused_group;
pub(crate) mod unused_host;
pub(crate) mod unused_ipset;
pub(crate) mod unused_posture;
pub(crate) mod unused_suppression;
pub(crate) mod unused_tag;

use crate::ports::parse_port_spec;
use crate::selector::{Autogroup, Selector};
use crate::span::Span;
use crate::text::Trimmed;

use super::visit::Reference;
use super::{LintContext, RuleContext};
use crate::fasthash::{FastMap, FastSet};
use crate::model::{Policy, Str};

/// The first character of a span: where a finding about a whole object points.
pub(super) fn head(span: Span) -> Span {
    Span::new(
        span.start,
        span.start.saturating_add(1).min(span.end.max(span.start)),
    )
}

/// Why a group counts as broad (more members than configured, or every user of the
/// inventory), or `None`.
pub(super) fn broad_group(cx: &RuleContext<'_>, name: &str) -> Option<String> {
    cx.broad_groups.get(name).cloned()
}

/// Every broad group of the policy by name, and why it is broad (see [`broad_group`]);
/// worked out once per lint run, as rules ask for every group source they see.
pub(super) fn broad_groups<'a>(
    policy: &'a Policy,
    ctx: &LintContext<'_>,
) -> FastMap<&'a str, String> {
    let mut broad = FastMap::default();
    let mut seen = FastSet::default();
    for group in &policy.groups {
        let name = group.name.value.trimmed();
        // The first definition of a repeated name is the one a lookup finds.
        if !seen.insert(name) {
            continue;
        }
        let mut members: Vec<String> = Vec::with_capacity(group.values.items.len());
        for m in group.values.iter() {
            members.push(m.value.trimmed().to_ascii_lowercase());
        }
        members.sort_unstable();
        members.dedup();
        let why = if members.len() > ctx.config.broad_group_size {
            format!("which has {} members", members.len())
        } else {
            let users = ctx.inventory.map_or(&[][..], |i| &i.users[..]);
            let everyone = users.len() >= 2
                && users.iter().all(|u| {
                    members
                        .binary_search(&u.login().to_ascii_lowercase())
                        .is_ok()
                });
            if !everyone {
                continue;
            }
            "which holds every user of the tailnet".to_owned()
        };
        broad.insert(name, why);
    }
    broad
}

/// Reports every definition whose name no reference uses: "{kind} `name` is never used".
/// `used_name` says which name, if any, a reference uses (the names are collected once).
pub(super) fn report_unused<'a>(
    cx: &mut RuleContext<'a>,
    kind: &str,
    names: impl IntoIterator<Item = &'a Str>,
    used_name: impl Fn(&Reference<'a>) -> Option<&'a str>,
    help: &str,
) {
    let mut used: FastSet<&str> = FastSet::default();
    for reference in cx.references {
        if let Some(name) = used_name(reference) {
            used.insert(name);
        }
    }
    for name in names {
        let text = name.value.trimmed();
        if !used.contains(text) {
            let diagnostic = cx
                .diagnostic(format!("{kind} `{text}` is never used"), name.span)
                .with_help(help);
            cx.push(diagnostic);
        }
    }
}

/// A source that stands for everyone: how to say it, or `None`.
pub(super) fn everyone_source(cx: &RuleContext<'_>, selector: &Selector<'_>) -> Option<String> {
    match selector {
        Selector::Wildcard => Some("every device".to_owned()),
        Selector::Autogroup(Autogroup::Member) => Some("every tailnet member".to_owned()),
        Selector::Autogroup(Autogroup::DangerAll) => Some("every address".to_owned()),
        Selector::UserDomain(domain) => Some(format!("every user in `{domain}`")),
        Selector::Group(group) => broad_group(cx, group).map(|why| format!("`{group}`, {why}")),
        _ => None,
    }
}

/// True when a port spec covers every port (`*`, `0-65535`, `1-65535`).
pub(super) fn all_ports(spec: &str) -> bool {
    parse_port_spec(spec)
        .is_ok_and(|ranges| ranges.iter().any(|r| r.first <= 1 && r.last == u16::MAX))
}
