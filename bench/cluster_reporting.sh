#!/usr/bin/env bash
# cluster_reporting.sh: what a cluster job's reporting (progress, and every rank's metrics points)
# costs its training: examples/fashion_mlp.capnp for 3 epochs on a fresh `tfmath up` cluster of 2
# workers, this build beside BASELINE (another tfmath binary, e.g. a build from before a change),
# runs alternating. Prints the median steady-state samples/s (epochs 2-3, from the job's log) of
# each and their ratio. Env: BUILD, BASELINE (required), REPEATS (default 5).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
tfmath=${BUILD:-$repo/build}/cli/tfmath
baseline=${BASELINE:?set BASELINE to the tfmath binary to compare with}
repeats=${REPEATS:-5}
tmp=$(mktemp -d)
up=
cleanup() { [[ -n $up ]] && kill "$up" 2>/dev/null && wait "$up" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
sed -E "s/epochs = [0-9]+/epochs = 3/; s/workers = [0-9]+/workers = 2/" \
  "$repo/examples/fashion_mlp.capnp" >"$tmp/mlp.capnp"

# Steady-state samples/s of one run of binary $1: the mean of epochs 2 and 3 in the job's log.
run() {
  local state=$tmp/state-$RANDOM
  "$1" up --workers 2 --state-dir "$state" >"$state.out" 2>"$state.log" &
  up=$!
  for _ in $(seq 100); do grep -q '^export' "$state.out" 2>/dev/null && break; sleep 0.1; done
  local endpoint id
  endpoint=$(sed -n 's/^export TFMATH_COORDINATOR=//p' "$state.out")
  id=$("$1" submit "$tmp/mlp.capnp" --wait --coordinator "$endpoint" 2>/dev/null | head -1)
  "$1" logs "$id" --coordinator "$endpoint" |
    sed -n 's|.*epoch \([23]\)/3: .* \([0-9]*\) samples/s$|\2|p' |
    awk '{ s += $1; n++ } END { printf "%.0f\n", s / n }'
  kill "$up"; wait "$up" 2>/dev/null || true; up=
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

for i in $(seq "$repeats"); do
  run "$baseline" >>"$tmp/base"
  run "$tfmath" >>"$tmp/ours"
done
b=$(median <"$tmp/base"); o=$(median <"$tmp/ours")
echo "baseline runs: $(tr '\n' ' ' <"$tmp/base")"
echo "this build:    $(tr '\n' ' ' <"$tmp/ours")"
printf 'median samples/s: baseline %s, this build %s, ratio %.3f\n' "$b" "$o" \
  "$(awk -v o="$o" -v b="$b" 'BEGIN { print o / b }')"
