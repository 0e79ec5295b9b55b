use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;

declare_rule! {
    /// ### What it does
    /// Flags an ACL that uses the legacy field names `users` (for `src`) or `ports` (for
    /// `dst`).
    ///
    /// ### Why is this bad
    /// Tailscale still accepts the old names, but its documentation, its admin console and
    /// every example use `src` and `dst`. Mixed spellings make a policy harder to read and
    /// to search.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [{"action": "accept", "users": ["group:eng"], "ports": ["tag:web:443"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "acls": [{"action": "accept", "src": ["group:eng"], "dst": ["tag:web:443"]}],
    /// ```
    code: "TP011",
    name: "legacy-acl-field",
    category: Style,
    severity: Warning,
    summary: "an ACL using the legacy field names `users` or `ports`",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for rule in crate::text::items(&policy.acls).iter() {
        for &span in &rule.legacy_keys {
            let key = cx
                .lint
                .source
                .get(span.range())
                .unwrap_or_default()
                .trim_matches('"')
                .to_ascii_lowercase();
            let modern = if key == "users" { "src" } else { "dst" };
            let diagnostic = cx
                .diagnostic(format!("`{key}` is the legacy name of `{modern}`"), span)
                .with_help(format!("rename it to `\"{modern}\"`"));
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_users_and_ports() {
        let text = r#"{
  "acls": [
    {"action": "accept", "users": ["*"], "ports": ["*:22"]},
    {"action": "accept", "src": ["*"], "dst": ["*:443"]},
  ],
}"#;
        assert_eq!(findings(text, "TP011"), ["\"users\"", "\"ports\""]);
    }
}
