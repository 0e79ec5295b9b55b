use crate::fasthash::FastMap;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::model::Str;
use crate::selector::parse_prefix;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags an `ipPool` that an earlier `nodeAttrs` entry already gives to different
    /// targets (the same prefix, however written).
    ///
    /// ### Why is this bad
    /// An `ipPool` sets the range of the CGNAT space (`100.64.0.0/10`) from which the devices
    /// an entry targets get their Tailscale addresses, so that a team or a kind of device
    /// can be told apart, and kept clear of other systems, by address. Two targets given the
    /// same pool cannot be told apart by address: usually one pool was copied and not
    /// changed. If both targets are meant to share the pool, one entry listing both says
    /// so plainly.
    ///
    /// ### Example
    /// ```jsonc
    /// "nodeAttrs": [
    ///   {"target": ["group:eng"], "ipPool": ["100.81.0.0/16"]},
    ///   {"target": ["group:sales"], "ipPool": ["100.81.0.0/16"]},
    /// ],
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "nodeAttrs": [
    ///   {"target": ["group:eng"], "ipPool": ["100.81.0.0/16"]},
    ///   {"target": ["group:sales"], "ipPool": ["100.82.0.0/16"]},
    /// ],
    /// ```
    code: "TP024",
    name: "shared-ip-pool",
    category: Suspicious,
    severity: Warning,
    summary: "the same `ipPool` given to different `nodeAttrs` targets",
}

fn check(cx: &mut RuleContext<'_>) {
    // Per pool (the network, host bits cleared): the first entry, its targets and the pool.
    let mut first_of: FastMap<ipnet::IpNet, (usize, Vec<String>, &Str)> = FastMap::default();
    for (index, entry) in cx.policy.node_attrs.iter().enumerate() {
        if entry.ip_pool.is_empty() {
            continue;
        }
        let mut targets: Vec<String> = Vec::with_capacity(entry.target.items.len());
        for t in entry.target.iter() {
            targets.push(t.value.trimmed().to_ascii_lowercase());
        }
        targets.sort_unstable();
        targets.dedup();
        for pool in &entry.ip_pool {
            let Some(net) = parse_prefix(pool.value.trimmed()).map(|n| n.trunc()) else {
                continue;
            };
            let Some((first, others, first_pool)) = first_of.get(&net) else {
                first_of.insert(net, (index, targets.clone(), pool));
                continue;
            };
            if *first == index || *others == targets {
                continue;
            }
            let diagnostic = cx
                .diagnostic(
                    format!(
                        "`{}` is already the `ipPool` of `nodeAttrs[{first}]`, whose targets differ",
                        pool.value.trimmed()
                    ),
                    pool.span,
                )
                .with_secondary(first_pool.span, "first given here")
                .with_help(
                    "give each target its own pool, or list the targets that share it in one entry",
                );
            cx.push(diagnostic);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_one_pool_for_different_targets() {
        let text = r#"{
  "groups": {"group:eng": ["alice@example.com"], "group:sales": ["bob@example.com"]},
  "nodeAttrs": [
    {"target": ["group:eng"], "ipPool": ["100.81.0.0/16"]},
    {"target": ["group:sales"], "ipPool": ["100.82.0.0/16", "100.81.0.0/16"]},
    {"target": ["group:eng"], "attr": ["funnel"], "ipPool": ["100.81.0.0/16"]},
    {"target": ["group:sales"], "ipPool": ["100.82.0.0/16"]},
    {"target": ["autogroup:admin"], "ipPool": ["100.83.0.0/16"]},
  ],
}"#;
        assert_eq!(findings(text, "TP024"), ["\"100.81.0.0/16\""]);
    }
}
