#!/usr/bin/env bash
# Builds the release assets (docs/release.md):
#
#   bash scripts/release.sh [--reuse-wasm] [OUT]      OUT defaults to target/release-assets
#
#   OUT/tailpolicy-X.Y.Z-x86_64-unknown-linux-musl.tar.gz   static Linux binary (musl), with
#                                                            README.md and the licences
#   OUT/tailpolicy-wasm-X.Y.Z.tgz                            the npm package @tailpolicy/wasm
#   OUT/<asset>.sha256, OUT/SHA256SUMS                       SHA-256 checksums (sha256sum -c)
#
# The version is the workspace's (Cargo.toml); wasm/package.json is set to it. The binary
# records the commit (`tailpolicy --version`). Archives are reproducible for a commit: sorted
# entries, fixed owner and mtime (the commit's date), gzip without a timestamp. The WASM module
# is rebuilt (size build) unless --reuse-wasm and wasm/pkg exists. Needs the musl target
# (`rustup target add x86_64-unknown-linux-musl`, which this script runs): Rust ships musl's
# C runtime for it, so no musl-gcc is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

reuse_wasm=0
if [ "${1:-}" = --reuse-wasm ]; then reuse_wasm=1; shift; fi
out=${1:-target/release-assets}
target=x86_64-unknown-linux-musl
version=$(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

rm -rf "$out"
mkdir -p "$out"

echo "== static binary ($target)"
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
TAILPOLICY_GIT_COMMIT=$commit cargo build -q --release --locked --target "$target" -p tailpolicy-cli
bin="$TARGET_DIR/$target/release/tailpolicy"
# Static: no program interpreter, no shared libraries.
if readelf -l "$bin" | grep -q 'Requesting program interpreter' || readelf -d "$bin" | grep -q '(NEEDED)'; then
  echo "error: $bin is not statically linked" >&2
  exit 1
fi
"$bin" --version
name="tailpolicy-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
# The release profile keeps line tables for backtraces in development; the asset goes without.
strip -o "$stage/$name/tailpolicy" "$bin"
"$stage/$name/tailpolicy" check fixtures/depot/policy.hujson --inventory fixtures/depot/inventory.json >/dev/null
cp crates/tailpolicy-cli/README.md LICENSE-MIT LICENSE-APACHE "$stage/$name/"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  -C "$stage" -cf - "$name" | gzip -n -9 > "$out/$name.tar.gz"

echo "== npm package"
if [ "$(node -p "require('./wasm/package.json').version")" != "$version" ]; then
  (cd wasm && npm pkg set "version=$version")
fi
if [ "$reuse_wasm" = 0 ] || [ ! -f wasm/pkg/web/tailpolicy_wasm_bg.wasm ]; then
  bash wasm/build.sh
fi
bash scripts/npm-pack.sh "$out" >/dev/null

echo "== checksums"
(
  cd "$out"
  for asset in *.tar.gz *.tgz; do
    sha256sum "$asset" > "$asset.sha256"
  done
  sha256sum ./*.tar.gz ./*.tgz | sed 's| \./| |' > SHA256SUMS
  sha256sum -c --quiet SHA256SUMS
)
ls -l "$out"
cat "$out/SHA256SUMS"
