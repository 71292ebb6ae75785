#!/usr/bin/env bash
# build.sh: configures and builds tfmath into ./build (Release, warnings on).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
