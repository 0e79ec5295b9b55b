//! Writes `tailpolicy_benches::generate_policy(BYTES)` to standard output, so benchmarks
//! outside Rust (the WASM one, `wasm/bench/bench.mjs`) use the same bytes.
//!
//! `cargo run -q --release -p tailpolicy-benches --example generate_policy -- 1000000`

use std::io::Write;

fn main() -> std::io::Result<()> {
    let bytes = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    std::io::stdout()
        .lock()
        .write_all(tailpolicy_benches::generate_policy(bytes).as_bytes())
}
