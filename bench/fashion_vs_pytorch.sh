#!/usr/bin/env bash
# Benchmarks tfmath against PyTorch on Fashion-MNIST (one epoch, one thread each) and prints the speed ratios.
#
# Set-up (once, as root; not part of CI):  bench/setup.sh, which runs
#   apt-get install -y python3-torch libopenblas0-pthread dataset-fashion-mnist
# (without libopenblas0-pthread Debian's torch falls back to reference BLAS and is ~10x slower).
#
# Usage:  bench/fashion_vs_pytorch.sh
# Environment:
#   BUILD    the tfmath build folder (default: REPO/build); uses BUILD/cli/tfmath
#   REPEATS  runs of each system per model (default 3); the table shows the medians
#   MODELS   which of "mlp cnn" to run (default both); mlp uses batch 128, cnn batch 64
#   LIMIT    train on only the first LIMIT samples, for a quick smoke test (default: all 60000)
#
# Both sides run one epoch in one process with one thread (OPENBLAS_NUM_THREADS=1 for both, and
# --threads 1 for PyTorch). Runs alternate between the systems, and the order flips every repeat so
# that drift in the machine's speed does not favour either one. Figures are training samples/s as
# each system reports it: tfmath times its optimizer steps, pytorch_fashion.py its epoch loop
# (which drops the last partial batch; tfmath trains on it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${BUILD:-$repo/build}
repeats=${REPEATS:-3}
models=${MODELS:-mlp cnn}
limit=${LIMIT:-}
anchor=$repo/../shared/anchors/pytorch_fashion.py
tfmath=$build/cli/tfmath
python=/usr/bin/python3

die() { echo "fashion_vs_pytorch: $*" >&2; exit 1; }

[[ -x $tfmath ]] || die "no tfmath binary at $tfmath; build the project first, or set BUILD to its build folder"
[[ -f $anchor ]] || die "no PyTorch reference script at $anchor"
[[ $repeats =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer, not '$repeats'"
[[ -z $limit || $limit =~ ^[1-9][0-9]*$ ]] || die "LIMIT must be a positive integer, not '$limit'"
if ! [[ -x $python ]] || ! "$python" -c 'import torch' 2>/dev/null; then
  die "PyTorch is missing: run bench/setup.sh (apt-get install python3-torch ...)"
fi
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] \
  || die "Fashion-MNIST is missing: run bench/setup.sh (apt-get install dataset-fashion-mnist)"
for m in $models; do
  [[ $m == mlp || $m == cnn ]] || die "unknown model '$m' in MODELS (known: mlp cnn)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fashion_vs_pytorch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# Writes a one-epoch copy of examples/fashion_MODEL.capnp (with LIMIT, if set) and prints its path.
make_job() {
  local src=$repo/examples/fashion_$1.capnp job=$tmp/fashion_$1.capnp
  [[ -f $src ]] || die "no example job $src"
  sed -E 's/^([[:space:]]*epochs[[:space:]]*=[[:space:]]*)[0-9]+/\11/' "$src" >"$job"
  grep -Eq '^[[:space:]]*epochs[[:space:]]*=[[:space:]]*1[[:space:]]*,' "$job" \
    || die "could not set epochs = 1 in a copy of $src"
  if [[ -n $limit ]]; then
    sed -i -E "s/data[[:space:]]*=[[:space:]]*\(idx[[:space:]]*=[[:space:]]*\(/&limit = $limit, /" "$job"
    grep -q "limit = $limit," "$job" || die "could not add limit = $limit to a copy of $src"
  fi
  echo "$job"
}

# Prints "SAMPLES_PER_S ACCURACY%" for one tfmath run of job $1.
run_tfmath() {
  local out line
  if ! out=$("$tfmath" run "$1" --save "$tmp/x.params" 2>&1); then
    printf '%s\n' "$out" | tail -n 20 >&2
    die "tfmath run $1 failed"
  fi
  rm -f "$tmp/x.params"
  line=$(printf '%s\n' "$out" | grep '^final:' | tail -n 1) || true
  [[ $line =~ accuracy\ ([0-9.]+)%\ +([0-9]+)\ samples/s ]] \
    || { printf '%s\n' "$out" | tail -n 5 >&2; die "no 'final: ... samples/s' line in tfmath's output"; }
  echo "${BASH_REMATCH[2]} ${BASH_REMATCH[1]}%"
}

# Prints "SAMPLES_PER_S ACCURACY%" for one PyTorch run of model $1 with batch $2.
run_pytorch() {
  local out args=(--model "$1" --batch "$2" --epochs 1 --threads 1)
  [[ -n $limit ]] && args+=(--limit "$limit")
  if ! out=$("$python" "$anchor" "${args[@]}" 2>"$tmp/pytorch.err"); then
    tail -n 20 "$tmp/pytorch.err" >&2
    die "pytorch_fashion.py ${args[*]} failed"
  fi
  [[ $out =~ \"samples_per_s\":\ ([0-9]+) ]] || die "no samples_per_s in PyTorch's output: $out"
  local sps=${BASH_REMATCH[1]} acc='?'
  [[ $out =~ \"test_acc\":\ ([0-9.]+) ]] && acc=$(awk -v a="${BASH_REMATCH[1]}" 'BEGIN { printf "%.2f", 100 * a }')
  echo "$sps $acc%"
}

median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "tfmath:  $tfmath"
echo "pytorch: $("$python" -c 'import torch; print(torch.__version__)') ($anchor)"
echo "repeats: $repeats   models: $models${limit:+   limit: $limit samples (smoke test; figures not comparable)}"
echo

declare -A tf_med pt_med
for m in $models; do
  case $m in mlp) batch=128 ;; cnn) batch=64 ;; esac
  job=$(make_job "$m")
  tf=() pt=()
  for ((r = 1; r <= repeats; r++)); do
    order=(tfmath pytorch)
    ((r % 2 == 0)) && order=(pytorch tfmath)
    for sys in "${order[@]}"; do
      if [[ $sys == tfmath ]]; then res=$(run_tfmath "$job"); tf+=("${res%% *}")
      else res=$(run_pytorch "$m" "$batch"); pt+=("${res%% *}"); fi
      printf '%-4s batch %-3d run %d/%d  %-8s %8d samples/s  test accuracy %s\n' \
        "$m" "$batch" "$r" "$repeats" "$sys" "${res%% *}" "${res#* }"
    done
  done
  tf_med[$m]=$(median "${tf[@]}")
  pt_med[$m]=$(median "${pt[@]}")
done

echo
printf '%-6s %-6s %18s %18s %18s\n' model batch "tfmath samples/s" "pytorch samples/s" "tfmath/pytorch"
for m in $models; do
  case $m in mlp) batch=128 ;; cnn) batch=64 ;; esac
  printf '%-6s %-6d %18d %18d %18s\n' "$m" "$batch" "${tf_med[$m]}" "${pt_med[$m]}" \
    "$(awk -v a="${tf_med[$m]}" -v b="${pt_med[$m]}" 'BEGIN { printf "%.2fx", a / b }')"
done
echo "(medians of $repeats run(s) each)"
