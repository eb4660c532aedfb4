#!/usr/bin/env bash
# make bench-load: the candidate (this tree) against the baseline commit,
# interleaved round by round on one machine, with the shared load tool.
#
# Builds bin/spindle, bin/spindle-base (BASE, default 719078c, from a
# throw-away git worktree) and bin/loadgen (from ../shared/loadgen, built out
# of there, never copied), then runs RUNS × REPS rounds; each round runs
# bench.sh once for the base and once for the candidate (each figure on a
# freshly started server), so both see the same machine noise. Prints the
# medians side by side with the ratio and the goal of issue 15.
#
# env: BASE, RUNS (2), REPS (3), ONLY (bench.sh's run names), OUT
# (bench-logs/results.jsonl; appended to), LOADGEN_DIR (../shared/loadgen).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-719078c}
RUNS=${RUNS:-2}
REPS=${REPS:-3}
LOADGEN_DIR=${LOADGEN_DIR:-../shared/loadgen}
OUTDIR=${OUTDIR:-bench-logs}
OUT=${OUT:-$OUTDIR/results-$(date -u +%Y%m%dT%H%M%S).jsonl}
mkdir -p bin "$OUTDIR"

go build -o bin/spindle ./cmd/spindle
if [ ! -x bin/spindle-base ] || [ "$(cat bin/spindle-base.commit 2>/dev/null)" != "$BASE" ]; then
  wt=$(mktemp -d)
  git worktree add -q --detach "$wt" "$BASE"
  (cd "$wt" && go build -o "$OLDPWD/bin/spindle-base" ./cmd/spindle)
  git worktree remove --force "$wt"
  echo "$BASE" > bin/spindle-base.commit
fi
go build -C "$LOADGEN_DIR" -o "$PWD/bin/loadgen" .

for run in $(seq "$RUNS"); do
  for rep in $(seq "$REPS"); do
    for label in base candidate; do
      bin=bin/spindle; [ "$label" = base ] && bin=bin/spindle-base
      echo "bench-load: run $run round $rep: $label" >&2
      SERVER_START="$bin server --config {config}" CONFIG=bench/cf.json PROXY_CONFIG=bench/cf-proxy.json \
        LOADGEN=bin/loadgen REPS=1 LOGDIR="$OUTDIR/logs-$label" \
        bash "$LOADGEN_DIR/bench.sh" "$label" "$OUT"
    done
  done
done
bin/loadgen summarize "$OUT"
node scripts/bench-table.mjs "$OUT"
