#!/usr/bin/env bash
# cpu_layout.sh: the two ways to use a 2-core host on `tfmath up`, side by side in one run: 2 workers
# of 1 thread (data parallel over a loopback allreduce) against 1 worker of 2 threads (the GEMMs,
# convolutions and element-wise passes split over the cores). fashion_mlp for 3 epochs and
# fashion_cnn for 1, layouts taken in turn; prints the medians and their ratios.
# Env: BUILD, REPEATS (default 3), MODELS (default "mlp cnn").
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
tfmath=${BUILD:-$repo/build}/cli/tfmath
repeats=${REPEATS:-3}
[[ -x $tfmath ]] || { echo "no tfmath at $tfmath; build first" >&2; exit 1; }
tmp=$(mktemp -d)
up=
cleanup() { [[ -n $up ]] && kill "$up" 2>/dev/null && wait "$up" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
source "$here/cluster_lib.sh"

# examples/fashion_$1.capnp for $2 epochs on $3 workers.
job() {
  sed -E "s/epochs = [0-9]+/epochs = $2/; s/workers = [0-9]+/workers = $3/" \
    "$repo/examples/fashion_$1.capnp" >"$tmp/$1-$3.capnp"
  echo "$tmp/$1-$3.capnp"
}

for model in ${MODELS:-mlp cnn}; do
  epochs=$([[ $model == mlp ]] && echo 3 || echo 1)
  declare -a split=() threaded=()
  for ((r = 1; r <= repeats; r++)); do
    split+=("$(run_cluster "$(job "$model" "$epochs" 2)" 2 1)")
    threaded+=("$(run_cluster "$(job "$model" "$epochs" 1)" 1 2)")
    echo "fashion_$model run $r: 2 workers x 1 thread ${split[-1]}, 1 worker x 2 threads ${threaded[-1]} samples/s"
  done
  S=$(median "${split[@]}") T=$(median "${threaded[@]}")
  echo "fashion_$model, medians of $repeats: 2x1 $S, 1x2 $T samples/s; 1x2 / 2x1 = $(ratio "$T" "$S")"
done
