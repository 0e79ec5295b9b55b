use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags an SSH rule with `"action": "check"` whose sources include a tag or
    /// `autogroup:tagged`.
    ///
    /// ### Why is this bad
    /// Check mode asks the connecting user to re-authenticate in a browser. A tagged
    /// device has no user, so there is nobody to ask: Tailscale documents that check mode
    /// cannot be used from tagged sources, and the control server has answered such
    /// policies with an internal error. Connections from those sources never succeed.
    ///
    /// ### Example
    /// ```jsonc
    /// "ssh": [{"action": "check", "src": ["group:sre", "tag:bastion"], "dst": ["tag:prod"], "users": ["ubuntu"]}],
    /// ```
    ///
    /// ### Use instead
    /// Split the rule: check for people, accept for the tagged source.
    /// ```jsonc
    /// "ssh": [
    ///   {"action": "check", "src": ["group:sre"], "dst": ["tag:prod"], "users": ["ubuntu"]},
    ///   {"action": "accept", "src": ["tag:bastion"], "dst": ["tag:prod"], "users": ["ubuntu"]},
    /// ],
    /// ```
    code: "TP018",
    name: "ssh-check-from-tag",
    category: Correctness,
    severity: Warning,
    summary: "SSH check mode from a tagged source, which has no user to re-authenticate",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for rule in &policy.ssh {
        let Some(action) = &rule.action else {
            continue;
        };
        if action.value.trimmed() != "check" {
            continue;
        }
        for source in rule.src.iter() {
            let tagged = matches!(
                Selector::parse(&source.value),
                Selector::Tag(_) | Selector::Autogroup(Autogroup::Tagged)
            );
            if tagged {
                let diagnostic = cx
                    .diagnostic(
                        format!(
                            "SSH check mode cannot be used from tagged source `{}`",
                            source.value.trimmed()
                        ),
                        source.span,
                    )
                    .with_secondary(action.span, "check mode")
                    .with_help("tagged devices have no user to re-authenticate; give tagged sources their own rule with \"action\": \"accept\"");
                cx.push(diagnostic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_tagged_sources_of_check_rules() {
        let text = r#"{
  "tagOwners": {"tag:bastion": [], "tag:prod": []},
  "groups": {"group:sre": ["a@example.com"]},
  "ssh": [
    {"action": "check", "src": ["group:sre", "tag:bastion", "autogroup:tagged"], "dst": ["tag:prod"], "users": ["root"]},
    {"action": "accept", "src": ["tag:bastion"], "dst": ["tag:prod"], "users": ["root"]},
  ],
}"#;
        assert_eq!(
            findings(text, "TP018"),
            ["\"tag:bastion\"", "\"autogroup:tagged\""]
        );
    }
}
