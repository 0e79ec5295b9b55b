use crate::lint::registry::declare_rule;

declare_rule! {
    /// ### What it does
    /// Flags a `tailpolicy-ignore` comment that gives no reason, names no rule, or names a
    /// rule that does not exist.
    ///
    /// ### Why is this bad
    /// A suppression hides a finding from everyone who reads the policy after you. Without
    /// a reason, nobody can tell whether the finding was judged harmless or just silenced,
    /// and a misspelt rule suppresses nothing at all. The suppression still applies to the
    /// rules it names correctly.
    ///
    /// ### Example
    /// ```jsonc
    /// "groups": {
    ///   // tailpolicy-ignore TP009
    ///   "group:oncall": [],
    /// },
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "groups": {
    ///   // tailpolicy-ignore TP009: filled by the on-call rotation bot
    ///   "group:oncall": [],
    /// },
    /// ```
    code: "TP000",
    name: "invalid-suppression",
    category: Style,
    severity: Warning,
    summary: "a suppression comment without a reason, or naming no or an unknown rule",
    check: none,
}
