#!/usr/bin/env bash
# finetune.sh: trains a model, then fine-tunes it from the trained parameters at a lower learning
# rate, as two jobs: the second waits for the first (--dependency afterok) and starts from its
# result (--init-from). Both are submitted at once, so the script needs nothing between them.
#   examples/batch/finetune.sh [JOB] [EPOCHS] [FINE_TUNE_RATE]
# Defaults: examples/fashion_mlp.capnp, 2 epochs, then 1 epoch at 0.01. Needs a cluster (tfmath up,
# then the export line it prints) and tfmath on the PATH. The exit status is tfmath wait's.
set -euo pipefail
job=${1:-$(dirname "$0")/../fashion_mlp.capnp}
epochs=${2:-2}
rate=${3:-0.01}

base=$(tfmath submit "$job" --set epochs="$epochs" --parsable)
tuned=$(tfmath submit "$job" --set epochs=1 --set optimizer.sgd.learningRate="$rate" \
          --set name=fine-tuned --dependency afterok:"$base" --init-from "$base" --parsable)
echo "trains $base, then fine-tunes it as $tuned"

status=0
tfmath wait "$base" "$tuned" || status=$?
exit "$status"
