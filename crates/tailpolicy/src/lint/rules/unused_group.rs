use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::Selector;

declare_rule! {
    /// ### What it does
    /// Flags a group defined in `groups` that nothing names: no ACL, grant or SSH rule, tag
    /// owner, auto approver, node attribute or test.
    ///
    /// ### Why is this bad
    /// An unused group is usually a leftover from a removed rule, or a sign that a rule
    /// names the wrong group (a typo of a synced group, say). Its members keep looking
    /// privileged to anyone reading the policy while it grants nothing.
    ///
    /// ### Example
    /// ```jsonc
    /// "groups": {
    ///   "group:eng": ["alice@example.com"],
    ///   "group:contractors": ["bob@example.com"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    ///
    /// ### Use instead
    /// Remove the group, or name it where it was meant to be used:
    /// ```jsonc
    /// "groups": {
    ///   "group:eng": ["alice@example.com"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    code: "TP004",
    name: "unused-group",
    category: Suspicious,
    severity: Warning,
    summary: "a group that no rule, owner, approver or test names",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    super::report_unused(
        cx,
        "group",
        policy.groups.iter().map(|group| &group.name),
        |r| match r.selector {
            // A group's own members do not use it.
            Selector::Group(g) if r.owner != Some(g) => Some(g),
            _ => None,
        },
        "remove it, or name it in a rule",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_groups_nothing_names() {
        let text = r#"{
  "groups": {
    "group:rules": ["a@example.com"],
    "group:owners": ["a@example.com"],
    "group:approvers": ["a@example.com"],
    "group:ssh": ["a@example.com"],
    "group:unused": ["a@example.com"],
  },
  "tagOwners": {"tag:t": ["group:owners"]},
  "autoApprovers": {"routes": {"10.0.0.0/8": ["group:approvers"]}},
  "acls": [{"action": "accept", "src": ["group:rules"], "dst": ["tag:t:*"]}],
  "ssh": [{"action": "accept", "src": ["group:ssh"], "dst": ["tag:t"], "users": ["root"]}],
}"#;
        assert_eq!(findings(text, "TP004"), ["\"group:unused\""]);
    }
}
