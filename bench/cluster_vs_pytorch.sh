#!/usr/bin/env bash
# cluster_vs_pytorch.sh: fashion_mlp for one epoch at global batch 128 on a local tfmath cluster of 1
# and 2 workers, beside PyTorch in one process and PyTorch DDP with 2 processes over Gloo; prints the
# medians and their ratios. Set-up: bench/setup.sh. Env: BUILD, REPEATS (default 3).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
tfmath=${BUILD:-$repo/build}/cli/tfmath
repeats=${REPEATS:-3}
anchor=$repo/../shared/anchors/pytorch_fashion.py
[[ -x $tfmath ]] || { echo "no tfmath at $tfmath; build first" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "PyTorch missing: run bench/setup.sh" >&2; exit 1; }
tmp=$(mktemp -d)
up=
cleanup() { [[ -n $up ]] && kill "$up" 2>/dev/null && wait "$up" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# One epoch of examples/fashion_mlp.capnp on W workers.
job() {
  sed -E "s/epochs = [0-9]+/epochs = 1/; s/workers = [0-9]+/workers = $1/" "$repo/examples/fashion_mlp.capnp" >"$tmp/mlp$1.capnp"
  echo "$tmp/mlp$1.capnp"
}

source "$here/cluster_lib.sh"

run_pytorch() {
  /usr/bin/python3 "$anchor" --model mlp --batch 128 --epochs 1 --threads 1 --world "$1" 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples_per_s"])'
}

declare -a t1 t2 p1 p2
for ((r = 1; r <= repeats; r++)); do
  t1+=("$(run_cluster "$(job 1)" 1 1)"); t2+=("$(run_cluster "$(job 2)" 2 1)")
  p1+=("$(run_pytorch 1)"); p2+=("$(run_pytorch 2)")
  echo "run $r: tfmath 1 worker ${t1[-1]}, 2 workers ${t2[-1]}; pytorch 1 process ${p1[-1]}, DDP 2 ${p2[-1]} samples/s"
done
T1=$(median "${t1[@]}") T2=$(median "${t2[@]}") P1=$(median "${p1[@]}") P2=$(median "${p2[@]}")
echo
echo "medians of $repeats: tfmath 1 worker $T1, 2 workers $T2; pytorch 1 process $P1, DDP 2 processes $P2 samples/s"
echo "tfmath 2 workers / PyTorch DDP 2:      $(ratio "$T2" "$P2")   (target >= 2.0x)"
echo "tfmath 2 workers / PyTorch 1 process:  $(ratio "$T2" "$P1")   (target >= 1.0x)"
echo "tfmath 2 workers / tfmath 1 worker:    $(ratio "$T2" "$T1")   (target >= 1.6x)"
