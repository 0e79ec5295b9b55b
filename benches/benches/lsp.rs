//! What `tailpolicy lsp` does for a 1 MB policy after a keystroke: apply the edit, run the
//! full `check` (validation, lints, the policy's tests) and turn every diagnostic's span into
//! a UTF-16 position, as the server's worker does before publishing. The goal is 100 ms on
//! the project's machine (the server waits `DEBOUNCE`, 30 ms, after the last edit first).
//! On documents over 200 KB the server first publishes a quick check without the slow
//! `redundant-rule` lint (its earlier findings carried over), then the full one.
//! Also hover and completion on the same document, which the server answers on request.
//!
//! `cargo bench -p tailpolicy-benches --bench lsp -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tailpolicy::ide::Analysis;
use tailpolicy::{LineIndex, PositionEncoding};
use tailpolicy_benches::generate_policy;

const TARGET_BYTES: usize = 1_000_000;

fn diagnostics_after_edit(text: &str, at: usize, config: &tailpolicy::LintConfig) -> usize {
    // The keystroke: one digit of a port changes.
    let mut edited = text.to_owned();
    edited.replace_range(at..at + 1, "5");
    let options = tailpolicy::CheckOptions {
        inventory: None,
        config: Some(config),
    };
    let report = tailpolicy::check(&edited, &options);
    let index = LineIndex::new(&edited);
    report
        .diagnostics
        .iter()
        .map(|d| {
            let span = d.primary_span();
            let start = index.position(span.start, PositionEncoding::Utf16);
            let end = index.position(span.end, PositionEncoding::Utf16);
            (start.line + end.column) as usize
        })
        .sum()
}

fn lsp(c: &mut Criterion) {
    let text = generate_policy(TARGET_BYTES);
    let at = text.find(":443").expect("a port to edit") + 1;
    let mut group = c.benchmark_group("lsp_1mb");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(10);
    let full = tailpolicy::LintConfig::default();
    group.bench_function("edit + check + UTF-16 positions", |b| {
        b.iter(|| diagnostics_after_edit(black_box(&text), at, &full));
    });
    // The server's first step on a large document: everything but `redundant-rule`.
    let quick = tailpolicy::LintConfig::default().with_ignore(&["redundant-rule"]);
    group.bench_function("edit + quick check (no TP022) + UTF-16 positions", |b| {
        b.iter(|| diagnostics_after_edit(black_box(&text), at, &quick));
    });
    let hover_at = u32::try_from(text.find("\"tag:").expect("a tag") + 3).unwrap_or(0);
    group.bench_function("hover on a tag", |b| {
        b.iter(|| Analysis::new(black_box(&text)).hover(hover_at));
    });
    group.bench_function("completion in a src list", |b| {
        b.iter(|| Analysis::new(black_box(&text)).completions(hover_at));
    });
    // What the server does: the tree is kept until the next edit.
    let tree = tailpolicy::ide::tree(&text);
    group.bench_function("hover on a tag, tree kept", |b| {
        b.iter(|| Analysis::with_tree(black_box(&text), &tree).hover(hover_at));
    });
    group.bench_function("completion in a src list, tree kept", |b| {
        b.iter(|| Analysis::with_tree(black_box(&text), &tree).completions(hover_at));
    });
    group.finish();
}

criterion_group!(benches, lsp);
criterion_main!(benches);
