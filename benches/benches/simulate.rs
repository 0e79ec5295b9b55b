//! Compiling every node's packet filter and answering access queries on a generated tailnet
//! of 10,000 nodes and 2,000 rules, the query engine against a naive evaluator, and the
//! compile time as nodes and rules double.
//!
//! `cargo bench -p tailpolicy-benches --bench simulate -- --warm-up-time 1 --measurement-time 3 --sample-size 10`
//!
//! Peak memory is measured by the `simulate_scaling` bench binary (separate processes).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tailpolicy::compile::Compiled;
use tailpolicy::inventory::Inventory;
use tailpolicy::model::Policy;
use tailpolicy::query::Simulator;
use tailpolicy_benches::{
    BenchQuery, NaiveEvaluator, check_options, generate_queries, generate_tailnet,
};

const NODES: usize = 10_000;
const RULES: usize = 2_000;
/// Queries per iteration for the query engine.
const QUERIES: usize = 1_000;
/// The naive evaluator (milliseconds a query) answers every `NAIVE_STEP`-th query: the same
/// mix of destinations, a tenth of the count.
const NAIVE_STEP: usize = 10;
const SCALING: [(usize, usize); 3] = [(2_500, 500), (5_000, 1_000), (10_000, 2_000)];

fn load(nodes: usize, rules: usize) -> (String, Inventory, Policy) {
    let (text, inventory) = generate_tailnet(nodes, rules);
    let policy = tailpolicy::parse_valid(&text, &check_options(&inventory))
        .unwrap_or_else(|r| panic!("generated policy invalid: {:?}", r.diagnostics.first()));
    (text, inventory, policy)
}

/// `Compiled::new` and every node's rules; returns the number of `SrcIPs` and `DstPorts`
/// entries delivered.
fn compile_all(policy: &Policy, inventory: &Inventory) -> usize {
    let compiled = Compiled::new(policy, inventory);
    (0..inventory.nodes.len())
        .map(|i| {
            compiled
                .node_rules(i)
                .iter()
                .map(|r| r.src.len() + r.dsts.len())
                .sum::<usize>()
        })
        .sum()
}

fn query(sim: &Simulator<'_>, inventory: &Inventory, q: &BenchQuery) -> bool {
    let src = inventory
        .nodes
        .get(q.src)
        .map(|n| n.name.as_str())
        .unwrap_or_default();
    sim.query(src, &q.dst_text(), Some(q.proto_name()))
        .map(|a| a.allowed)
        .unwrap_or(false)
}

fn compile(c: &mut Criterion) {
    let (_, inventory, policy) = load(NODES, RULES);
    let mut group = c.benchmark_group("compile_10k_nodes_2k_rules");
    group.sample_size(10);
    group.bench_function("Compiled::new", |b| {
        b.iter(|| {
            Compiled::new(black_box(&policy), black_box(&inventory))
                .pieces
                .len()
        });
    });
    group.bench_function("Compiled::new + node_rules (every node)", |b| {
        b.iter(|| compile_all(black_box(&policy), black_box(&inventory)));
    });
    group.bench_function("Compiled::new + node_rules + to_wire (every node)", |b| {
        b.iter(|| {
            let compiled = Compiled::new(black_box(&policy), black_box(&inventory));
            (0..inventory.nodes.len())
                .map(|i| {
                    compiled
                        .node_rules(i)
                        .iter()
                        .map(|r| r.to_wire().src_ips.len())
                        .sum::<usize>()
                })
                .sum::<usize>()
        });
    });
    group.finish();
}

fn queries(c: &mut Criterion) {
    let (text, inventory, policy) = load(NODES, RULES);
    let sim = Simulator::new(&policy, Some(&inventory));
    let naive = NaiveEvaluator::new(&text, &inventory);
    let queries = generate_queries(&inventory, QUERIES);
    // The two answer alike (on the queries the naive evaluator is timed on).
    for q in queries.iter().step_by(NAIVE_STEP) {
        assert_eq!(
            query(&sim, &inventory, q),
            naive.allows(q.src, q.dst, q.port, q.proto),
            "{q:?}"
        );
    }

    let mut group = c.benchmark_group("query_10k_nodes_2k_rules");
    group.sample_size(10);
    group.throughput(Throughput::Elements(QUERIES as u64));
    group.bench_function("Simulator::query", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| query(&sim, &inventory, black_box(q)))
                .count()
        });
    });
    group.throughput(Throughput::Elements(QUERIES.div_ceil(NAIVE_STEP) as u64));
    group.bench_function("naive evaluator", |b| {
        b.iter(|| {
            queries
                .iter()
                .step_by(NAIVE_STEP)
                .filter(|q| naive.allows(q.src, black_box(q.dst), q.port, q.proto))
                .count()
        });
    });
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile_scaling");
    group.sample_size(10);
    for (nodes, rules) in SCALING {
        let (_, inventory, policy) = load(nodes, rules);
        group.bench_with_input(
            BenchmarkId::new("Compiled::new + node_rules", format!("{nodes}x{rules}")),
            &(policy, inventory),
            |b, (policy, inventory)| b.iter(|| compile_all(policy, inventory)),
        );
    }
    group.finish();
}

criterion_group!(benches, compile, queries, scaling);
criterion_main!(benches);
