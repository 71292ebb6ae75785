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
source "$here/cluster_lib.sh"
sed -E "s/epochs = [0-9]+/epochs = 3/; s/workers = [0-9]+/workers = 2/" \
  "$repo/examples/fashion_mlp.capnp" >"$tmp/mlp.capnp"

for i in $(seq "$repeats"); do
  steady_samples "$baseline" "$tmp/mlp.capnp" 3 >>"$tmp/base"
  steady_samples "$tfmath" "$tmp/mlp.capnp" 3 >>"$tmp/ours"
done
b=$(median $(cat "$tmp/base")); o=$(median $(cat "$tmp/ours"))
echo "baseline runs: $(tr '\n' ' ' <"$tmp/base")"
echo "this build:    $(tr '\n' ' ' <"$tmp/ours")"
printf 'median samples/s: baseline %s, this build %s, ratio %.3f\n' "$b" "$o" \
  "$(awk -v o="$o" -v b="$b" 'BEGIN { print o / b }')"
