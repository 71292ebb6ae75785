#!/usr/bin/env bash
# demo.sh: the README's first command: install, build, then train the linear regression and the
# Fashion-MNIST MLP with `tfmath run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for job in linreg fashion_mlp; do
  echo "== tfmath run examples/$job.capnp"
  build/cli/tfmath run "examples/$job.capnp" --save "$out/$job.params"
done
