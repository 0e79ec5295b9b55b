use crate::goquote::quote;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{AclRule, List};
use crate::ports::split_destination_and_port;
use crate::selector::{Autogroup, Selector};
use crate::text::Trimmed;

use super::head;

declare_rule! {
    /// ### What it does
    /// Flags an ACL whose destinations all share one port list, so that it can be written
    /// as exactly one grant, and shows that grant.
    ///
    /// ### Why is this bad
    /// ACLs are Tailscale's first-generation rules: still supported, but new features
    /// (`app` capabilities, `via` routing) come only to grants, and the admin console's
    /// visual editor converts ACLs to grants. In a grant the ports are written once, in
    /// `ip`, instead of being repeated after every destination. Nothing is wrong with the
    /// ACL, so this rule is off by default: enable it with
    /// `extend-select = ["acl-expressible-as-grant"]` in `tailpolicy.toml`.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [
    ///   {"action": "accept", "src": ["group:eng"], "proto": "tcp", "dst": ["tag:web:80,443", "tag:api:80,443"]},
    /// ],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "grants": [
    ///   {"src": ["group:eng"], "dst": ["tag:web", "tag:api"], "ip": ["tcp:80", "tcp:443"]},
    /// ],
    /// ```
    code: "TP012",
    name: "acl-expressible-as-grant",
    category: Style,
    severity: Info,
    summary: "an ACL that can be written as a single grant",
    default_enabled: false,
}

fn check(cx: &mut RuleContext<'_>) {
    // Off by default, and the WASM module takes no lint configuration that could turn it on.
    if cfg!(not(feature = "opt-in-lints")) {
        return;
    }
    let policy = cx.policy;
    for rule in policy.acls.iter().flat_map(List::iter) {
        if let Some(grant) = as_grant(rule) {
            let diagnostic = cx
                .diagnostic("this ACL can be written as a grant", head(rule.span))
                .with_help(format!("write it in `grants` as {grant}"));
            cx.push(diagnostic);
        }
    }
}

/// The grant equivalent to an ACL whose destinations share one port list, as HuJSON text.
fn as_grant(rule: &AclRule) -> Option<String> {
    if rule.dst.is_empty() || rule.src.is_empty() {
        return None;
    }
    let mut dsts = Vec::new();
    let mut ports: Option<&str> = None;
    for dst in rule.dst.iter() {
        let (alias, spec) = split_destination_and_port(dst.value.trimmed()).ok()?;
        if ports.is_some_and(|p| p != spec) {
            return None;
        }
        ports = Some(spec);
        // `src: ["*"]` with `autogroup:self` is allowed in an ACL but not in a grant.
        if Selector::parse(&alias) == Selector::Autogroup(Autogroup::SelfDevices)
            && rule.src.iter().any(|s| s.value.trimmed() == "*")
        {
            return None;
        }
        dsts.push(alias.into_owned());
    }
    let ports = ports?;
    let proto = rule.proto.as_ref().map(|p| p.value.trimmed());
    let ip: Vec<String> = match (proto, ports) {
        (None, "*") => vec!["*".to_owned()],
        (Some(proto), "*") => vec![format!("{proto}:*")],
        (None, list) => list.split(',').map(str::to_owned).collect(),
        (Some(proto), list) => list.split(',').map(|p| format!("{proto}:{p}")).collect(),
    };
    let strings =
        |items: &mut dyn Iterator<Item = &str>| items.map(quote).collect::<Vec<_>>().join(", ");
    let src = strings(&mut rule.src.iter().map(|s| s.value.trimmed()));
    let dst = strings(&mut dsts.iter().map(String::as_str));
    let ip = strings(&mut ip.iter().map(String::as_str));
    let mut grant = format!("{{\"src\": [{src}], \"dst\": [{dst}], \"ip\": [{ip}]");
    if !rule.src_posture.is_empty() {
        let postures = strings(&mut rule.src_posture.iter().map(|s| s.value.trimmed()));
        grant.push_str(&format!(", \"srcPosture\": [{postures}]"));
    }
    grant.push('}');
    Some(grant)
}

#[cfg(test)]
mod tests {
    use crate::lint::LintConfig;
    use crate::lint::test_support::lint_with;

    fn helps(text: &str) -> Vec<String> {
        let config = LintConfig::default().with_extend_select(&["TP012"]);
        lint_with(text, &config)
            .into_iter()
            .filter(|d| d.code == "TP012")
            .filter_map(|d| d.help)
            .collect()
    }

    #[test]
    fn suggests_the_equivalent_grant() {
        let text = r#"{
  "tagOwners": {"tag:web": [], "tag:api": []},
  "acls": [
    {"action": "accept", "src": ["*"], "proto": "tcp", "dst": ["tag:web:80,443", "tag:api:80,443"]},
    {"action": "accept", "src": ["*"], "dst": ["tag:web:*", "[fd7a::1]:*"]},
    {"action": "accept", "src": ["*"], "proto": "udp", "dst": ["tag:web:*"]},
  ],
}"#;
        assert_eq!(
            helps(text),
            [
                r#"write it in `grants` as {"src": ["*"], "dst": ["tag:web", "tag:api"], "ip": ["tcp:80", "tcp:443"]}"#,
                r#"write it in `grants` as {"src": ["*"], "dst": ["tag:web", "fd7a::1"], "ip": ["*"]}"#,
                r#"write it in `grants` as {"src": ["*"], "dst": ["tag:web"], "ip": ["udp:*"]}"#,
            ]
        );
    }

    #[test]
    fn skips_mixed_ports_and_self_from_everyone() {
        let text = r#"{
  "tagOwners": {"tag:web": []},
  "acls": [
    {"action": "accept", "src": ["*"], "dst": ["tag:web:80", "tag:web:443"]},
    {"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]},
  ],
}"#;
        assert!(helps(text).is_empty());
    }
}
