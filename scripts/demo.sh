#!/usr/bin/env bash
# demo.sh: the README's first command: install, build, bring up a local cluster (`tfmath up`: a
# coordinator and two workers), submit examples/linreg.capnp and examples/fashion_mlp.capnp,
# print their results, and take the cluster down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
state=$(mktemp -d)
build/cli/tfmath up --workers 2 --state-dir "$state" >"$state/up.out" 2>"$state/up.log" &
up=$!
trap 'kill $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do grep -q '^export' "$state/up.out" 2>/dev/null && break; sleep 0.1; done
eval "$(cat "$state/up.out")"   # export TFMATH_COORDINATOR=...
echo "local cluster up: $TFMATH_COORDINATOR"
for job in linreg fashion_mlp; do
  echo "== tfmath submit examples/$job.capnp, then its log and result"
  id=$(build/cli/tfmath submit "examples/$job.capnp")
  build/cli/tfmath logs "$id" -f
  build/cli/tfmath result "$id"
done
echo "== tfmath metrics $id (the last job's history: windows of steps per rank, and epochs)"
build/cli/tfmath metrics "$id"
echo "== tfmath top --once (the cluster at a glance; without --once, a live full-screen view)"
build/cli/tfmath top --once
