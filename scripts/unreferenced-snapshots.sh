#!/usr/bin/env bash
# Fails when a committed insta snapshot (`*.snap`) was not asserted by the test run that wrote
# REFS (a run with INSTA_SNAPSHOT_REFERENCES_FILE=REFS; insta appends each snapshot it checks).
# The same check as `cargo insta test --unreferenced=reject`, without installing cargo-insta.
#
#   usage: scripts/unreferenced-snapshots.sh REFS
set -euo pipefail
refs=${1:?usage: $0 REFS}
root=$(cd "$(dirname "$0")/.." && pwd -P)
[ -s "$refs" ] || { echo "error: $refs is empty: no snapshot test ran" >&2; exit 1; }
orphans=$(comm -23 \
  <(find "$root" \( -path "$root/target" -o -name node_modules -o -name .git \) -prune \
      -o -name '*.snap' -type f -print | sort -u) \
  <(while IFS= read -r path; do realpath -m "$path"; done <"$refs" | sort -u))
if [ -n "$orphans" ]; then
  echo "error: snapshots no test asserts (delete them, or restore the test that wrote them):" >&2
  echo "$orphans" | sed "s|^$root/|  |" >&2
  exit 1
fi
echo "snapshots: $(sort -u "$refs" | wc -l) asserted, none unreferenced"
