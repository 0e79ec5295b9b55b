#!/usr/bin/env bash
# Installs what the tests and the WASM build need on a fresh machine of this project's kind
# (Debian 12 with rustup and Node 20; see docs in wasm/README.md). Safe to run again: when
# everything is present it takes about a second.
#
#   * the wasm32-unknown-unknown target, and rust-src for the nightly size build when a
#     nightly toolchain is installed (wasm/build.sh falls back to stable without it);
#   * Debian's chromium and chromium-driver (the end-to-end test drives /usr/bin/chromium);
#   * the wasm-bindgen CLI of exactly the version in Cargo.lock (no --locked: its lockfile
#     pins a crate version the registry mirror does not serve);
#   * the npm packages in package-lock.json: binaryen (wasm-opt; never Debian's binaryen,
#     whose wasm-opt breaks wasm-bindgen's output), playwright-core, typescript and esbuild
#     (the npm package's bundling test);
#   * Python tools in .tools/venv (pre-commit, check-jsonschema; the packaging tests).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
if rustup run nightly rustc --version >/dev/null 2>&1; then
  sysroot=$(rustup run nightly rustc --print sysroot)
  if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "== rustup component add rust-src --toolchain nightly"
    rustup component add rust-src --toolchain nightly
  fi
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "== apt-get install chromium chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

WB_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ] \
  || [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $WB_VERSION" ]; then
  echo "== cargo install wasm-bindgen-cli $WB_VERSION (about 2 minutes)"
  cargo install -q wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.tailpolicy-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund --silent
  echo "$want" > "$stamp"
fi

# --- packaging (issue 17): Python tools for the action, pre-commit and release tests --------
# pre-commit and check-jsonschema, pinned in scripts/requirements-tools.txt, in .tools/venv
# (reinstalled only when that file changes).
tools_stamp=.tools/venv/.requirements-sha256
tools_want=$(sha256sum scripts/requirements-tools.txt | cut -d' ' -f1)
if [ "$(cat "$tools_stamp" 2>/dev/null)" != "$tools_want" ]; then
  echo "== pip install -r scripts/requirements-tools.txt (.tools/venv)"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-tools.txt
  echo "$tools_want" > "$tools_stamp"
fi
# The musl target for scripts/release.sh's static binary (rustup ships musl's C runtime with
# it). Not fatal: without it test.sh skips the release build with a note.
if ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  echo "== rustup target add x86_64-unknown-linux-musl"
  rustup target add x86_64-unknown-linux-musl || echo "note: the musl target could not be installed: no release build"
fi
# --- end packaging ------------------------------------------------------------------------------
# --- Language server tests (scripts/lsp-tests.sh) ----------------------------------------
# pygls's LanguageClient (PyPI) drives `tailpolicy lsp` through the protocol tests, and
# Debian's neovim (its built-in LSP client, headless) runs the end-to-end test.
if ! python3 -c 'import pygls.lsp.client' >/dev/null 2>&1; then
  echo "== pip install pygls"
  python3 -m pip install -q pygls==2.1.1 2>&1 | grep -v 'Running pip as the .root. user' || true
fi
if ! command -v nvim >/dev/null; then
  echo "== apt-get install neovim"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq neovim >/dev/null
fi
# --- end of the language server block ------------------------------------------------------
