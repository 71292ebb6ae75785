#!/usr/bin/env bash
# Installs what bench/fashion_vs_pytorch.sh needs (PyTorch, OpenBLAS, Fashion-MNIST); run as root. Not part of CI.
set -euo pipefail
apt-get install -y python3-torch libopenblas0-pthread dataset-fashion-mnist
