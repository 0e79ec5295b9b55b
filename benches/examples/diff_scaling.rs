//! Times `tailpolicy::diff` against compiling both policies, on generated tailnets as nodes
//! and rules double: `cargo run --release -p tailpolicy-benches --example diff_scaling`.
//!
//! For each size: a few rules edited (every 40th editable ACL) and a large rewrite (every
//! 2nd), with the inventory; and the few-rules edit without one. "compile both" is
//! `tailpolicy::compile` (filters, peers, SSH, capability maps) of both policies; "filters
//! both" is `Compiled::new` plus every node's `node_rules`, for both. Arguments: `small` (or
//! `large`, or a node count) for the sizes, then a scenario's label to run only it
//! (`... large "few rules, no inventory"`, or `all`), then `diff-only` to time the diff alone (under callgrind:
//! `--toggle-collect='tailpolicy::diff::diff'`).
#![allow(
    clippy::print_stdout,
    reason = "a measuring tool prints its measurements"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use tailpolicy::compile::Compiled;
use tailpolicy::model::Policy;
use tailpolicy::{CheckOptions, Inventory};

fn parse(text: &str, inventory: &Inventory) -> Policy {
    let options = CheckOptions {
        inventory: Some(inventory),
        ..Default::default()
    };
    tailpolicy::parse_valid(text, &options).expect("the generated policy is valid")
}

fn time<T>(f: impl FnOnce() -> T) -> Duration {
    let started = Instant::now();
    black_box(f());
    started.elapsed()
}

fn main() {
    let sizes: Vec<(usize, usize)> = match std::env::args().nth(1).as_deref() {
        Some("small") => vec![(1_250, 250), (2_500, 500)],
        // One size: NODES (rules a fifth of it).
        Some(n) if n.parse::<usize>().is_ok() => {
            let nodes = n.parse::<usize>().unwrap_or(5_000);
            vec![(nodes, nodes / 5)]
        }
        _ => vec![(5_000, 1_000), (10_000, 2_000)],
    };
    println!(
        "| nodes | rules | change | rows | diff | compile both | ratio | filters both | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (nodes, rules) in sizes {
        let (text, inventory) = tailpolicy_benches::generate_tailnet(nodes, rules);
        let old = parse(&text, &inventory);
        for (label, every, with_inventory) in [
            ("few rules", 40, true),
            ("rewrite", 2, true),
            ("few rules, no inventory", 40, false),
        ] {
            // A second argument keeps only the scenario with that label (`all`: every one).
            if std::env::args()
                .nth(2)
                .is_some_and(|only| only != "all" && only != label)
            {
                continue;
            }
            let new_text = tailpolicy_benches::edit_policy(&text, every);
            let new = parse(&new_text, &inventory);
            let mut rows = 0;
            let diff_time = time(|| {
                let d = tailpolicy::diff::diff(&old, &new, with_inventory.then_some(&inventory));
                rows = d.added.len() + d.removed.len();
            });
            // A third argument `diff-only` skips the comparisons (for callgrind).
            if std::env::args().nth(3).as_deref() == Some("diff-only") {
                println!("| {nodes} | {rules} | {label} | {rows} | {diff_time:.2?} | | | | |");
                continue;
            }
            let compile_time = if with_inventory {
                time(|| {
                    (
                        tailpolicy::compile(&old, &inventory).len(),
                        tailpolicy::compile(&new, &inventory).len(),
                    )
                })
            } else {
                let tailnet = tailpolicy::diff::symbolic_tailnet(&old, &new, &[]);
                time(|| {
                    (
                        tailpolicy::compile(&old, &tailnet).len(),
                        tailpolicy::compile(&new, &tailnet).len(),
                    )
                })
            };
            let filters_time = time(|| {
                for policy in [&old, &new] {
                    let compiled = Compiled::new(policy, &inventory);
                    for i in 0..compiled.resolver.nodes.len() {
                        black_box(compiled.node_rules(i));
                    }
                }
            });
            let ratio = |d: Duration| diff_time.as_secs_f64() / d.as_secs_f64();
            println!(
                "| {nodes} | {rules} | {label} | {rows} | {diff_time:.2?} | {compile_time:.2?} | {:.2} | {filters_time:.2?} | {:.2} |",
                ratio(compile_time),
                ratio(filters_time)
            );
        }
    }
}
