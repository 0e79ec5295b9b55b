use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::lint::visit::Place;
use crate::selector::{Selector, parse_prefix};
use crate::span::Span;
use crate::text::Trimmed;

declare_rule! {
    /// ### What it does
    /// Flags a CIDR prefix whose address has bits set beyond the prefix length, such as
    /// `10.1.2.3/8`, in `hosts`, `ipsets`, rule sources and destinations, node-attribute
    /// targets, `ipPool` and `autoApprovers.routes`.
    ///
    /// ### Why is this bad
    /// The extra bits are ignored: `10.1.2.3/8` means all of `10.0.0.0/8`. The writer
    /// almost always meant either one host (`10.1.2.3`) or the network, and the difference
    /// is sixteen million addresses.
    ///
    /// ### Example
    /// ```jsonc
    /// "hosts": {
    ///   "build-server": "10.1.2.3/8",
    /// },
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "hosts": {
    ///   "build-server": "10.1.2.3",
    /// },
    /// ```
    code: "TP013",
    name: "host-bits-set",
    category: Correctness,
    severity: Warning,
    summary: "a CIDR prefix with host bits set, which means the whole network",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let mut prefixes: Vec<(&str, Span)> = Vec::new();
    for host in &policy.hosts {
        prefixes.push((host.value.value.trimmed(), host.value.span));
    }
    for route in &policy.auto_approvers.routes {
        prefixes.push((route.name.value.trimmed(), route.name.span));
    }
    for attr in &policy.node_attrs {
        for pool in &attr.ip_pool {
            prefixes.push((pool.value.trimmed(), pool.span));
        }
    }
    for r in cx.references {
        let checked = matches!(
            r.place,
            Place::AclSrc
                | Place::AclDst
                | Place::GrantSrc
                | Place::GrantDst
                | Place::IpsetEntry
                | Place::NodeAttrTarget
        );
        if checked && matches!(r.selector, Selector::Prefix(_)) {
            prefixes.push((r.text, r.span));
        }
    }
    for (text, span) in prefixes {
        if !text.contains('/') {
            continue;
        }
        let Some(net) = parse_prefix(text) else {
            continue;
        };
        let network = net.trunc();
        if network.addr() == net.addr() {
            continue;
        }
        let host = net.addr();
        let diagnostic = cx
            .diagnostic(
                format!("`{text}` has host bits set, so it means all of `{network}`"),
                span,
            )
            .with_help(format!(
                "write `{host}` for the one address, or `{network}` for the network"
            ));
        cx.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn flags_prefixes_with_host_bits() {
        let text = r#"{
  "hosts": {"a": "10.1.2.3/8", "b": "10.0.0.0/8", "c": "10.1.2.3", "d": "fd7a::1/64"},
  "ipsets": {"ipset:s": ["192.168.1.1/24"]},
  "autoApprovers": {"routes": {"172.16.5.0/12": ["autogroup:admin"]}},
  "acls": [{"action": "accept", "src": ["ipset:s", "100.64.1.1/10"], "dst": ["a:22", "b:22", "c:22", "d:22", "192.0.2.1/24:443"]}],
}"#;
        assert_eq!(
            findings(text, "TP013"),
            [
                "\"10.1.2.3/8\"",
                "\"fd7a::1/64\"",
                "\"192.168.1.1/24\"",
                "\"172.16.5.0/12\"",
                "\"100.64.1.1/10\"",
                "\"192.0.2.1/24:443\"",
            ]
        );
    }
}
