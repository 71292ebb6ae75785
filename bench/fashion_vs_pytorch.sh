#!/usr/bin/env bash
# Benchmarks tfmath against PyTorch on Fashion-MNIST over several epochs (THREADS threads each, 1 by default) and prints
# the first epoch's speed and the steady state's apart, with the ratios.
#
# Set-up (once, as root; not part of CI):  bench/setup.sh, which runs
#   apt-get install -y python3-torch libopenblas0-pthread dataset-fashion-mnist
# (without libopenblas0-pthread Debian's torch falls back to reference BLAS and is ~10x slower).
# Today's PyTorch as a further reference: ../shared/anchors/setup-pypi-anchors.sh DIR, then
# PYTORCH2=DIR/bin/python.
#
# Usage:  bench/fashion_vs_pytorch.sh
# Environment:
#   BUILD     the tfmath build folder (default: REPO/build); uses BUILD/cli/tfmath
#   BASELINE  another tfmath binary to compare with (an older build), optional
#   PYTORCH2  a Python with a newer PyTorch (the PyPI anchors' venv), optional
#   EPOCHS    epochs per run (default 3, at least 2): the first is timed apart from the rest
#   REPEATS   runs of each system per model (default 3); the table shows the medians
#   MODELS    which of "mlp cnn" to run (default both); mlp uses batch 128, cnn batch 64
#   LIMIT     train on only the first LIMIT samples, for a quick smoke test (default: all 60000)
#   THREADS   threads of every system (default 1)
#
# Every system runs in one process with THREADS threads (OMP_NUM_THREADS and OPENBLAS_NUM_THREADS,
# which tfmath takes as its default, and torch.set_num_threads).
# Runs rotate between the systems, starting one later every repeat, so that drift in the machine's
# speed favours none. "first" is the first epoch's training samples/s; "steady" is the samples/s of
# epochs 2..EPOCHS together (their samples over their time). tfmath reports each epoch's speed on its
# epoch line; PyTorch is timed per epoch by bench/pytorch_epochs.py (the anchor's model, optimizer and
# sample order). A tfmath binary without per-epoch speeds (an old BASELINE) runs twice, for 1 and for
# EPOCHS epochs, and its steady state is derived from the two averages.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build=${BUILD:-$repo/build}
baseline=${BASELINE:-}
pytorch2=${PYTORCH2:-}
epochs=${EPOCHS:-3}
repeats=${REPEATS:-3}
models=${MODELS:-mlp cnn}
limit=${LIMIT:-}
threads=${THREADS:-1}
anchor=$repo/../shared/anchors/pytorch_fashion.py
tfmath=$build/cli/tfmath
python=/usr/bin/python3

die() { echo "fashion_vs_pytorch: $*" >&2; exit 1; }

[[ -x $tfmath ]] || die "no tfmath binary at $tfmath; build the project first, or set BUILD to its build folder"
[[ -z $baseline || -x $baseline ]] || die "BASELINE $baseline is not an executable"
[[ -z $pytorch2 || -x $pytorch2 ]] || die "PYTORCH2 $pytorch2 is not an executable"
[[ -f $anchor ]] || die "no PyTorch reference script at $anchor"
[[ $repeats =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer, not '$repeats'"
[[ $epochs =~ ^[1-9][0-9]*$ && $epochs -ge 2 ]] || die "EPOCHS must be an integer >= 2, not '$epochs'"
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

[[ $threads =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, not '$threads'"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

# Writes a copy of examples/fashion_MODEL.capnp with $2 epochs (and LIMIT, if set); prints its path.
make_job() {
  local src=$repo/examples/fashion_$1.capnp job=$tmp/fashion_$1_$2.capnp
  [[ -f $src ]] || die "no example job $src"
  sed -E "s/^([[:space:]]*epochs[[:space:]]*=[[:space:]]*)[0-9]+/\1$2/" "$src" >"$job"
  grep -Eq "^[[:space:]]*epochs[[:space:]]*=[[:space:]]*$2[[:space:]]*," "$job" \
    || die "could not set epochs = $2 in a copy of $src"
  if [[ -n $limit ]]; then
    sed -i -E "s/data[[:space:]]*=[[:space:]]*\(idx[[:space:]]*=[[:space:]]*\(/&limit = $limit, /" "$job"
    grep -q "limit = $limit," "$job" || die "could not add limit = $limit to a copy of $src"
  fi
  echo "$job"
}

# Runs tfmath binary $1 on job $2; prints its output.
tfmath_output() {
  local out
  if ! out=$("$1" run "$2" --save "$tmp/x.params" 2>&1); then
    printf '%s\n' "$out" | tail -n 20 >&2
    die "$1 run $2 failed"
  fi
  rm -f "$tmp/x.params" "$tmp/x.metrics"
  printf '%s\n' "$out"
}

# "FIRST STEADY ACCURACY%" from per-epoch speeds (one per line on stdin).
first_and_steady() {
  awk -v acc="$1" 'NR == 1 { first = $1; next } { time += 1 / $1; n++ }
    END { printf "%.0f %.0f %s\n", first, n / time, acc }'
}

# Prints "FIRST STEADY ACCURACY%" for tfmath binary $1 on model $2.
run_tfmath() {
  local out acc rates
  out=$(tfmath_output "$1" "$(make_job "$2" "$epochs")")
  [[ $(printf '%s\n' "$out" | grep '^final:') =~ accuracy\ ([0-9.]+)% ]] \
    || die "no 'final: ... accuracy' line in $1's output"
  acc=${BASH_REMATCH[1]}%
  rates=$(printf '%s\n' "$out" | sed -nE 's|^epoch [0-9]+/[0-9]+: .*  ([0-9]+) samples/s$|\1|p')
  if [[ $(wc -l <<<"$rates") -eq $epochs && -n $rates ]]; then
    first_and_steady "$acc" <<<"$rates"
    return
  fi
  # No per-epoch speeds: a 1-epoch run gives the first epoch, the averages give the rest.
  local all one
  [[ $(printf '%s\n' "$out" | grep '^final:') =~ \ ([0-9]+)\ samples/s ]] || die "no samples/s from $1"
  all=${BASH_REMATCH[1]}
  [[ $(tfmath_output "$1" "$(make_job "$2" 1)" | grep '^final:') =~ \ ([0-9]+)\ samples/s ]] \
    || die "no samples/s from $1"
  one=${BASH_REMATCH[1]}
  awk -v e="$epochs" -v all="$all" -v one="$one" -v acc="$acc" \
    'BEGIN { printf "%.0f %.0f %s\n", one, (e - 1) / (e / all - 1 / one), acc }'
}

# Prints "FIRST STEADY ACCURACY%" for PyTorch under Python $1 on model $2 with batch $3.
run_pytorch() {
  local out args=(--anchor "$anchor" --model "$2" --batch "$3" --epochs "$epochs" --threads "$threads")
  [[ -n $limit ]] && args+=(--limit "$limit")
  if ! out=$("$1" "$here/pytorch_epochs.py" "${args[@]}" 2>"$tmp/pytorch.err"); then
    tail -n 20 "$tmp/pytorch.err" >&2
    die "pytorch_epochs.py ${args[*]} failed under $1"
  fi
  [[ $out =~ \"epoch_samples_per_s\":\ \[([0-9,\ ]+)\] ]] || die "no epoch speeds from PyTorch: $out"
  local rates=${BASH_REMATCH[1]} acc='?'
  [[ $out =~ \"test_acc\":\ ([0-9.]+) ]] && acc=$(awk -v a="${BASH_REMATCH[1]}" 'BEGIN { printf "%.2f", 100 * a }')
  tr -d ' ' <<<"$rates" | tr ',' '\n' | first_and_steady "$acc%"
}

median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

systems=(tfmath)
[[ -n $baseline ]] && systems+=(baseline)
systems+=(pytorch)
[[ -n $pytorch2 ]] && systems+=(pytorch2)
declare -A label=([tfmath]=tfmath [baseline]="tfmath-baseline"
  [pytorch]="pytorch-$("$python" -c 'import torch; print(torch.__version__)')")
[[ -n $pytorch2 ]] && label[pytorch2]="pytorch-$("$pytorch2" -c 'import torch; print(torch.__version__)' 2>/dev/null)"

echo "tfmath:   $tfmath"
[[ -n $baseline ]] && echo "baseline: $baseline"
echo "pytorch:  ${label[pytorch]} ($python)${pytorch2:+, ${label[pytorch2]} ($pytorch2)}"
echo "epochs: $epochs   repeats: $repeats   models: $models${limit:+   limit: $limit samples (smoke test; figures not comparable)}"
echo

declare -A first_med steady_med
for m in $models; do
  case $m in mlp) batch=128 ;; cnn) batch=64 ;; esac
  declare -A firsts=() steadies=()
  for ((r = 0; r < repeats; r++)); do
    for ((k = 0; k < ${#systems[@]}; k++)); do
      sys=${systems[(k + r) % ${#systems[@]}]}
      case $sys in
        tfmath) res=$(run_tfmath "$tfmath" "$m") ;;
        baseline) res=$(run_tfmath "$baseline" "$m") ;;
        pytorch) res=$(run_pytorch "$python" "$m" "$batch") ;;
        pytorch2) res=$(run_pytorch "$pytorch2" "$m" "$batch") ;;
      esac
      read -r f s acc <<<"$res"
      firsts[$sys]+="$f "
      steadies[$sys]+="$s "
      printf '%-4s batch %-3d run %d/%d  %-22s first %8d  steady %8d samples/s  test accuracy %s\n' \
        "$m" "$batch" "$((r + 1))" "$repeats" "${label[$sys]}" "$f" "$s" "$acc"
    done
  done
  for sys in "${systems[@]}"; do
    # shellcheck disable=SC2086
    first_med[$m,$sys]=$(median ${firsts[$sys]})
    # shellcheck disable=SC2086
    steady_med[$m,$sys]=$(median ${steadies[$sys]})
  done
done

echo
printf '%-5s %-22s %14s %14s %16s %16s\n' model system "first s/s" "steady s/s" "tfmath/it first" "tfmath/it steady"
for m in $models; do
  for sys in "${systems[@]}"; do
    printf '%-5s %-22s %14d %14d %16s %16s\n' "$m" "${label[$sys]}" "${first_med[$m,$sys]}" \
      "${steady_med[$m,$sys]}" \
      "$(awk -v a="${first_med[$m,tfmath]}" -v b="${first_med[$m,$sys]}" 'BEGIN { printf "%.2fx", a / b }')" \
      "$(awk -v a="${steady_med[$m,tfmath]}" -v b="${steady_med[$m,$sys]}" 'BEGIN { printf "%.2fx", a / b }')"
  done
done
echo "(medians of $repeats run(s) each; steady = epochs 2..$epochs)"
