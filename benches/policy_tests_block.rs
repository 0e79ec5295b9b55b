//! A `tests` block for a generated tailnet, so the policy's own tests can be timed at scale
//! (issue 14, item 4).

use std::fmt::Write as _;

use tailpolicy::Inventory;

/// `policy` (a generated tailnet policy ending in `}`) with a `tests` block of `assertions`
/// entries (four per test) whose sources are users, tags and node addresses of `inventory`
/// and whose destinations are tags, users and addresses with common ports. Each entry is put
/// under `accept` or `deny` as the policy decides, so every test passes.
pub fn with_tests_block(policy: &str, inventory: &Inventory, assertions: usize) -> String {
    const PORTS: [u16; 6] = [22, 443, 5432, 9100, 80, 8080];
    let nodes = &inventory.nodes;
    let tests = assertions.div_ceil(4);
    let pick = |k: usize| nodes.get((k * 7919) % nodes.len().max(1));
    let node_selector = |k: usize| match (pick(k), k % 3) {
        (Some(node), 0) => node.tags.first().cloned().or_else(|| {
            let user = node.user.as_ref()?;
            Some(format!("{user}@example.com"))
        }),
        (Some(node), 1) => node.ipv4.map(|ip| ip.to_string()),
        (Some(node), _) => node
            .user
            .as_ref()
            .map(|u| format!("{u}@example.com"))
            .or_else(|| node.tags.first().cloned()),
        (None, _) => None,
    };
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for t in 0..tests {
        let Some(src) = node_selector(t * 13 + 1) else {
            continue;
        };
        let dsts = (0..4)
            .filter(|d| t * 4 + d < assertions)
            .filter_map(|d| {
                let selector = node_selector(t * 31 + d * 5 + 2)?;
                let port = PORTS.get((t + d) % PORTS.len()).copied().unwrap_or(443);
                Some(format!("{selector}:{port}"))
            })
            .collect();
        entries.push((src, dsts));
    }
    let write = |denied: &[(usize, String)]| {
        let body = policy.trim_end().strip_suffix('}').unwrap_or(policy);
        let mut out = body.to_owned();
        out.push_str("\n  \"tests\": [\n");
        for (i, (src, dsts)) in entries.iter().enumerate() {
            let is_denied = |d: &String| denied.iter().any(|(j, t)| *j == i && t == d);
            let list = |deny: bool| {
                dsts.iter()
                    .filter(|d| is_denied(d) == deny)
                    .map(|d| format!("\"{d}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "    {{\"src\": \"{src}\", \"accept\": [{}], \"deny\": [{}]}},",
                list(false),
                list(true)
            );
        }
        out.push_str("  ],\n}\n");
        out
    };
    let first = write(&[]);
    let options = crate::check_options(inventory);
    let Ok(parsed) = tailpolicy::parse_valid(&first, &options) else {
        return first;
    };
    let denied: Vec<(usize, String)> = tailpolicy::policy_tests::run(&parsed, Some(inventory))
        .into_iter()
        .filter(|a| !a.passed)
        .map(|a| (a.index, a.target))
        .collect();
    write(&denied)
}
