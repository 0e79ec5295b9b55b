#!/usr/bin/env bash
# Packs the npm package @tailpolicy/wasm (wasm/package.json) from the built module:
#   bash wasm/build.sh && bash scripts/npm-pack.sh [DEST]     -> DEST/tailpolicy-wasm-X.Y.Z.tgz
# DEST defaults to target/npm. The package's version must be the crate's (Cargo.toml);
# scripts/release.sh sets it. Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-target/npm}
crate=$(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)
npm_version=$(node -p "require('./wasm/package.json').version")
if [ "$crate" != "$npm_version" ]; then
  echo "error: wasm/package.json has version $npm_version, the crate $crate (npm pkg set version=$crate --prefix wasm)" >&2
  exit 1
fi
for f in web/tailpolicy_wasm.js web/tailpolicy_wasm_bg.wasm node/tailpolicy_wasm.js node/tailpolicy_wasm_bg.wasm; do
  [ -f "wasm/pkg/$f" ] || { echo "error: wasm/pkg/$f is missing: run bash wasm/build.sh" >&2; exit 1; }
done
mkdir -p "$dest"
name=$(npm pack ./wasm --pack-destination "$dest" --silent)
echo "$dest/$name"
