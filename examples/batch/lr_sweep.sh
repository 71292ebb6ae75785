#!/usr/bin/env bash
# lr_sweep.sh: trains one job at several learning rates, waits for them all, and prints the table
# of the sweep and its best line (the lowest test loss).
#   examples/batch/lr_sweep.sh [JOB] [RATES] [EPOCHS]
# Defaults: examples/fashion_mlp.capnp, 0.2,0.1,0.03,0.01, 2 epochs. Needs a cluster (tfmath up,
# then the export line it prints) and tfmath on the PATH. The exit status is tfmath wait's: 0 when
# every job COMPLETED, 1 when one FAILED (a rate too high diverges: its loss is nan), 3 cancelled.
set -euo pipefail
job=${1:-$(dirname "$0")/../fashion_mlp.capnp}
rates=${2:-0.2,0.1,0.03,0.01}
epochs=${3:-2}

# The job's optimizer is SGD; --sweep makes one job per rate, as one array: ids ARRAY_0, ARRAY_1...
ids=$(tfmath submit "$job" --set epochs="$epochs" \
        --sweep optimizer.sgd.learningRate="$rates" --parsable)
array=${ids%%_*}
echo "submitted array $array: $(echo $ids)"

status=0
tfmath wait "$array" >/dev/null || status=$?
table=$(tfmath result "$array" --sort test_loss)
echo "$table"
# The table's first row after its heading is the lowest test loss.
echo "best: $(echo "$table" | sed -n 2p)"
exit "$status"
