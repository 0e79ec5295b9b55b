use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::lint::visit::Place;

declare_rule! {
    /// ### What it does
    /// Flags a posture defined in `postures` that no `srcPosture` or `defaultSrcPosture`
    /// names.
    ///
    /// ### Why is this bad
    /// A posture only restricts access where a rule names it. An unused posture looks like
    /// a device requirement that is enforced, while no connection ever checks it.
    ///
    /// ### Example
    /// ```jsonc
    /// "postures": {
    ///   "posture:latest-mac": ["node:os == 'macos'", "node:tsReleaseTrack == 'stable'"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:prod"], "ip": ["22"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "postures": {
    ///   "posture:latest-mac": ["node:os == 'macos'", "node:tsReleaseTrack == 'stable'"],
    /// },
    /// "grants": [{"src": ["group:eng"], "dst": ["tag:prod"], "ip": ["22"], "srcPosture": ["posture:latest-mac"]}],
    /// ```
    code: "TP008",
    name: "unused-posture",
    category: Suspicious,
    severity: Warning,
    summary: "a device posture that no rule or `defaultSrcPosture` names",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    super::report_unused(
        cx,
        "posture",
        policy.postures.iter().map(|posture| &posture.name),
        |r| (r.place == Place::Posture).then_some(r.text),
        "name it in a rule's `srcPosture` or in `defaultSrcPosture`, or remove it",
    );
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_postures_nothing_names() {
        let text = r#"{
  "postures": {
    "posture:rule": ["node:os == 'linux'"],
    "posture:default": ["node:os == 'linux'"],
    "posture:unused": ["node:os == 'linux'"],
  },
  "defaultSrcPosture": ["posture:default"],
  "grants": [{"src": ["*"], "dst": ["*"], "ip": ["443"], "srcPosture": ["posture:rule"]}],
}"#;
        assert_eq!(findings(text, "TP008"), ["\"posture:unused\""]);
    }
}
