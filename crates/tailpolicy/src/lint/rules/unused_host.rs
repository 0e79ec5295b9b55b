use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::Selector;

declare_rule! {
    /// ### What it does
    /// Flags a `hosts` alias that nothing names: no ACL or grant, ipset (`host:name`) or
    /// test.
    ///
    /// ### Why is this bad
    /// Host aliases exist to be used in rules. An unused one is a leftover, or a sign that a
    /// rule spells the address out instead of using the alias, so the two can drift apart.
    ///
    /// ### Example
    /// ```jsonc
    /// "hosts": {
    ///   "db": "100.101.102.103",
    ///   "old-db": "100.101.102.104",
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["db"], "ip": ["5432"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "hosts": {
    ///   "db": "100.101.102.103",
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["db"], "ip": ["5432"]}],
    /// ```
    code: "TP006",
    name: "unused-host",
    category: Suspicious,
    severity: Warning,
    summary: "a host alias that no rule, ipset or test names",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    super::report_unused(
        cx,
        "host",
        policy.hosts.iter().map(|host| &host.name),
        |r| match r.selector {
            Selector::Host(h) | Selector::HostRef(h) => Some(h),
            _ => None,
        },
        "remove it, or name it in a rule",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_hosts_nothing_names() {
        let text = r#"{
  "hosts": {"rule": "10.0.0.1", "ipset": "10.0.0.2", "test": "10.0.0.3", "unused": "10.0.0.4"},
  "ipsets": {"ipset:s": ["host:ipset"]},
  "acls": [{"action": "accept", "src": ["ipset:s"], "dst": ["rule:22"]}],
  "tests": [{"src": "a@example.com", "deny": ["test:22"]}],
}"#;
        assert_eq!(findings(text, "TP006"), ["\"unused\""]);
    }
}
