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
for n in "$every" 0; do
  sed -E "s/epochs = [0-9]+/epochs = $epochs/; s/workers = [0-9]+/workers = 2, checkpointEvery = $n/" \
    "$repo/examples/fashion_mlp.capnp" >"$tmp/every$n.capnp"
done

# Steady-state samples/s of one run of job file $1: the mean of epochs 2 to EPOCHS in the job's
# log.
run() {
  local state=$tmp/state-$RANDOM
  "$tfmath" up --workers 2 --state-dir "$state" >"$state.out" 2>"$state.log" &
  up=$!
  for _ in $(seq 100); do grep -q '^export' "$state.out" 2>/dev/null && break; sleep 0.1; done
  local endpoint id
  endpoint=$(sed -n 's/^export TFMATH_COORDINATOR=//p' "$state.out")
  id=$("$tfmath" submit "$1" --wait --coordinator "$endpoint" 2>/dev/null | sed -n 1p)
  "$tfmath" logs "$id" --coordinator "$endpoint" |
    sed -n "s|.*epoch \([0-9]*\)/$epochs: .* \([0-9]*\) samples/s\$|\1 \2|p" |
    awk '$1 > 1 { s += $2; n++ } END { printf "%.0f\n", s / n }'
  kill "$up"; wait "$up" 2>/dev/null || true; up=
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

for i in $(seq "$repeats"); do
  if (( i % 2 )); then order="$every 0"; else order="0 $every"; fi
  for n in $order; do run "$tmp/every$n.capnp" >>"$tmp/runs$n"; done
done
c=$(median <"$tmp/runs$every"); z=$(median <"$tmp/runs0")
echo "checkpointEvery = $every: $(tr '\n' ' ' <"$tmp/runs$every")"
echo "checkpointEvery = 0:   $(tr '\n' ' ' <"$tmp/runs0")"
printf 'median samples/s: every %s steps %s, only at the end %s, ratio %.3f (cost %.1f%%)\n' \
  "$every" "$c" "$z" "$(awk -v c="$c" -v z="$z" 'BEGIN { print c / z }')" \
  "$(awk -v c="$c" -v z="$z" 'BEGIN { print 100 * (1 - c / z) }')"
