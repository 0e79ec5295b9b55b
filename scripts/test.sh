#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, doc tests, then all other tests.
# Installs what it needs first and is safe to run again; CI runs it through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# rustfmt and clippy ship with the usual toolchains; add them where they are missing.
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

echo "== cargo fmt"
cargo fmt --all --check

# Benches compile here too (--all-targets), so they cannot rot.
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# Doc tests first, so the run closes on the main test runner's summary.
echo "== doc tests"
cargo test --doc --workspace --locked

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked
else
  cargo test --workspace --locked --lib --bins --tests
fi
