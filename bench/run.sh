#!/usr/bin/env bash
# Runs the benchmarks that exist so far (W1 for the given head widths, vs a
# hand-fused C++ loop and PyTorch eager; W4 TTT-MLP and W5 CMS vs PyTorch
# eager; W6 vs the stream bandwidth) and
# writes build/bench/results.jsonl. Usage: bench/run.sh BUILD_DIR [d ...]
# Thread counts are explicit; wait for an idle machine before trusting it.
set -euo pipefail
BUILD_DIR="${1:-build}"
shift || true
DS=("${@:-64 128}")
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
OUT="$BUILD_DIR/bench"
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
cmake --build "$BUILD_DIR" --target nlc-bench-w1 nlc > /dev/null
H=8
for d in ${DS[@]}; do
  HD=$((H * d))
  DEFS=(-D d=$d -D H=$H -D HD=$HD -D OV=$HD -D OQ=$((2 * HD)) -D OT=$((3 * HD))
        -D OE=$((3 * HD + H)) -D OK=$((3 * HD + 2 * H)) -D DIM=$((3 * HD + 3 * H)))
  "$BUILD_DIR/bin/nlc" bench/models/w1.nl --emit=lib -O3 -o "$OUT/w1_d$d.so" "${DEFS[@]}"
  # The same model with its heaviest loops on an OpenMP team (opt-in).
  "$BUILD_DIR/bin/nlc" bench/models/w1.nl --emit=lib -O3 --cpu-parallel \
    -o "$OUT/w1_d${d}_omp.so" "${DEFS[@]}"
  "$OUT/nlc-bench-w1" "$OUT/w1_d$d.so" "$d" 2048 5 "$OUT/results.jsonl" "$OUT/w1_d${d}_omp.so"
done
# W6: Adam as levels over 16M values, against the stream bandwidth.
./bench/w6.sh "$BUILD_DIR" "$OUT/results.jsonl"
# PyTorch eager on the same inputs, checked against nlc first (Debian's
# python3-torch; skipped with a note when it is not installed).
if /usr/bin/python3 -c "import torch" 2> /dev/null; then
  PATH="$BUILD_DIR/bin:$PATH" /usr/bin/python3 bench/w1_torch.py cpu "$OUT" "$OUT/results.jsonl"
  # W4 (TTT-MLP) and W5 (a four-level CMS, W5_T tokens), nlc vs PyTorch
  # eager in its fastest formulation; BENCH_MLP picks the workloads.
  PATH="$BUILD_DIR/bin:$PATH" W5_T="${W5_T:-512}" /usr/bin/python3 bench/mlp_torch.py \
    "$OUT" "$OUT/results.jsonl" ${BENCH_MLP:-W4 W5}
else
  echo "W1, W4, W5 torch_eager: skipped (python3-torch is not installed: apt install python3-torch)"
fi
echo "results: $OUT/results.jsonl"
