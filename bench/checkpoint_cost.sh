#!/usr/bin/env bash
# checkpoint_cost.sh: what rank 0's checkpoints cost a cluster job's training:
# examples/fashion_mlp.capnp for EPOCHS epochs on a fresh `tfmath up` cluster of 2 workers, with a
# checkpoint every EVERY steps against one only at the end (checkpointEvery = 0), runs
# alternating. Prints the median steady-state samples/s (epochs 2 to EPOCHS, from the job's log)
# of each and their ratio. Env: BUILD, REPEATS (default 5), EVERY (default 200, the default of
# the field), EPOCHS (default 6).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
tfmath=${BUILD:-$repo/build}/cli/tfmath
repeats=${REPEATS:-5}
every=${EVERY:-200}
epochs=${EPOCHS:-6}
tmp=$(mktemp -d)
up=
cleanup() { [[ -n $up ]] && kill "$up" 2>/dev/null && wait "$up" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
source "$here/cluster_lib.sh"
for n in "$every" 0; do
  sed -E "s/epochs = [0-9]+/epochs = $epochs/; s/workers = [0-9]+/workers = 2, checkpointEvery = $n/" \
    "$repo/examples/fashion_mlp.capnp" >"$tmp/every$n.capnp"
done

for i in $(seq "$repeats"); do
  if (( i % 2 )); then order="$every 0"; else order="0 $every"; fi
  for n in $order; do steady_samples "$tfmath" "$tmp/every$n.capnp" "$epochs" >>"$tmp/runs$n"; done
done
c=$(median $(cat "$tmp/runs$every")); z=$(median $(cat "$tmp/runs0"))
echo "checkpointEvery = $every: $(tr '\n' ' ' <"$tmp/runs$every")"
echo "checkpointEvery = 0:   $(tr '\n' ' ' <"$tmp/runs0")"
printf 'median samples/s: every %s steps %s, only at the end %s, ratio %.3f (cost %.1f%%)\n' \
  "$every" "$c" "$z" "$(awk -v c="$c" -v z="$z" 'BEGIN { print c / z }')" \
  "$(awk -v c="$c" -v z="$z" 'BEGIN { print 100 * (1 - c / z) }')"
