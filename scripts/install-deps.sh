#!/usr/bin/env bash
# install-deps.sh: installs everything tfmath builds and tests with, from Debian 12's packages (as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  g++ make cmake pkg-config \
  capnproto libcapnp-dev libeigen3-dev libgtest-dev zlib1g-dev libcli11-dev libcsv-dev \
  libopenblas-dev libdnnl-dev libzmq3-dev cppzmq-dev libgloo-dev nlohmann-json3-dev \
  libssh-dev openssh-client openssh-server iproute2 prometheus libncurses-dev tmux \
  dpkg-dev file lintian ansible-core ansible-lint python3-apt systemd katex libjs-katex chromium \
  python3-nbformat jupyter-nbconvert \
  dataset-fashion-mnist >/dev/null
