use crate::lint::registry::declare_rule;

declare_rule! {
    /// ### What it does
    /// Flags a rule named in a `tailpolicy-ignore` comment that has no finding to hide on
    /// the line the comment applies to. Rules turned off in the configuration are not
    /// reported.
    ///
    /// ### Why is this bad
    /// The finding it was written for is gone, or the comment sits on the wrong line. Either
    /// way it would silently hide a new finding on that line later.
    ///
    /// ### Example
    /// ```jsonc
    /// "groups": {
    ///   // tailpolicy-ignore TP009: filled later
    ///   "group:oncall": ["alice@example.com"],
    /// },
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "groups": {
    ///   "group:oncall": ["alice@example.com"],
    /// },
    /// ```
    code: "TP001",
    name: "unused-suppression",
    category: Suspicious,
    severity: Info,
    summary: "a suppression comment that hides no finding",
    check: none,
}
