#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, doc tests, the WASM module and its preview page
# (build, wasm-bindgen tests in Node, Node API, conformance and browser tests), then all other
# tests. Installs what it needs first (scripts/bootstrap.sh) and is safe to run again; CI runs
# it through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# rustfmt and clippy ship with the usual toolchains; add them where they are missing.
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

echo "== bootstrap"
bash scripts/bootstrap.sh

echo "== cargo fmt"
cargo fmt --all --check

# Benches compile here too (--all-targets), so they cannot rot.
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p tailpolicy-wasm --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
cargo clippy -p tailpolicy-wasm-review --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

echo "== doc tests"
cargo test --doc --workspace --locked

# The WASM module: built and size-checked, then tested in Node (wasm-bindgen-test), through its
# JavaScript API (node --test, which also compares it with the native CLI built here; the
# review module's `diff` and `convertInventory` too, review.test.mjs), and in Chromium (the
# preview page, its changes view and inventory files included).
echo "== wasm build"
bash wasm/build.sh
echo "== wasm-bindgen tests (Node)"
cargo test -p tailpolicy-wasm --target wasm32-unknown-unknown --locked
echo "== Node and browser tests"
cargo build -q -p tailpolicy-cli --locked
node --test wasm/tests/js/ wasm/tests/e2e/
# The npm package (issue 17): packed, installed into a scratch project, used from Node, tsc and
# an esbuild bundle with <tailpolicy-preview> in Chromium.
echo "== packaging: npm package and <tailpolicy-preview> (wasm/tests/package/)"
node --test wasm/tests/package/

# Tailscale's own HuJSON library, built as a command for the differential test of `fmt` and
# the parser (crates/tailpolicy/tests/hujson_oracle.rs). Needs PyPI once (a prebuilt Go).
echo "== hujson oracle"
oracle_src=${TAILPOLICY_HUJSON_ORACLE_SRC:-../shared/oracles/hujson}
if [ -f "$oracle_src/build.sh" ]; then
  bash "$oracle_src/build.sh" target/hujson-oracle ||
    echo "note: building the hujson oracle failed: the hujson tests report themselves skipped (under CI=true they fail)"
else
  echo "note: hujson oracle not found at $oracle_src: the hujson tests report themselves skipped (under CI=true they fail)"
fi

# --- packaging (issue 17): the GitHub Action, pre-commit hooks, npm package, install ----------
# The release assets (static musl binary, npm tarball, checksums) with the module built above;
# the Action's test installs that binary as a release asset.
echo "== packaging: release assets (scripts/release.sh)"
release_assets=()
if rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  bash scripts/release.sh --reuse-wasm target/release-assets
  release_assets=(TAILPOLICY_RELEASE_ASSETS=target/release-assets)
else
  echo "note: no x86_64-unknown-linux-musl target (scripts/bootstrap.sh could not add it): release build skipped"
fi
echo "== packaging: GitHub Action (action/test_action.py)"
env "${release_assets[@]}" .tools/venv/bin/python action/test_action.py
# The python hook builds the CLI once in a hook environment (dev profile, this target dir).
echo "== packaging: pre-commit hooks (scripts/test_precommit.py)"
.tools/venv/bin/python scripts/test_precommit.py
# The crates package cleanly: the core is verified as crates.io would build it (the CLI can be
# dry-run only once the core is published).
echo "== packaging: cargo publish --dry-run -p tailpolicy, cargo package --list -p tailpolicy-cli"
cargo publish -q --dry-run --allow-dirty --locked -p tailpolicy
cargo package -q --list --allow-dirty -p tailpolicy-cli > /dev/null
# From a fresh clone: cargo install, then the README's main command with the installed binary.
echo "== packaging: install from a fresh clone (scripts/install-test.sh)"
bash scripts/install-test.sh --debug
# --- end packaging ------------------------------------------------------------------------------
# The language server through real clients (pygls, headless Neovim).
echo "== LSP client tests"
bash scripts/lsp-tests.sh

# Last, so the run closes on the main test runner's summary.
echo "== tests"
corpus=${TAILPOLICY_CONFORMANCE_DIR:-../shared/conformance}
if [ ! -d "$corpus/headscale" ]; then
  echo "note: conformance corpus not found at $corpus: the corpus tests report themselves skipped (under CI=true they fail)"
fi
# insta lists every snapshot it asserts in this file; a committed snapshot missing from it is
# orphaned (its test was renamed or removed) and fails the run below.
snapshot_refs=$(mktemp)
trap 'rm -f "$snapshot_refs"' EXIT
export INSTA_SNAPSHOT_REFERENCES_FILE=$snapshot_refs
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked
else
  cargo test --workspace --locked --lib --bins --tests
fi
bash scripts/unreferenced-snapshots.sh "$snapshot_refs"
