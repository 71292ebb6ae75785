#!/usr/bin/env bash
# test.sh: the README's second command: install, build, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/package.sh >/dev/null  # the Debian package, which the tests check
# The terminal tests run tmux, which needs pseudo-terminals; a bare chroot has no /dev/pts mounted.
if [ "$(id -u)" = 0 ] && ! mountpoint -q /dev/pts; then
  mkdir -p /dev/pts
  mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
fi
cd build && ctest --output-on-failure
