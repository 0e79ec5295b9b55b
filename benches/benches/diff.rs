//! `tailpolicy::diff` of two versions of a 2,000-rule policy on the 10,000-node bench tailnet
//! (a few rules edited, and a large rewrite), and without an inventory; next to it, compiling
//! both policies' filters (`Compiled::new` plus every node's rules), the work the diff builds
//! on. `cargo bench -p tailpolicy-benches --bench diff`; single-shot tables with the full
//! compile: `--example diff_scaling`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tailpolicy::compile::Compiled;
use tailpolicy::model::Policy;
use tailpolicy::{CheckOptions, Inventory};

fn parse(text: &str, inventory: &Inventory) -> Policy {
    let options = CheckOptions {
        inventory: Some(inventory),
        ..Default::default()
    };
    tailpolicy::parse_valid(text, &options).unwrap_or_else(|_| panic!("generated policy invalid"))
}

fn bench(c: &mut Criterion) {
    let (text, inventory) = tailpolicy_benches::generate_tailnet(10_000, 2_000);
    let old = parse(&text, &inventory);
    let few = parse(&tailpolicy_benches::edit_policy(&text, 40), &inventory);
    let rewrite = parse(&tailpolicy_benches::edit_policy(&text, 2), &inventory);
    let mut group = c.benchmark_group("diff_10k_nodes_2k_rules");
    group.sample_size(10);
    group.bench_function("few_rules", |b| {
        b.iter(|| black_box(tailpolicy::diff::diff(&old, &few, Some(&inventory))))
    });
    group.bench_function("rewrite", |b| {
        b.iter(|| black_box(tailpolicy::diff::diff(&old, &rewrite, Some(&inventory))))
    });
    group.bench_function("few_rules_no_inventory", |b| {
        b.iter(|| black_box(tailpolicy::diff::diff(&old, &few, None)))
    });
    group.bench_function("compile_filters_both", |b| {
        b.iter(|| {
            for policy in [&old, &few] {
                let compiled = Compiled::new(policy, &inventory);
                for i in 0..compiled.resolver.nodes.len() {
                    black_box(compiled.node_rules(i));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
