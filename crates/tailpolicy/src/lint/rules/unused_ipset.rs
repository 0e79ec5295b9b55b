use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::Selector;

declare_rule! {
    /// ### What it does
    /// Flags an `ipsets` entry that nothing names: no ACL, grant, or other ipset.
    ///
    /// ### Why is this bad
    /// An IP set is only a name for addresses; unused, it is dead weight that readers still
    /// have to check, and often the sign of a rule that names the wrong set.
    ///
    /// ### Example
    /// ```jsonc
    /// "ipsets": {
    ///   "ipset:office": ["192.0.2.0/24"],
    ///   "ipset:old-office": ["198.51.100.0/24"],
    /// },
    /// "grants": [{"src": ["ipset:office"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "ipsets": {
    ///   "ipset:office": ["192.0.2.0/24"],
    /// },
    /// "grants": [{"src": ["ipset:office"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    code: "TP007",
    name: "unused-ipset",
    category: Suspicious,
    severity: Warning,
    summary: "an IP set that no rule or other IP set names",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    super::report_unused(
        cx,
        "ipset",
        policy.ipsets.iter().map(|set| &set.name),
        |r| match r.selector {
            Selector::IpSet(s) if r.owner != Some(s) => Some(s),
            _ => None,
        },
        "remove it, or name it in a rule",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_sets_nothing_names() {
        let text = r#"{
  "ipsets": {
    "ipset:base": ["10.0.0.0/8"],
    "ipset:rule": ["add ipset:base", "remove 10.1.0.0/16"],
    "ipset:unused": ["10.2.0.0/16"],
  },
  "grants": [{"src": ["ipset:rule"], "dst": ["*"], "ip": ["443"]}],
}"#;
        assert_eq!(findings(text, "TP007"), ["\"ipset:unused\""]);
    }
}
