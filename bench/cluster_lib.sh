# cluster_lib.sh: what the cluster benches share, sourced: one job on a fresh `tfmath up` cluster,
# and the median. Needs $tfmath and $tmp; sets $up while a cluster runs (kill it on exit).

# Samples/s of job file $1 on a fresh local cluster of $2 workers of $3 threads each.
run_cluster() {
  local job=$1 workers=$2 threads=$3 state=$tmp/state-$2x$3-$RANDOM
  "$tfmath" up --workers "$workers" --threads "$threads" --state-dir "$state" >"$state.out" 2>"$state.log" &
  up=$!
  for _ in $(seq 100); do grep -q '^export' "$state.out" 2>/dev/null && break; sleep 0.1; done
  local endpoint id
  endpoint=$(sed -n 's/^export TFMATH_COORDINATOR=//p' "$state.out")
  id=$("$tfmath" submit "$job" --wait --coordinator "$endpoint" 2>/dev/null | head -1)
  "$tfmath" result "$id" --json --coordinator "$endpoint" |
    /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["metrics"]["samples_per_s"]))'
  kill "$up"; wait "$up" 2>/dev/null || true; up=
}

# Steady-state samples/s of job file $2 ($3 epochs) run by the tfmath binary $1 on a fresh `tfmath
# up` cluster of 2 workers: the mean of epochs 2 to $3 in the job's log.
steady_samples() {
  local binary=$1 job=$2 epochs=$3 state=$tmp/state-$RANDOM
  "$binary" up --workers 2 --state-dir "$state" >"$state.out" 2>"$state.log" &
  up=$!
  for _ in $(seq 100); do grep -q '^export' "$state.out" 2>/dev/null && break; sleep 0.1; done
  local endpoint id
  endpoint=$(sed -n 's/^export TFMATH_COORDINATOR=//p' "$state.out")
  id=$("$binary" submit "$job" --wait --coordinator "$endpoint" 2>/dev/null | sed -n 1p)
  "$binary" logs "$id" --coordinator "$endpoint" |
    sed -n "s|.*epoch \([0-9]*\)/$epochs: .* \([0-9]*\) samples/s\$|\1 \2|p" |
    awk '$1 > 1 { s += $2; n++ } END { printf "%.0f\n", s / n }'
  kill "$up"; wait "$up" 2>/dev/null || true; up=
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
