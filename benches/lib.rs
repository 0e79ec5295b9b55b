//! Benchmarks for tailpolicy; see `benches/*.rs`.
