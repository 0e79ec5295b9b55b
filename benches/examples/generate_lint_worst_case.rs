//! Writes `tailpolicy_benches::generate_lint_worst_case(PORTS, RULES)` to standard output, to time the
//! CLI on it (`/usr/bin/time -v tailpolicy check FILE` for peak memory).
//!
//! `cargo run -q --release -p tailpolicy-benches --example generate_lint_worst_case -- PORTS RULES`

use std::io::Write;

fn main() -> std::io::Result<()> {
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let text = tailpolicy_benches::generate_lint_worst_case(arg(1, 5_000), arg(2, 5_000));
    std::io::stdout().lock().write_all(text.as_bytes())
}
