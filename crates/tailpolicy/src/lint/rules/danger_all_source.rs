use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::{Autogroup, Selector};

declare_rule! {
    /// ### What it does
    /// Flags every use of `autogroup:danger-all`.
    ///
    /// ### Why is this bad
    /// `autogroup:danger-all` matches every source address, including addresses outside
    /// the tailnet, such as traffic arriving through Funnel or from the internet through a
    /// subnet router. Its name is the warning. `*` already covers every tailnet device and
    /// approved subnet route.
    ///
    /// ### Example
    /// ```jsonc
    /// "grants": [{"src": ["autogroup:danger-all"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "grants": [{"src": ["*"], "dst": ["tag:web"], "ip": ["443"]}],
    /// ```
    code: "TP015",
    name: "danger-all-source",
    category: Security,
    severity: Warning,
    summary: "`autogroup:danger-all`, which matches addresses outside the tailnet",
}

fn check(cx: &mut RuleContext<'_>) {
    for r in cx.references {
        if r.selector == Selector::Autogroup(Autogroup::DangerAll) {
            let diagnostic = cx
                .diagnostic(
                    "`autogroup:danger-all` matches every address, including ones outside the tailnet",
                    r.span,
                )
                .with_help("use `*` for every tailnet device and approved subnet, or name the sources");
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_every_use() {
        let text = r#"{
  "grants": [
    {"src": ["autogroup:danger-all"], "dst": ["*"], "ip": ["443"]},
    {"src": ["*"], "dst": ["*"], "ip": ["80"]},
  ],
}"#;
        assert_eq!(findings(text, "TP015"), ["\"autogroup:danger-all\""]);
    }
}
