//! Benchmarks for tailpolicy; see `benches/*.rs`.
//!
//! This library holds the inputs the benchmarks share, one generator per module: large,
//! realistic and valid policies and a HuJSON-to-JSON stripper for the `serde_json` baseline
//! (`policy.rs`), whole tailnets with queries (`tailnet.rs`), the naive reference evaluator
//! of the query benchmark (`naive.rs`) and the lints' worst cases (`lint_worst.rs`).

mod lint_worst;
mod naive;
mod policy;
mod tailnet;

pub use lint_worst::generate_lint_worst_case;
pub use naive::NaiveEvaluator;
pub use policy::{generate_policy, strip_hujson};
pub use tailnet::{BenchQuery, check_options, generate_queries, generate_tailnet, tailnet_node_ip};

/// A small deterministic generator (SplitMix64), so every run benchmarks the same bytes.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

pub(crate) const PORTS: &[&str] = &[
    "22",
    "80",
    "443",
    "443,8080",
    "5432",
    "6379",
    "8080",
    "8443",
    "9090",
    "3000-3999",
    "*",
];
pub(crate) const PROTO_PORTS: &[&str] = &[
    "tcp:443",
    "tcp:22",
    "tcp:80-443",
    "udp:53",
    "tcp:5432",
    "icmp:*",
    "443",
    "8080",
    "*",
];

pub(crate) const TEAMS: &[&str] = &[
    "eng", "ops", "sre", "data", "web", "mobile", "sec", "finance", "support", "infra",
];
pub(crate) const SERVICES: &[&str] = &[
    "svc", "db", "cache", "web", "api", "queue", "build", "metrics", "logs", "vpn",
];

pub(crate) fn string_list(out: &mut String, items: impl IntoIterator<Item = String>) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(&item);
        out.push('"');
    }
    out.push(']');
}

/// One to three `ip` entries of a grant, sorted and without repeats.
pub(crate) fn grant_ip(rng: &mut Rng) -> Vec<String> {
    let mut ip: Vec<String> = (0..1 + rng.below(3))
        .map(|_| rng.pick(PROTO_PORTS).to_owned())
        .collect();
    ip.sort();
    ip.dedup();
    ip
}

// ---------------------------------------------------------------------------------------
// Policy versions for the `diff` benchmarks.

/// `text` with a few rules edited: the ports of every `every`-th ACL line that has a `:443`
/// or `:22` destination change (`:443` to `:8443`, `:22` to `:2222`). With a large `every`
/// that is a few rules; with `every = 2` a large rewrite.
pub fn edit_policy(text: &str, every: usize) -> String {
    let mut seen = 0usize;
    let mut out = String::with_capacity(text.len() + 1024);
    for line in text.lines() {
        let editable =
            line.contains("\"action\"") && (line.contains(":443\"") || line.contains(":22\""));
        if editable {
            seen += 1;
            if seen.is_multiple_of(every.max(1)) {
                out.push_str(
                    &line
                        .replace(":443\"", ":8443\"")
                        .replace(":22\"", ":2222\""),
                );
                out.push('\n');
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

mod policy_tests_block;
pub use policy_tests_block::with_tests_block;
