//! The worst inputs found for the lints (issue 14): long port lists in one destination,
//! many overlapping port ranges and CIDRs, thousands of rules on one destination, and
//! thousands of `nodeAttrs` entries. Every lint must stay linear or n log n on them.

use std::fmt::Write as _;

/// A valid policy with `n` ports in one destination and `n` overlapping port ranges in one
/// grant, `rules` ACLs on one destination, and `rules / 10` tags, users, hosts, routes and
/// overlapping CIDR rules, `rules / 2` `nodeAttrs` entries.
pub fn generate_lint_worst_case(n: usize, rules: usize) -> String {
    let n = n.max(2);
    let rules = rules.max(10);
    let mut out = String::from("{\n  \"tagOwners\": {\n");
    for i in 0..rules / 10 {
        let _ = writeln!(out, "    \"tag:ci-{i}\": [],");
    }
    out.push_str("    \"tag:db\": [], \"tag:web\": [], \"tag:router\": [],\n  },\n");
    out.push_str("  \"groups\": {\n    \"group:eng\": [");
    for i in 0..rules / 10 {
        let _ = write!(out, "\"user{i}@example.com\", ");
    }
    out.push_str("],\n  },\n  \"hosts\": {\n");
    for i in 0..rules / 10 {
        let _ = writeln!(
            out,
            "    \"net-{i}\": \"10.{}.{}.0/24\",",
            i / 256 % 256,
            i % 256
        );
    }
    out.push_str("  },\n  \"autoApprovers\": {\"routes\": {\n");
    for i in 0..rules / 10 {
        let _ = writeln!(
            out,
            "    \"10.{}.{}.0/24\": [\"tag:router\"],",
            i / 256 % 256,
            i % 256
        );
    }
    out.push_str("  }},\n  \"acls\": [\n");
    // One destination with `n` separate ports.
    out.push_str("    {\"action\": \"accept\", \"src\": [\"tag:web\"], \"dst\": [\"tag:db:");
    for i in 0..n {
        let _ = write!(
            out,
            "{}{}",
            if i == 0 { "" } else { "," },
            1 + 2 * (i % 30_000)
        );
    }
    out.push_str("\"]},\n");
    // Thousands of rules on one destination: per-tag rules, duplicates, ports split apart.
    for i in 0..rules {
        let src = match i % 4 {
            0 => "autogroup:tagged".to_owned(),
            1 => format!("tag:ci-{}", i % (rules / 10).max(1)),
            2 => "group:eng".to_owned(),
            _ => format!("user{}@example.com", i % (rules / 10).max(1)),
        };
        let _ = writeln!(
            out,
            "    {{\"action\": \"accept\", \"src\": [\"{src}\"], \"dst\": [\"tag:db:{}\"]}},",
            1 + i % 1000
        );
    }
    // Overlapping CIDR destinations.
    for i in 0..rules / 10 {
        let _ = writeln!(
            out,
            "    {{\"action\": \"accept\", \"src\": [\"tag:web\"], \"dst\": [\"10.{}.0.0/{}:22\", \"net-{i}:443\"]}},",
            i / 256 % 256,
            8 + i % 9
        );
    }
    out.push_str("  ],\n  \"grants\": [\n");
    // `n` overlapping port ranges in one grant, and wide grants covering them.
    out.push_str("    {\"src\": [\"tag:web\"], \"dst\": [\"tag:db\"], \"ip\": [");
    for i in 0..n {
        let first = 1 + i % 60_000;
        let _ = write!(out, "\"tcp:{first}-{}\", ", first + 100);
    }
    out.push_str("]},\n");
    out.push_str("    {\"src\": [\"*\"], \"dst\": [\"tag:db\"], \"ip\": [\"tcp:1-65535\"]},\n");
    out.push_str("  ],\n  \"nodeAttrs\": [\n");
    for i in 0..rules / 2 {
        let _ = writeln!(
            out,
            "    {{\"target\": [\"tag:ci-{}\"], \"attr\": [\"funnel\"]}},",
            i % (rules / 10).max(1)
        );
    }
    out.push_str("  ],\n}\n");
    out
}
