use std::borrow::Cow;

use crate::fasthash::FastMap;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{List, Policy, Str};
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags an entry listed twice in one list: `src`, `dst`, `ip`, `users`, group members,
    /// tag owners, ipset operations, approvers, node-attribute targets, test destinations
    /// and so on. Tags compare without regard to case, as Tailscale reads them.
    ///
    /// ### Why is this bad
    /// The second copy changes nothing, so it is at best noise. Often it is a copy-paste
    /// slip where a different entry was meant (`tag:web` twice instead of `tag:web` and
    /// `tag:api`).
    ///
    /// ### Example
    /// ```jsonc
    /// "grants": [{"src": ["group:eng", "group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    code: "TP010",
    name: "duplicate-list-entry",
    category: Style,
    severity: Warning,
    summary: "the same entry listed twice in one list",
}

fn check(cx: &mut RuleContext<'_>) {
    let mut first_of: FastMap<Cow<'_, str>, &Str> = FastMap::default();
    for list in lists(cx.policy) {
        // Clearing costs the map's capacity: after a long list, start a fresh map rather
        // than clear thousands of slots for every short list that follows.
        if first_of.capacity() > 256 {
            first_of = FastMap::default();
        } else {
            first_of.clear();
        }
        for item in list {
            let first = *first_of.entry(normalize(&item.value)).or_insert(item);
            if !std::ptr::eq(first, item) {
                let diagnostic = cx
                    .diagnostic(
                        format!("`{}` is listed twice", item.value.trimmed()),
                        item.span,
                    )
                    .with_secondary(first.span, "first listed here")
                    .with_help(
                        "remove the second copy, or replace it with the entry that was meant",
                    );
                cx.push(diagnostic);
            }
        }
    }
}

/// Tags are case-insensitive; everything else compares as written, trimmed.
fn normalize(text: &str) -> Cow<'_, str> {
    let text = text.trimmed();
    let is_tag = text
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("tag:"));
    if is_tag {
        crate::text::ascii_lowercase(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// Every list of strings in the policy.
fn lists(policy: &Policy) -> Vec<&[Str]> {
    fn list(l: &List<Str>) -> &[Str] {
        &l.items
    }
    let mut out: Vec<&[Str]> = Vec::new();
    for rule in crate::text::items(&policy.acls).iter() {
        out.extend_from_slice(&[list(&rule.src), list(&rule.dst), &rule.src_posture]);
    }
    for grant in crate::text::items(&policy.grants).iter() {
        out.extend_from_slice(&[
            list(&grant.src),
            list(&grant.dst),
            &grant.via,
            &grant.src_posture,
        ]);
        if let Some(ip) = &grant.ip {
            out.push(list(ip));
        }
    }
    for rule in &policy.ssh {
        out.extend_from_slice(&[
            list(&rule.src),
            list(&rule.dst),
            &rule.accept_env,
            &rule.src_posture,
        ]);
        if let Some(users) = &rule.users {
            out.push(list(users));
        }
    }
    for section in [
        &policy.groups,
        &policy.tag_owners,
        &policy.ipsets,
        &policy.postures,
        &policy.auto_approvers.routes,
        &policy.auto_approvers.services,
    ] {
        for named in section {
            out.push(list(&named.values));
        }
    }
    out.push(&policy.auto_approvers.exit_node);
    out.push(&policy.default_src_posture);
    for attr in &policy.node_attrs {
        out.extend_from_slice(&[list(&attr.target), &attr.attr, &attr.ip_pool]);
    }
    for test in &policy.tests {
        out.extend_from_slice(&[&test.accept[..], &test.deny]);
    }
    for test in &policy.ssh_tests {
        out.extend_from_slice(&[&test.dst[..], &test.accept, &test.check, &test.deny]);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_second_copies_in_any_list() {
        let text = r#"{
  "groups": {"group:a": ["x@example.com", "y@example.com", "x@example.com"]},
  "tagOwners": {"tag:web": ["group:a"]},
  "acls": [{"action": "accept", "src": ["group:a", " group:a"], "dst": ["tag:web:443", "tag:WEB:443", "tag:web:80"]}],
  "ssh": [{"action": "accept", "src": ["group:a"], "dst": ["tag:web"], "users": ["root", "root"]}],
}"#;
        assert_eq!(
            findings(text, "TP010"),
            [
                "\"x@example.com\"",
                "\" group:a\"",
                "\"tag:WEB:443\"",
                "\"root\""
            ]
        );
    }
}
