#!/usr/bin/env bash
# Issue 14, item 6: the generated company-shaped tailnet at 2,500, 5,000 and 10,000 nodes
# (rules = nodes / 5: 500, 1,000, 2,000 rules; groups, hosts, HA subnet routers, exit nodes; a
# `tests` block of 200 assertions), and for each size the time (user seconds), peak memory
# (maximum resident set, `/usr/bin/time`) and output bytes of every command.
#
#   cargo build --release -p tailpolicy-cli -p tailpolicy-benches --example write_tailnet
#   bash benches/scale.sh [SIZES...]        # default: 2500 5000 10000
#
# Prints a Markdown table. Whole-tailnet `compile` output is counted, not kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tp=${TAILPOLICY:-$root/target/release/tailpolicy}
gen=$root/target/release/examples/write_tailnet
work=${SCALE_DIR:-${TMPDIR:-/tmp}/tailpolicy-scale}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(2500 5000 10000)

# measure NAME CMD...: one row (user s, wall s, peak RSS MB, output bytes).
measure() {
  local name=$1; shift
  local bytes
  bytes=$( { /usr/bin/time -f '%U %e %M' -o "$work/time" "$@" || true; } | wc -c)
  read -r user wall rss < "$work/time"
  printf '| %s | %s | %s | %.1f | %s |\n' "$name" "$user" "$wall" "$(echo "$rss / 1024" | bc -l)" "$bytes"
}

mkdir -p "$work"
for n in "${sizes[@]}"; do
  dir=$work/t$n
  [ -f "$dir/policy.hujson" ] || "$gen" "$n" $((n / 5)) "$dir" 200
  p=$dir/policy.hujson
  inv=(--inventory "$dir/inventory.json")
  echo
  echo "### $n nodes, $((n / 5)) rules ($(wc -c < "$p") B policy, $(wc -c < "$dir/inventory.json") B inventory)"
  echo
  echo '| command | user s | wall s | peak RSS MB | output B |'
  echo '| --- | ---: | ---: | ---: | ---: |'
  measure check "$tp" check "$p" "${inv[@]}" --format json
  measure compile "$tp" compile "$p" "${inv[@]}"
  measure "compile --node (user device)" "$tp" compile "$p" "${inv[@]}" --node user5-laptop
  measure "compile --node (router)" "$tp" compile "$p" "${inv[@]}" --node router-1
  measure "compile --node (exit node)" "$tp" compile "$p" "${inv[@]}" --node exit-0
  measure query "$tp" query "$p" "${inv[@]}" --src user5@example.com --dst tag:web-3:443
  measure "reach --from" "$tp" reach "$p" "${inv[@]}" --from user5@example.com
  measure "reach --to" "$tp" reach "$p" "${inv[@]}" --to tag:web-3:443
  measure "test (200 assertions)" "$tp" test "$p" "${inv[@]}"
done
