use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::Selector;
use crate::text::Trimmed;

use super::broad_group;

declare_rule! {
    /// ### What it does
    /// Flags a CI-runner tag (by default a tag whose name looks like `tag:ci`,
    /// `tag:*-ci`, `tag:*runner*` or `tag:*depot*`; see `ci-tag-patterns`) owned by a broad
    /// group: one with more than `broad-group-size` members (10 by default) or, with an
    /// inventory, one that holds every user.
    ///
    /// ### Why is this bad
    /// CI runners usually get access people do not: deploy targets, databases, package
    /// registries. Anyone who can apply the runner tag can enrol their own machine as a
    /// "runner" and inherit that access. Runners normally join through an OAuth client or
    /// auth key bound to the tag, so people rarely need to apply it themselves.
    ///
    /// ### Example
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:depot-runner": ["group:engineering"],
    /// },
    /// ```
    ///
    /// ### Use instead
    /// Let only the team that manages the CI integration (or only admins) own the tag:
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:depot-runner": ["group:platform-team"],
    /// },
    /// ```
    code: "TP003",
    name: "ci-tag-broad-owner",
    category: Security,
    severity: Warning,
    summary: "a CI-runner tag that a broad group may apply",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for entry in &policy.tag_owners {
        let tag = entry.name.value.trimmed();
        if !cx.config().is_ci_tag(tag) {
            continue;
        }
        for owner in entry.values.iter() {
            let Selector::Group(group) = Selector::parse(&owner.value) else {
                continue;
            };
            let Some(why) = broad_group(cx, group) else {
                continue;
            };
            let diagnostic = cx
                .diagnostic(
                    format!("CI tag `{tag}` can be applied by `{group}`, {why}"),
                    owner.span,
                )
                .with_secondary(entry.name.span, "CI-runner tag")
                .with_help(
                    "anyone who can apply the tag can enrol a machine as a runner and get the \
                     runners' access; let a small team or only admins (`[]`) own it, and mint \
                     runner keys from an OAuth client bound to the tag",
                );
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::LintConfig;
    use crate::lint::test_support::{findings, lint_with};

    const POLICY: &str = r#"{
  "groups": {
    "group:small": ["a@example.com"],
    "group:big": ["a@example.com", "b@example.com", "c@example.com"],
  },
  "tagOwners": {
    "tag:ci": ["group:big", "group:small"],
    "tag:web": ["group:big"],
  },
  "acls": [{"action": "accept", "src": ["group:big", "group:small"], "dst": ["tag:web:443", "tag:ci:22"]}],
}"#;

    #[test]
    fn flags_ci_tags_owned_by_groups_larger_than_configured() {
        let mut config = LintConfig::default();
        config.broad_group_size = 2;
        let found: Vec<&str> = lint_with(POLICY, &config)
            .iter()
            .filter(|d| d.code == "TP003")
            .map(|d| POLICY.get(d.primary_span().range()).unwrap())
            .collect();
        assert_eq!(found, ["\"group:big\""]);
    }

    #[test]
    fn small_groups_pass_by_default() {
        assert!(findings(POLICY, "TP003").is_empty());
    }
}
