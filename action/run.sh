#!/usr/bin/env bash
# The steps of the tailpolicy GitHub Action (action.yml), one subcommand per step:
#
#   run.sh cache-key   the actions/cache key of the binary (version + the action's sources)
#   run.sh install     puts `tailpolicy` on PATH: the cached binary, else the release asset
#                      (SHA-256 checked), else `cargo install` from the action's own sources
#   run.sh check       `tailpolicy check --format github` (annotations), and a SARIF log when
#                      asked; records the exit status without failing, so the upload still runs
#   run.sh diff        `tailpolicy diff git:BASE:FILE FILE --format markdown` as a job summary
#                      and a pull-request comment; skipped with a notice when the installed
#                      binary has no `diff` command
#   run.sh finish      fails the job when the check failed
#
# Inputs come as TP_* environment variables (action.yml maps them); GitHub's own variables
# (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_ACTION_PATH, RUNNER_TEMP, ...) are
# used as GitHub sets them. action/test.sh runs these steps locally.
set -euo pipefail

ACTION_DIR=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
BIN_DIR=${TP_BIN_DIR:-$HOME/.cache/tailpolicy-action/bin}
REPO_URL=https://github.com/tailpolicy/tailpolicy
RELEASES=${TP_RELEASE_URL:-$REPO_URL/releases/download}
ACTION_VERSION=$(awk -F'"' '/^version = /{print $2; exit}' "$ACTION_DIR/Cargo.toml")
WANT=${TP_VERSION:-$ACTION_VERSION}
WANT=${WANT#v}

output() { echo "$1=$2" >> "${GITHUB_OUTPUT:-/dev/null}"; }
summary() { cat >> "${GITHUB_STEP_SUMMARY:-/dev/null}"; }

# The policy files, one per line in the input, without a leading `./` (annotation paths and
# `git:REF:PATH` are relative to the repository root).
policy_files() {
  local line
  while IFS= read -r line; do
    line=$(echo "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    [ -n "$line" ] && echo "${line#./}"
  done <<<"${TP_POLICY_FILE:-./policy.hujson}"
}

# The release asset's target triple for this runner; empty where there is none.
asset_target() {
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) echo x86_64-unknown-linux-musl ;;
    *) echo "" ;;
  esac
}

cmd_cache_key() {
  # The action's sources decide what a build from them contains.
  local sources
  sources=$(cd "$ACTION_DIR" && find Cargo.toml Cargo.lock crates/tailpolicy/src crates/tailpolicy/Cargo.toml \
    crates/tailpolicy-cli -path crates/tailpolicy-cli/tests -prune -o -type f -print 2>/dev/null \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
  output key "tailpolicy-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$WANT-$sources"
}

installed_version() { "$BIN_DIR/tailpolicy" --version 2>/dev/null || true; }

try_release_asset() {
  local target url tmp
  target=$(asset_target)
  [ -n "$target" ] || return 1
  url="$RELEASES/v$WANT/tailpolicy-$WANT-$target.tar.gz"
  tmp=$(mktemp -d)
  if ! curl -fsSL --retry 2 -o "$tmp/asset.tar.gz" "$url" || ! curl -fsSL -o "$tmp/asset.sha256" "$url.sha256"; then
    rm -rf "$tmp"
    return 1
  fi
  if [ "$(cut -d' ' -f1 < "$tmp/asset.sha256")" != "$(sha256sum "$tmp/asset.tar.gz" | cut -d' ' -f1)" ]; then
    echo "::warning title=tailpolicy::the SHA-256 of $url does not match its .sha256 file; not using it"
    rm -rf "$tmp"
    return 1
  fi
  tar -xzf "$tmp/asset.tar.gz" -C "$tmp"
  install -m 755 "$tmp/tailpolicy-$WANT-$target/tailpolicy" "$BIN_DIR/tailpolicy"
  rm -rf "$tmp"
  echo "installed the release asset $url"
}

cmd_install() {
  mkdir -p "$BIN_DIR"
  if [[ "$(installed_version)" == "tailpolicy $WANT "* ]]; then
    echo "using the cached $(installed_version)"
  elif [ -n "${TP_BIN:-}" ]; then
    # A binary built beforehand (the action's own test, or a workflow that builds it).
    install -m 755 "$TP_BIN" "$BIN_DIR/tailpolicy"
  elif ! try_release_asset; then
    if [ "${TP_NO_BUILD:-}" = 1 ]; then
      echo "::error title=tailpolicy::no release asset for tailpolicy $WANT and building is turned off"
      exit 1
    fi
    echo "no release asset for tailpolicy $WANT: building it with cargo (cached afterwards)"
    local root
    root=$(mktemp -d)
    if [ "$WANT" = "$ACTION_VERSION" ]; then
      cargo install --locked --path "$ACTION_DIR/crates/tailpolicy-cli" --root "$root"
    else
      cargo install --locked --git "$REPO_URL" --tag "v$WANT" tailpolicy-cli --root "$root"
    fi
    install -m 755 "$root/bin/tailpolicy" "$BIN_DIR/tailpolicy"
    rm -rf "$root"
  fi
  echo "$BIN_DIR" >> "${GITHUB_PATH:-/dev/null}"
  output version "$(installed_version)"
  output bin "$BIN_DIR/tailpolicy"
  installed_version
}

cmd_check() {
  local bin=$BIN_DIR/tailpolicy files args status log
  mapfile -t files < <(policy_files)
  args=(check "${files[@]}")
  [ -n "${TP_INVENTORY:-}" ] && args+=(--inventory "${TP_INVENTORY#./}")
  [ -n "${TP_CONFIG:-}" ] && args+=(--config "${TP_CONFIG#./}")
  [ "${TP_DENY_WARNINGS:-false}" = true ] && args+=(--deny-warnings)
  log=$(mktemp)
  set +e
  "$bin" "${args[@]}" --format github | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if [ "${TP_SARIF:-false}" = true ]; then
    local sarif=${RUNNER_TEMP:-/tmp}/tailpolicy.sarif
    # Its exit status is the one above; the log is written whatever it is.
    "$bin" "${args[@]}" --format sarif > "$sarif" || true
    output sarif-file "$sarif"
  fi
  output status "$status"
  {
    echo "### tailpolicy check"
    echo
    case $status in
      0) echo ":white_check_mark: $(tail -n 1 "$log")" ;;
      1) echo ":x: $(tail -n 1 "$log")" ;;
      *) echo ":warning: tailpolicy could not check the policy (exit $status): $(tail -n 1 "$log")" ;;
    esac
    echo
  } | summary
  rm -f "$log"
}

cmd_diff() {
  local bin=$BIN_DIR/tailpolicy base=${TP_DIFF_BASE:?} files review file out status
  if ! "$bin" diff --help >/dev/null 2>&1; then
    echo "::notice title=tailpolicy::$("$bin" --version) has no \`diff\` command: the change review is skipped"
    return 0
  fi
  # actions/checkout fetches one commit by default: fetch the base when it is missing.
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    git fetch -q --depth=1 origin "$base" || true
  fi
  mapfile -t files < <(policy_files)
  local inventory=()
  [ -n "${TP_INVENTORY:-}" ] && inventory=(--inventory "${TP_INVENTORY#./}")
  review=$(mktemp)
  for file in "${files[@]}"; do
    out=$(mktemp)
    set +e
    "$bin" diff "git:$base:$file" "$file" --format markdown "${inventory[@]}" > "$out" 2>&1
    status=$?
    set -e
    # 0 is a review (1 would be a failed gate, which the action does not set); 2 is a side that
    # could not be read or is invalid: a warning, never a failed job.
    if [ "$status" -le 1 ]; then
      cat "$out" >> "$review"
      echo >> "$review"
    else
      echo "::warning title=tailpolicy::could not compare $file with $base: $(head -n 1 "$out")"
    fi
    rm -f "$out"
  done
  if [ -s "$review" ]; then
    summary < "$review"
    if [ -n "${TP_PR_NUMBER:-}" ] && [ -n "${GH_TOKEN:-}" ] && command -v gh >/dev/null; then
      gh pr comment "$TP_PR_NUMBER" --body-file "$review" \
        || echo "::notice title=tailpolicy::the review was not posted as a comment (does the token have pull-requests: write?); it is in the job summary"
    fi
  fi
  rm -f "$review"
}

cmd_finish() {
  local status=${TP_STATUS:-2}
  if [ "$status" != 0 ]; then
    echo "::error title=tailpolicy::tailpolicy check failed (exit $status): see the annotations above"
    exit 1
  fi
}

case "${1:-}" in
  cache-key) cmd_cache_key ;;
  install) cmd_install ;;
  check) cmd_check ;;
  diff) cmd_diff ;;
  finish) cmd_finish ;;
  *) echo "usage: run.sh cache-key|install|check|diff|finish" >&2; exit 2 ;;
esac
