//! Times `tailpolicy::compile` (filters, peers, SSH rules, capability maps for every node) on
//! generated tailnets: `cargo run --release -p tailpolicy-benches --example compile_all -- NODES RULES`.
#![allow(
    clippy::print_stdout,
    reason = "a measuring tool prints its measurements"
)]

use std::time::Instant;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let nodes = args.next().unwrap_or(1_000);
    let rules = args.next().unwrap_or(nodes / 5);
    let (text, inventory) = tailpolicy_benches::generate_tailnet(nodes, rules);
    let options = tailpolicy::CheckOptions {
        inventory: Some(&inventory),
        ..Default::default()
    };
    let policy = tailpolicy::parse_valid(&text, &options).expect("the generated policy is valid");
    let started = Instant::now();
    let compiled = tailpolicy::compile::Compiled::new(&policy, &inventory);
    let filters: usize = (0..compiled.resolver.nodes.len())
        .map(|i| compiled.node_rules(i).len())
        .sum();
    let filter_time = started.elapsed();
    let started = Instant::now();
    let peers: usize = compiled.peer_map().iter().map(Vec::len).sum();
    let peer_time = started.elapsed();
    let started = Instant::now();
    let output = tailpolicy::compile(&policy, &inventory);
    let total = started.elapsed();
    println!(
        "{nodes} nodes, {rules} rules: filters {filter_time:?} ({filters} rules), peer map {peer_time:?} ({peers} peer entries), full compile output {total:?} ({} nodes)",
        output.len()
    );
}
