#!/usr/bin/env bash
# Installs what nlc needs to build and test (with --bench, also what
# `make bench` compares against), skipping what is already there.
# Debian 12 (bookworm): LLVM/MLIR 22 come from bookworm-security.
# Uses sudo only when not root. Safe to run repeatedly.
set -euo pipefail

PKGS=(
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools clang-22
  cmake ninja-build ccache g++ make
  libgtest-dev libomp-22-dev zlib1g-dev
  python3 python3-numpy
  python3-torch  # the autograd reference of the gradients (test/reference/torch_grads.py)
)
# --bench: the peers and tools of `make bench` too (PyTorch eager is
# installed above; OpenBLAS as the BLAS of NumPy and PyTorch for the sgemm
# peak, matplotlib).
if [[ "${1:-}" == --bench ]]; then
  PKGS+=(libopenblas0-pthread python3-matplotlib)
fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  SUDO="sudo"
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

ver="$(llvm-config-22 --version 2>/dev/null || true)"
if [[ "$ver" != 22.* ]]; then
  echo "setup: error: LLVM/MLIR major version 22 is required, found '${ver:-none}'" >&2
  exit 1
fi
