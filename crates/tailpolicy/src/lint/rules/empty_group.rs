use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a group with no members.
    ///
    /// ### Why is this bad
    /// Tailscale accepts an empty group, and every rule that names it matches nobody. That
    /// is rarely the intent: usually members were removed and the rules forgotten, or the
    /// members live in a synced (SCIM) group with a slightly different name.
    ///
    /// ### Example
    /// ```jsonc
    /// "groups": {
    ///   "group:oncall": [],
    /// },
    /// "grants": [{"src": ["group:oncall"], "dst": ["tag:prod"], "ip": ["22"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "groups": {
    ///   "group:oncall": ["alice@example.com"],
    /// },
    /// "grants": [{"src": ["group:oncall"], "dst": ["tag:prod"], "ip": ["22"]}],
    /// ```
    code: "TP009",
    name: "empty-group",
    category: Suspicious,
    severity: Warning,
    summary: "a group with no members, so every rule naming it matches nobody",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for group in &policy.groups {
        if group.values.is_empty() {
            let name = group.name.value.trimmed();
            let diagnostic = cx
                .diagnostic(format!("group `{name}` has no members"), group.name.span)
                .with_help("rules that name it match nobody; add members, or remove the group and its uses");
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_empty_groups_only() {
        let text = r#"{
  "groups": {"group:empty": [], "group:full": ["a@example.com"]},
  "acls": [{"action": "accept", "src": ["group:empty", "group:full"], "dst": ["*:*"]}],
}"#;
        assert_eq!(findings(text, "TP009"), ["\"group:empty\""]);
    }
}
