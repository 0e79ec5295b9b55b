use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::lint::visit::Place;
use crate::selector::{Selector, tag_eq};
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a tag defined in `tagOwners` that nothing else names: no ACL, grant, SSH rule
    /// or its session `recorder`, `via`, other tag's owners, auto approver (or
    /// `autoApprovers.services` key), node attribute, app connector, `attrConfig`
    /// `broadcastToPeers`, Kubernetes-capability `recorder` or test. A tag owning itself
    /// does not count.
    ///
    /// ### Why is this bad
    /// Tagging a device replaces its user's identity with the tag's. A tag no rule names
    /// gives its devices only what `*` and `autogroup:tagged` rules give, which is rarely
    /// what was meant; more often the tag is a leftover or a typo of the one the rules use.
    /// This is an info because some tags exist only to turn off key expiry.
    ///
    /// ### Example
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:web": ["group:sre"],
    ///   "tag:webserver": ["group:sre"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "tagOwners": {
    ///   "tag:web": ["group:sre"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    code: "TP005",
    name: "unused-tag",
    category: Suspicious,
    severity: Info,
    summary: "a tag that no rule, owner, approver or test names",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    // Tags used outside their own `tagOwners` entry, lowercased, collected once.
    let mut used_names: crate::fasthash::FastSet<String> = crate::fasthash::FastSet::default();
    for r in cx.references {
        // Only a tag's own `tagOwners` entry does not count; a `services` approver under a
        // tag key of the same name (`"tag:k8s": ["tag:k8s"]`) does.
        if let Selector::Tag(t) = r.selector
            && !(r.place == Place::TagOwner && r.owner.is_some_and(|o| tag_eq(o, t)))
        {
            used_names.insert(t.trimmed().to_ascii_lowercase());
        }
    }
    for entry in &policy.tag_owners {
        let name = entry.name.value.trimmed();
        let used = used_names.contains(&name.to_ascii_lowercase());
        if used {
            continue;
        }
        let carried = cx.inventory().map(|inventory| {
            inventory
                .nodes
                .iter()
                .any(|node| node.tags.iter().any(|t| tag_eq(t.trimmed(), name)))
        });
        let help = match carried {
            Some(false) => "no rule names it and no node in the inventory carries it; remove it",
            _ => {
                "its devices get only what `*` and `autogroup:tagged` rules give; name it in a rule, or remove it"
            }
        };
        let diagnostic = cx
            .diagnostic(format!("tag `{name}` is never used"), entry.name.span)
            .with_help(help);
        cx.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_tags_nothing_else_names() {
        let text = r#"{
  "tagOwners": {
    "tag:rule": [],
    "tag:owner": [],
    "tag:owned": ["tag:owner"],
    "tag:self": ["tag:self"],
    "tag:via": [],
    "tag:test": [],
  },
  "grants": [{"src": ["tag:Rule"], "dst": ["tag:owned"], "ip": ["*"], "via": ["tag:via"]}],
  "sshTests": [{"src": "a@example.com", "dst": ["tag:test"], "accept": ["root"]}],
}"#;
        assert_eq!(findings(text, "TP005"), ["\"tag:self\""]);
    }

    #[test]
    fn counts_recorders_connectors_services_and_attribute_peers() {
        let text = r#"{
  "tagOwners": {
    "tag:server": [],
    "tag:recorder": [],
    "tag:connector": [],
    "tag:k8s": [],
    "tag:svc-host": [],
    "tag:admin-view": [],
    "tag:k8s-recorder": [],
    "tag:k8s-rec2": [],
    "tag:idle": [],
  },
  "ssh": [{"action": "accept", "src": ["autogroup:admin"], "dst": ["tag:server"],
           "users": ["root"], "recorder": ["tag:recorder"], "enforceRecorder": true}],
  "autoApprovers": {"services": {"tag:k8s": ["tag:k8s"], "svc:web": ["tag:svc-host"]}},
  "nodeAttrs": [{"target": ["*"], "app": {"tailscale.com/app-connectors": [
    {"name": "github", "connectors": ["tag:connector"], "domains": ["github.com"]}]}}],
  "attrConfig": {"custom:team": {"type": "string", "broadcastToPeers": ["tag:admin-view"]}},
  "grants": [{"src": ["autogroup:admin"], "dst": ["tag:server"], "app": {
    "tailscale.com/cap/kubernetes": [{"recorder": ["tag:k8s-recorder"]}, {"recorders": ["tag:k8s-rec2"]}]}}],
}"#;
        assert_eq!(findings(text, "TP005"), ["\"tag:idle\""]);
    }
}
