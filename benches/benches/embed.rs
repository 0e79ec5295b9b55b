//! The calls the WASM module makes, natively: `check`, parse + compile (`Policy.parse`),
//! `query` and `reachableFrom`, on the Depot example (with its inventory) and on a ~1 MB
//! generated policy. `wasm/bench/bench.mjs` times the same calls through the WASM module in
//! Node; docs/performance.md compares the two.
//!
//! `cargo bench -p tailpolicy-benches --bench embed -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tailpolicy::query::Simulator;
use tailpolicy::{CheckOptions, Inventory};
use tailpolicy_benches::generate_policy;

const DEPOT: &str = include_str!("../../fixtures/depot/policy.hujson");
const DEPOT_INVENTORY: &str = include_str!("../../fixtures/depot/inventory.json");
/// The size of the generated policy; `wasm/bench/bench.mjs` generates the same one.
const LARGE_BYTES: usize = 1_000_000;

#[allow(
    clippy::needless_update,
    reason = "`CheckOptions` gains fields on other branches; `allow`, not `expect`, so it holds either way"
)]
fn options(inventory: Option<&Inventory>) -> CheckOptions<'_> {
    CheckOptions {
        inventory,
        ..Default::default()
    }
}

/// What the WASM module does with an inventory given as text: parse it on every call.
fn inventory(text: Option<&str>) -> Option<Inventory> {
    text.map(|t| Inventory::parse(t).expect("valid inventory"))
}

fn bench_policy(
    c: &mut Criterion,
    name: &str,
    text: &str,
    inventory_text: Option<&str>,
    (src, dst): (&str, &str),
) {
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.bench_function("check", |b| {
        b.iter(|| {
            let inventory = inventory(inventory_text);
            tailpolicy::check(black_box(text), &options(inventory.as_ref()))
        });
    });
    group.bench_function("parse", |b| {
        b.iter(|| {
            let inventory = inventory(inventory_text);
            let policy = tailpolicy::parse_valid(black_box(text), &options(inventory.as_ref()))
                .expect("valid policy");
            let simulator = Simulator::new(&policy, inventory.as_ref());
            drop(simulator);
            policy
        });
    });
    let inventory = inventory(inventory_text);
    let policy = tailpolicy::parse_valid(text, &options(inventory.as_ref())).expect("valid policy");
    let simulator = Simulator::new(&policy, inventory.as_ref());
    assert!(simulator.query(src, dst, Some("tcp")).is_ok());
    group.bench_function("query", |b| {
        b.iter(|| simulator.query(black_box(src), black_box(dst), Some("tcp")));
    });
    group.bench_function("reachableFrom", |b| {
        b.iter(|| simulator.reachable_from(black_box(src)));
    });
    group.finish();
}

fn embed(c: &mut Criterion) {
    bench_policy(
        c,
        "depot",
        DEPOT,
        Some(DEPOT_INVENTORY),
        ("tag:depot-runner", "database:5432"),
    );
    let large = generate_policy(LARGE_BYTES);
    bench_policy(
        c,
        "large_1mb",
        &large,
        None,
        ("group:eng-0", "tag:db-1:5432"),
    );
}

criterion_group!(benches, embed);
criterion_main!(benches);
