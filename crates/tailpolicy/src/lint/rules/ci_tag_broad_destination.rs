use crate::text::Trimmed;
use ipnet::IpNet;

use crate::addr::{CGNAT_V4, TAILNET_V6};
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::{List, Str};
use crate::ports::split_destination_and_port;
use crate::selector::{Autogroup, Selector};

declare_rule! {
    /// ### What it does
    /// Flags an ACL or grant that gives a CI-runner tag (by default a tag whose name looks
    /// like `tag:ci`, `tag:*-ci`, `tag:*runner*` or `tag:*depot*`; see `ci-tag-patterns`)
    /// a destination of `*`, `autogroup:internet`, or a prefix covering the whole tailnet
    /// (`100.64.0.0/10`, `fd7a:115c:a1e0::/48`), on any port.
    ///
    /// ### Why is this bad
    /// CI runners execute code from pull requests and third-party actions. A runner that
    /// can reach every device turns one malicious dependency into access to the whole
    /// tailnet; one that can use exit nodes can send anything anywhere from your address.
    /// Runners should reach only what the pipeline needs: a registry, a database for tests,
    /// a deploy target.
    ///
    /// ### Example
    /// ```jsonc
    /// "acls": [{"action": "accept", "src": ["tag:depot-runner"], "dst": ["*:*"]}],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "grants": [{"src": ["tag:depot-runner"], "dst": ["tag:database"], "ip": ["tcp:5432"]}],
    /// ```
    code: "TP017",
    name: "ci-tag-broad-destination",
    category: Security,
    severity: Warning,
    summary: "a CI-runner tag allowed to reach every device or the internet",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    for rule in crate::text::items(&policy.acls).iter() {
        if !rule.src.iter().any(|s| ci_tag(cx, s).is_some()) {
            continue;
        }
        let mut dsts: Vec<(String, &Str)> = Vec::with_capacity(rule.dst.items.len());
        for d in rule.dst.iter() {
            if let Ok((alias, _)) = split_destination_and_port(d.value.trimmed()) {
                dsts.push((alias.into_owned(), d));
            }
        }
        report(cx, &rule.src, &dsts);
    }
    for grant in crate::text::items(&policy.grants).iter() {
        if !grant.src.iter().any(|s| ci_tag(cx, s).is_some()) {
            continue;
        }
        let mut dsts: Vec<(String, &Str)> = Vec::with_capacity(grant.dst.items.len());
        for d in grant.dst.iter() {
            dsts.push((d.value.trimmed().to_owned(), d));
        }
        report(cx, &grant.src, &dsts);
    }
}

/// How to describe a destination that reaches everything, or `None`.
fn everywhere(alias: &str) -> Option<&'static str> {
    match Selector::parse(alias) {
        Selector::Wildcard => Some("every device"),
        Selector::Autogroup(Autogroup::Internet) => Some("the internet through exit nodes"),
        Selector::Prefix(net) => {
            let tailnet_v4 = IpNet::V4(CGNAT_V4);
            let tailnet_v6 = IpNet::V6(TAILNET_V6);
            (net.contains(&tailnet_v4) || net.contains(&tailnet_v6)).then_some("every device")
        }
        _ => None,
    }
}

/// The tag `source` names, when it is a CI-runner tag.
fn ci_tag<'s>(cx: &RuleContext<'_>, source: &'s Str) -> Option<&'s str> {
    match Selector::parse(&source.value) {
        Selector::Tag(tag) if cx.config().is_ci_tag(tag) => Some(tag),
        _ => None,
    }
}

fn report(cx: &mut RuleContext<'_>, src: &List<Str>, dsts: &[(String, &Str)]) {
    // Classified once, so a rule costs its sources plus its destinations plus its findings.
    let mut classified: Vec<(&str, &Str)> = Vec::new();
    for (alias, dst) in dsts {
        if let Some(what) = everywhere(alias) {
            classified.push((what, *dst));
        }
    }
    let dsts = classified;
    if dsts.is_empty() {
        return;
    }
    for source in src.iter() {
        let Some(tag) = ci_tag(cx, source) else {
            continue;
        };
        for &(what, dst) in &dsts {
            let diagnostic = cx
                .diagnostic(format!("CI-runner tag `{tag}` can reach {what}"), dst.span)
                .with_secondary(source.span, "CI-runner tag")
                .with_help(
                    "runners run untrusted code; grant them only the hosts and ports the \
                     pipeline needs",
                );
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_runner_tags_reaching_everything() {
        let text = r#"{
  "tagOwners": {"tag:ci": [], "tag:depot-runner": [], "tag:web": [], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["tag:ci"], "dst": ["*:443", "tag:db:5432"]},
    {"action": "accept", "src": ["tag:web"], "dst": ["*:*"]},
    {"action": "accept", "src": ["tag:depot-runner"], "dst": ["100.64.0.0/10:22", "100.64.0.0/16:22"]},
  ],
  "grants": [
    {"src": ["tag:depot-runner"], "dst": ["autogroup:internet"], "ip": ["*"]},
    {"src": ["tag:depot-runner"], "dst": ["tag:db"], "ip": ["5432"]},
  ],
}"#;
        assert_eq!(
            findings(text, "TP017"),
            [
                "\"*:443\"",
                "\"100.64.0.0/10:22\"",
                "\"autogroup:internet\""
            ]
        );
    }
}
