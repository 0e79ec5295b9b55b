#!/usr/bin/env bash
# Tests of `tailpolicy lsp` through real clients (scripts/test.sh runs this):
#   * pygls's LanguageClient (PyPI `pygls`, installed by scripts/bootstrap.sh):
#     crates/tailpolicy-cli/tests/lsp/client_test.py, every capability;
#   * Neovim's built-in client, headless (Debian's `neovim`): opens a policy, reads the
#     diagnostics and a hover (crates/tailpolicy-cli/tests/lsp/nvim_test.lua).
# A missing client is a note and a skip; under CI=true it is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p tailpolicy-cli --locked
repo=$PWD
bin=$repo/target/debug/tailpolicy
missing() {
  if [ "${CI:-}" = true ]; then
    echo "error: $1 (CI=true)"
    exit 1
  fi
  echo "skipped: $1"
}

echo "== LSP protocol tests (pygls client)"
if python3 -c 'import pygls.lsp.client' 2>/dev/null; then
  python3 crates/tailpolicy-cli/tests/lsp/client_test.py "$bin" "$PWD"
else
  missing "python3 with pygls not found (scripts/bootstrap.sh installs it)"
fi

echo "== LSP end to end in Neovim (headless)"
if command -v nvim >/dev/null; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  touch "$dir/.git"
  printf '{\n\t"tagOwners": {"tag:ci": ["autogroup:admin"]},\n\t"acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:nope:22"]}],\n}\n' > "$dir/policy.hujson"
  (cd "$dir" && TAILPOLICY_BIN=$bin NVIM_TEST_OUT=$dir/out.txt HOVER_LINE=1 HOVER_CHARACTER=17 \
    timeout 60 nvim --headless -u NONE -i NONE -n policy.hujson \
      -c "luafile $repo/crates/tailpolicy-cli/tests/lsp/nvim_test.lua" >/dev/null 2>&1) || true
  cat "$dir/out.txt" 2>/dev/null || true
  if grep -q '^diagnostic 2:58 E201 ' "$dir/out.txt" 2>/dev/null \
    && grep -q '^hover \*\*tag\*\* `tag:ci`.*owned by `autogroup:admin`' "$dir/out.txt"; then
    echo "1 passed, 0 failed: neovim read the diagnostics and a hover"
  else
    echo "neovim did not get the expected diagnostics and hover"
    echo "0 passed, 1 failed"
    exit 1
  fi
else
  missing "nvim not found (scripts/bootstrap.sh installs Debian's neovim)"
fi
