#!/usr/bin/env bash
# Peak memory and time of a build whose only dataset is one large CSV (issue: hostile inputs,
# a 500,000-row CSV), as a ratio to the CSV's size.
#
#   bash bench/big-csv.sh               # 500,000 rows, in /tmp/driftless-big-csv
#   ROWS=100000 DERIVED=1 bash bench/big-csv.sh   # with three derived columns, one relative to an aggregate
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-500000}
DERIVED=${DERIVED:-0}
DIR=${BENCH_DIR:-/tmp/driftless-big-csv}
DRIFTLESS=${DRIFTLESS:-$REPO/target/release/driftless}
[ -n "${DRIFTLESS_SKIP_BUILD:-}" ] || (cd "$REPO" && cargo build --release --quiet)

rm -rf "$DIR" && mkdir -p "$DIR/content" "$DIR/data"
printf -- '---\ntitle: Home\n---\nHome.\n' > "$DIR/content/index.md"
if [ "$DERIVED" = 1 ]; then
  cat > "$DIR/data/big.yaml" <<'YAML'
title: Big
key: id
columns:
  id: { type: text }
  v: { unit: W }
  h: { unit: h }
  kwh: { unit: kWh, formula: "v * h" }
  share: { formula: "kwh / sum(big.kwh)", style: percent, precision: 4 }
  cost: { unit: EUR, formula: "kwh * 0.3[EUR/kWh]" }
YAML
  python3 - "$ROWS" > "$DIR/data/big.csv" <<'PY'
import random, sys
random.seed(1)
print("id,v,h")
for i in range(int(sys.argv[1])):
    print(f"r{i},{random.uniform(10, 1000):.1f},{random.randint(1, 24)}")
PY
else
  printf 'title: Big\nkey: id\ncolumns:\n  id: { type: text }\n  v: { unit: W }\n' > "$DIR/data/big.yaml"
  python3 - "$ROWS" > "$DIR/data/big.csv" <<'PY'
import random, sys
random.seed(1)
print("id,v")
for i in range(int(sys.argv[1])):
    print(f"r{i},{random.uniform(10, 1000):.1f}")
PY
fi

csv_bytes=$(stat -c %s "$DIR/data/big.csv")
(cd "$DIR" && DRIFTLESS_TIMINGS=1 /usr/bin/time -v "$DRIFTLESS" build > "$DIR/build.out" 2> "$DIR/time.txt")
rss_kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$DIR/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$DIR/time.txt")
grep -E '^ +data:' "$DIR/time.txt" || true
python3 - "$ROWS" "$csv_bytes" "$rss_kb" "$wall" <<'PY'
import sys
rows, size, rss_kb, wall = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rss = rss_kb * 1024
print(f"{rows:,} rows, CSV {size / 1e6:.1f} MB: peak RSS {rss / 1e6:.0f} MB = {rss / size:.1f}x the CSV, wall {wall}")
PY
