use crate::text::Trimmed;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::addr::IpSet;
use crate::lint::RuleContext;
use crate::lint::registry::declare_rule;
use crate::selector::Selector;

declare_rule! {
    /// ### What it does
    /// Flags a `hosts` alias whose address or prefix reaches into public address space:
    /// anything outside private networks (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`),
    /// the tailnet's ranges (`100.64/10`, `fd7a:115c:a1e0::/48`), and other special-use
    /// ranges (loopback, link-local, documentation, benchmarking, multicast).
    ///
    /// ### Why is this bad
    /// Host aliases normally name tailnet devices or networks behind subnet routers. A
    /// public address usually means a typo (`10.0.0.1` written `100.0.0.1`), or a
    /// destination that only an exit node or a subnet router advertising public routes can
    /// carry, which deserves a second look and a comment.
    ///
    /// ### Example
    /// ```jsonc
    /// "hosts": {
    ///   "db": "100.0.1.5",
    /// },
    /// ```
    ///
    /// ### Use instead
    /// ```jsonc
    /// "hosts": {
    ///   "db": "100.100.1.5",
    /// },
    /// ```
    /// When a public destination is intended, say why:
    /// ```jsonc
    /// "hosts": {
    ///   // tailpolicy-ignore TP014: vendor API, reached through the exit node
    ///   "vendor-api": "203.0.113.10",
    /// },
    /// ```
    code: "TP014",
    name: "public-host-address",
    category: Suspicious,
    severity: Warning,
    summary: "a host alias pointing at public address space",
}

fn check(cx: &mut RuleContext<'_>) {
    let policy = cx.policy;
    let special = non_public();
    for host in &policy.hosts {
        let text = host.value.value.trimmed();
        let Selector::Prefix(net) = Selector::parse(text) else {
            continue;
        };
        if special.contains_net(&net.trunc()) {
            continue;
        }
        let name = host.name.value.trimmed();
        let diagnostic = cx
            .diagnostic(
                format!("host `{name}` points at public address space (`{text}`)"),
                host.value.span,
            )
            .with_help(
                "tailnet devices have addresses in 100.64.0.0/10 or fd7a:115c:a1e0::/48; if a \
                 public destination is intended, say why in a suppression comment",
            );
        cx.push(diagnostic);
    }
}

/// Private, tailnet and other special-use ranges (RFC 6890 and successors).
fn non_public() -> IpSet {
    const V4: &[(Ipv4Addr, u8)] = &[
        (Ipv4Addr::new(0, 0, 0, 0), 8),
        (Ipv4Addr::new(10, 0, 0, 0), 8),
        (Ipv4Addr::new(100, 64, 0, 0), 10),
        (Ipv4Addr::new(127, 0, 0, 0), 8),
        (Ipv4Addr::new(169, 254, 0, 0), 16),
        (Ipv4Addr::new(172, 16, 0, 0), 12),
        (Ipv4Addr::new(192, 0, 0, 0), 24),
        (Ipv4Addr::new(192, 0, 2, 0), 24),
        (Ipv4Addr::new(192, 168, 0, 0), 16),
        (Ipv4Addr::new(198, 18, 0, 0), 15),
        (Ipv4Addr::new(198, 51, 100, 0), 24),
        (Ipv4Addr::new(203, 0, 113, 0), 24),
        (Ipv4Addr::new(224, 0, 0, 0), 3),
    ];
    const V6: &[(Ipv6Addr, u8)] = &[
        (Ipv6Addr::UNSPECIFIED, 128),
        (Ipv6Addr::LOCALHOST, 128),
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
        (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
        (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
        (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
    ];
    let mut set = IpSet::default();
    let v4 = V4.iter().map(|(a, l)| (IpAddr::V4(*a), *l));
    let v6 = V6.iter().map(|(a, l)| (IpAddr::V6(*a), *l));
    for (addr, len) in v4.chain(v6) {
        if let Ok(net) = IpNet::new(addr, len) {
            set.insert_net(&net);
        }
    }
    set
}

/// True when `text` parses as an address or prefix entirely outside public space.
#[cfg(test)]
fn is_special(text: &str) -> bool {
    crate::selector::parse_prefix(text).is_some_and(|n| non_public().contains_net(&n.trunc()))
}

#[cfg(test)]
mod tests {
    use crate::lint::test_support::findings;

    #[test]
    fn special_ranges() {
        for special in [
            "10.1.2.3",
            "100.101.102.103",
            "fd7a:115c:a1e0::1",
            "192.0.2.0/24",
            "fe80::1",
        ] {
            assert!(super::is_special(special), "{special}");
        }
        for public in ["100.0.1.5", "8.8.8.8", "2600::1", "0.0.0.0/0", "10.0.0.0/7"] {
            assert!(!super::is_special(public), "{public}");
        }
    }

    #[test]
    fn flags_public_hosts() {
        let text = r#"{
  "hosts": {"typo": "100.0.1.5", "lan": "192.168.1.0/24", "node": "100.101.102.103", "v6": "2600::1"},
  "acls": [{"action": "accept", "src": ["*"], "dst": ["typo:22", "lan:22", "node:22", "v6:22"]}],
}"#;
        assert_eq!(findings(text, "TP014"), ["\"100.0.1.5\"", "\"2600::1\""]);
    }
}
