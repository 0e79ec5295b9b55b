//! Parsing a ~5 MB policy: the HuJSON parser, parse + validate (`parse_valid`: the typed
//! policy with every validation check), the full `check` (also lints and the policy's tests),
//! and `serde_json` on the same document with comments and trailing commas stripped.
//!
//! Then the lints' worst cases (`generate_lint_worst_case`: long port lists, overlapping
//! ranges, thousands of rules on one destination): `check` must stay within a few times
//! the parse.
//!
//! `cargo bench -p tailpolicy-benches --bench parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tailpolicy_benches::{generate_lint_worst_case, generate_policy, strip_hujson};

const TARGET_BYTES: usize = 5_000_000;

fn parse(c: &mut Criterion) {
    let text = generate_policy(TARGET_BYTES);
    let stripped = strip_hujson(&text);
    assert!(tailpolicy::syntax::parse(&text).diagnostics.is_empty());

    let mut group = c.benchmark_group("parse_5mb");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("tailpolicy::syntax::parse", |b| {
        b.iter(|| tailpolicy::syntax::parse(black_box(&text)));
    });
    assert!(tailpolicy::parse_valid(&text, &Default::default()).is_ok());
    group.bench_function("tailpolicy::parse_valid (parse + validate)", |b| {
        b.iter(|| tailpolicy::parse_valid(black_box(&text), &Default::default()));
    });
    group.bench_function("tailpolicy::check (+ lints, tests)", |b| {
        b.iter(|| tailpolicy::check(black_box(&text), &Default::default()));
    });
    group.throughput(Throughput::Bytes(stripped.len() as u64));
    group.bench_function("serde_json::Value (stripped)", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&stripped)));
    });
    group.finish();
}

fn lint_worst_case(c: &mut Criterion) {
    let text = generate_lint_worst_case(20_000, 5_000);
    assert!(tailpolicy::parse_valid(&text, &Default::default()).is_ok());
    let mut group = c.benchmark_group("lint_worst_case");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    group.bench_function("tailpolicy::syntax::parse", |b| {
        b.iter(|| tailpolicy::syntax::parse(black_box(&text)));
    });
    group.bench_function("tailpolicy::check (+ lints, tests)", |b| {
        b.iter(|| tailpolicy::check(black_box(&text), &Default::default()));
    });
    group.finish();
}

criterion_group!(benches, parse, lint_worst_case);
criterion_main!(benches);
