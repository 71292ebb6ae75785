#!/usr/bin/env bash
# check-includes.sh: checks the include rule of docs/architecture.md: every project include names
# its folder ("ops/dense.h"), and a folder includes only from the folders it may depend on.
# Prints each breach as FILE:LINE and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A may=(
  [proto]="proto"
  [base]="base"
  [ops]="base proto ops kernels"
  [kernels]="base kernels"
  [jobs]="base proto ops jobs"
  [net]="base proto net"
  [train]="base proto ops kernels jobs train"
  [coordinator]="base proto ops jobs net coordinator"
  [worker]="base proto ops kernels jobs net train worker"
)
bad=0
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$rest")
  folder=${file%%/*}
  if [[ $target != */* ]]; then
    echo "$file:$line: #include \"$target\" does not name its folder"
    bad=1
    continue
  fi
  [[ -v may[$folder] ]] || continue  # cli/, tests/ and bench/ may include anything
  dependency=${target%%/*}
  if [[ " ${may[$folder]} " != *" $dependency "* ]]; then
    echo "$file:$line: $folder/ may not include $target (allowed: ${may[$folder]})"
    bad=1
  fi
done < <(git ls-files '*.h' '*.cc' '*.cu' '*.cuh' '*.in' | xargs grep -Hn '^#include "')
exit $bad
