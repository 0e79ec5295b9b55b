use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{List, Str};
use crate::ports::split_destination_and_port;
use crate::proto::parse_grant_ip;
use crate::selector::Selector;
use crate::text::Trimmed;

use super::everyone_source;

declare_rule! {
    /// ### What it does
    /// Flags an ACL or grant that lets everyone reach everything: a source of `*`,
    /// `autogroup:member`, `autogroup:danger-all`, `user:*@domain` or a broad group, with a
    /// destination of `*` on every port (`*:*` in an ACL, `"ip": ["*"]` in a grant).
    ///
    /// ### Why is this bad
    /// This is Tailscale's default "allow all" policy. It is fine for a first day, but in a
    /// tailnet with servers it means any member's laptop, or any compromised device, can
    /// reach every port of every server and every subnet behind a router. Least privilege
    /// starts by removing this rule.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["*:*"]}],
    /// ```
    ///
    /// ### Use instead
    /// Grant what each group needs:
    /// ```jsonc
    /// "grants": [
    ///   {"src": ["autogroup:member"], "dst": ["autogroup:self"], "ip": ["*"]},
    ///   {"src": ["group:eng"], "dst": ["tag:web"], "ip": ["tcp:443"]},
    /// ],
    /// ```
    code: "TP016",
    name: "broad-access-rule",
    category: Security,
    severity: Warning,
    summary: "a rule letting everyone reach every port of every device",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for rule in crate::text::items(&policy.acls).iter() {
        let everything = rule.dst.iter().find(|d| {
            split_destination_and_port(d.value.trimmed()).is_ok_and(|(alias, ports)| {
                Selector::parse(&alias) == Selector::Wildcard && super::all_ports(ports)
            })
        });
        report(cx, &rule.src, everything);
    }
    for grant in crate::text::items(&policy.grants).iter() {
        let every_port = crate::text::items(&grant.ip).iter().any(|ip| {
            parse_grant_ip(ip.value.trimmed())
                .is_ok_and(|g| g.ports.iter().any(|r| r.first <= 1 && r.last == u16::MAX))
        });
        let everything = grant
            .dst
            .iter()
            .find(|d| every_port && Selector::parse(&d.value) == Selector::Wildcard);
        report(cx, &grant.src, everything);
    }
}

fn report(cx: &mut RuleContext<'_>, src: &List<Str>, everything: Option<&Str>) {
    let Some(dst) = everything else {
        return;
    };
    for source in src.iter() {
        let Some(who) = everyone_source(cx, &Selector::parse(&source.value)) else {
            continue;
        };
        let diagnostic = cx
            .diagnostic(
                format!("{who} can reach every port of every device"),
                dst.span,
            )
            .with_secondary(source.span, "this source")
            .with_help(
                "grant each group the destinations and ports it needs; keep \
                 `autogroup:member` → `autogroup:self` for people's own devices",
            );
        cx.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_everyone_to_everything() {
        let text = r#"{
  "groups": {"group:admins": ["a@example.com"]},
  "acls": [
    {"action": "accept", "src": ["*"], "dst": ["*:*"]},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["tag:x:*", "*:1-65535"]},
    {"action": "accept", "src": ["group:admins"], "dst": ["*:*"]},
    {"action": "accept", "src": ["*"], "dst": ["*:443"]},
  ],
  "grants": [
    {"src": ["user:*@example.com"], "dst": ["*"], "ip": ["*"]},
    {"src": ["*"], "dst": ["*"], "ip": ["tcp:*"]},
  ],
  "tagOwners": {"tag:x": []},
}"#;
        assert_eq!(
            findings(text, "TP016"),
            ["\"*:*\"", "\"*:1-65535\"", "\"*\"", "\"*\""]
        );
    }
}
