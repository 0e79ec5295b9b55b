use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::everyone_source;

declare_rule! {
    /// ### What it does
    /// Flags an SSH rule that lets a broad source (`autogroup:member`, `user:*@domain`, or
    /// a group with more than `broad-group-size` members or holding every user of the
    /// inventory) log in as `root` on tagged devices (tags or `autogroup:tagged`).
    ///
    /// ### Why is this bad
    /// Tagged devices are usually servers. Root on every server for every member means one
    /// phished laptop owns the fleet, and nothing on the servers can tell the members apart.
    ///
    /// ### Example
    /// ```jsonc
    /// "ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:prod"], "users": ["root"]}],
    /// ```
    ///
    /// ### Use instead
    /// Give people an unprivileged login, and root only to a small group, in check mode:
    /// ```jsonc
    /// "ssh": [
    ///   {"action": "accept", "src": ["autogroup:member"], "dst": ["tag:prod"], "users": ["autogroup:nonroot"]},
    ///   {"action": "check", "src": ["group:sre"], "dst": ["tag:prod"], "users": ["root"]},
    /// ],
    /// ```
    code: "TP019",
    name: "ssh-root-from-broad-source",
    category: Security,
    severity: Warning,
    summary: "SSH as root on tagged devices for every member or a broad group",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for rule in &policy.ssh {
        let Some(root) = crate::text::items(&rule.users)
            .iter()
            .find(|u| u.value.trimmed() == "root")
        else {
            continue;
        };
        let Some(dst) = rule.dst.iter().find(|d| {
            matches!(
                Selector::parse(&d.value),
                Selector::Tag(_) | Selector::Autogroup(Autogroup::Tagged)
            )
        }) else {
            continue;
        };
        for source in rule.src.iter() {
            let Some(who) = everyone_source(cx, &Selector::parse(&source.value)) else {
                continue;
            };
            let diagnostic = cx
                .diagnostic(
                    format!("{who} can log in as root on `{}`", dst.value.trimmed()),
                    root.span,
                )
                .with_secondary(source.span, "this source")
                .with_help(
                    "give broad sources `autogroup:nonroot`, and root only to a small group, \
                     preferably with \"action\": \"check\"",
                );
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_root_for_broad_sources_on_tagged_devices() {
        let text = r#"{
  "tagOwners": {"tag:prod": []},
  "groups": {"group:sre": ["a@example.com"]},
  "ssh": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["tag:prod"], "users": ["ubuntu", "root"]},
    {"action": "check", "src": ["group:sre"], "dst": ["tag:prod"], "users": ["root"]},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:tagged"], "users": ["autogroup:nonroot"]},
  ],
}"#;
        assert_eq!(findings(text, "TP019"), ["\"root\""]);
    }
}
