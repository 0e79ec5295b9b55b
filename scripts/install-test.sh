#!/usr/bin/env bash
# The install path a user takes, from a fresh clone of this repository's HEAD:
#   cargo install --locked --path crates/tailpolicy-cli --root <tmp>
# then the README's main command with the installed binary, and `--version` naming the
# clone's commit. The build reuses this checkout's target directory (CARGO_TARGET_DIR), so
# only the workspace's own crates are compiled again. `--debug` (scripts/test.sh passes it)
# installs the debug build, whose dependencies the tests have already compiled: about 40 s
# instead of a full release build (about 2.5 min of CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$ROOT" "$tmp/clone"
head=$(git -C "$tmp/clone" rev-parse --short=12 HEAD)

cd "$tmp/clone"
profile=()
[ "${1:-}" = --debug ] && profile=(--debug)
cargo install -q --locked "${profile[@]}" --path crates/tailpolicy-cli --root "$tmp/root"
bin=$tmp/root/bin/tailpolicy

version=$("$bin" --version)
echo "$version"
case "$version" in
  "tailpolicy $(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml) (commit $head)") ;;
  *) echo "error: --version should name the version and commit $head" >&2; exit 1 ;;
esac

# The README's main command, with the installed binary instead of `cargo run`.
cmd=$(grep -m1 '^cargo run -q --release -p tailpolicy-cli -- query ' README.md) || {
  echo "error: the README's main command is missing" >&2; exit 1; }
out=$(eval "\"$bin\" ${cmd#cargo run -q --release -p tailpolicy-cli -- }")
echo "$out"
grep -q 'allowed' <<<"$out" || { echo "error: expected the runner to be allowed" >&2; exit 1; }
echo "install test: ok"
