#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer harnesses of fuzz/ with clang-14 under ASan and UBSan into
# build-fuzz/, then fuzzes one for SECONDS of wall time (default 60), starting from its committed
# corpus. Each input is bounded: 1 s (libFuzzer's smallest timeout; a slow input is reported) and
# 64 MiB of allocations. New inputs it keeps go to build-fuzz/corpus/HARNESS; a crash leaves a
# crash-* file in the current folder, which becomes a corpus file with its fix. Not run by CI; CI
# replays the committed corpus (ctest -R Fuzz).
# Usage: scripts/fuzz.sh HARNESS [SECONDS]      e.g. scripts/fuzz.sh job_file 1800
set -euo pipefail
cd "$(dirname "$0")/.."
harness=${1:?usage: scripts/fuzz.sh HARNESS [SECONDS] (harnesses: $(ls fuzz/*_fuzz.cc | sed -E 's|fuzz/(.*)_fuzz.cc|\1|' | tr '\n' ' '))}
seconds=${2:-60}
[[ -f fuzz/${harness}_fuzz.cc ]] || { echo "fuzz.sh: no harness fuzz/${harness}_fuzz.cc" >&2; exit 2; }
command -v clang++-14 >/dev/null || apt-get install -y clang-14 libclang-rt-14-dev
sanitize="-fsanitize=address,undefined -fsanitize=fuzzer-no-link -fno-omit-frame-pointer"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTFMATH_FUZZ=ON -DTFMATH_TESTS=OFF -DTFMATH_CUDA=OFF \
  -DCMAKE_C_FLAGS="$sanitize" -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build build-fuzz --target "${harness}_fuzz" -j2
mkdir -p "build-fuzz/corpus/$harness"
exec "build-fuzz/fuzz/${harness}_fuzz" -max_total_time="$seconds" -timeout=1 -malloc_limit_mb=64 \
  -rss_limit_mb=2048 -print_final_stats=1 "build-fuzz/corpus/$harness" "fuzz/corpus/$harness"
