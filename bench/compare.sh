#!/usr/bin/env bash
# compare.sh [SIZE] — generate an audit log of SIZE (default 1GB) and print, from one run,
# ktrail's full-index time against grep -c and jq on the same file, heap bytes per event,
# and the time until the first 1,000 events are queryable. Ratios, not absolute times,
# are what to compare: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GB}
out=bench/out
mkdir -p "$out"
log="$out/audit-$size.log"
bin="$out/ktrail"
go build -o "$bin" ./cmd/ktrail
if [ ! -s "$log" ]; then
  echo "generating $log …"
  "$bin" gen --seed 42 --size "$size" --out "$log"
fi
bytes=$(stat -c %s "$log")
echo "file: $log ($bytes bytes)"
cat "$log" > /dev/null # warm the page cache for every tool alike

now() { date +%s.%N; }
t0=$(now); g=$(grep -c '"verb":"delete"' "$log" || true); t1=$(now)
grep_s=$(echo "$t1 - $t0" | bc)
echo "grep -c:           $grep_s s  (delete events: $g)"

t0=$(now); k=$("$bin" query --count -e 'verb == "delete"' "$log" 2> "$out/stats.txt"); t1=$(now)
k_s=$(echo "$t1 - $t0" | bc)
echo "ktrail query:      $k_s s  (delete events: $k)"
"$bin" query --count --stats "$log" 2> "$out/stats.txt" > /dev/null || true
cat "$out/stats.txt"

if command -v jq > /dev/null; then
  t0=$(now); j=$(jq -c 'select(.verb == "delete") | 1' "$log" | wc -l); t1=$(now)
  jq_s=$(echo "$t1 - $t0" | bc)
  echo "jq select:         $jq_s s  (delete events: $j)"
else
  jq_s=""
  echo "jq: not installed"
fi

echo
echo "ratios (lower is better for ktrail):"
echo "  ktrail / grep -c : $(echo "scale=2; $k_s / $grep_s" | bc)   (target ≤ 2.0)"
[ -n "$jq_s" ] && echo "  ktrail / jq      : $(echo "scale=3; $k_s / $jq_s" | bc)"
grep -o 'heap_per_event=[0-9.]*' "$out/stats.txt" | sed 's/^/  /; s/$/ B   (target ≤ 100)/'
grep -o 'first1000_ms=[0-9.]*' "$out/stats.txt" | sed 's/^/  /; s/$/ ms (target ≤ 100)/'
# grep counts lines containing the text anywhere (bodies too); jq and ktrail count the field.
[ -z "$jq_s" ] || [ "$j" = "$k" ] || { echo "MISMATCH: jq $j vs ktrail $k"; exit 1; }
