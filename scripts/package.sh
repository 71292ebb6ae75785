#!/usr/bin/env bash
# package.sh: builds the Debian package, build-deb/tfmath_VERSION_amd64.deb, for any x86-64 machine:
# no -march=native, and no CUDA (the CUDA runtime is not a Debian package). Needs what
# install-deps.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DTFMATH_NATIVE=OFF -DTFMATH_CUDA=OFF -DTFMATH_TESTS=OFF >/dev/null
cmake --build build-deb -j"$(nproc)" >/dev/null
(cd build-deb && cpack -G DEB >/dev/null)
ls build-deb/tfmath_*.deb
