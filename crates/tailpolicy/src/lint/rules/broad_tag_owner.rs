use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a tag that every tailnet member (`autogroup:member`) or every tagged device
    /// (`autogroup:tagged`) may apply.
    ///
    /// ### Why is this bad
    /// A tag is an identity: whoever can apply it can give a device all the access the tag
    /// has. When any member can apply `tag:prod`, any member can enrol a laptop as a
    /// production server and reach what production servers reach. `autogroup:tagged` as an
    /// owner lets any tagged device, a CI runner included, re-tag itself.
    ///
    /// ### Example
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:prod": ["autogroup:member"],
    /// },
    /// ```
    ///
    /// ### Use instead
    /// Name the people or the team that provisions such devices, or `[]` (admins only):
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:prod": ["group:sre"],
    /// },
    /// ```
    code: "TP002",
    name: "broad-tag-owner",
    category: Security,
    severity: Warning,
    summary: "a tag that every member or every tagged device may apply",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for entry in &policy.tag_owners {
        let tag = entry.name.value.trimmed();
        for owner in entry.values.iter() {
            let who = match Selector::parse(&owner.value) {
                Selector::Autogroup(Autogroup::Member) => "every tailnet member".to_owned(),
                Selector::Autogroup(Autogroup::Tagged) => "every tagged device".to_owned(),
                _ => continue,
            };
            let diagnostic = cx
                .diagnostic(format!("{who} can apply `{tag}`"), owner.span)
                .with_secondary(entry.name.span, "tag defined here")
                .with_help(format!(
                    "whoever applies `{tag}` to a device gives it all of the tag's access; \
                     list the people or team that provision such devices, or `[]` for admins only"
                ));
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_member_and_tagged_owners() {
        let text = r#"{
  "tagOwners": {
    "tag:a": ["autogroup:member"],
    "tag:b": ["alice@example.com"],
    "tag:c": ["autogroup:tagged"],
    "tag:ok": ["group:sre", "autogroup:admin"],
  },
  "groups": {"group:sre": ["alice@example.com"]},
}"#;
        assert_eq!(
            findings(text, "TP002"),
            ["\"autogroup:member\"", "\"autogroup:tagged\""]
        );
    }

    #[test]
    fn passes_narrow_owners() {
        let text = r#"{"tagOwners": {"tag:a": [], "tag:b": ["tag:a", "autogroup:admin"]}}"#;
        assert!(findings(text, "TP002").is_empty());
    }
}
