#!/usr/bin/env bash
# The project's main job:
#  1. compile the Hope model (examples/hope.nl) to nl IR and print its
#     levels and schedule;
#  2. compile the richest model the CPU back end runs today (Titans with a
#     linear memory, momentum level, decay and short convolutions) to a
#     shared library and stream a bundled sample input through it: 2 streams
#     x 2048 tokens, in two calls with the state saved and loaded between
#     them; print tokens/s, updates per level and an output checksum.
# (Hope itself runs once its MLP memories get compiler-derived gradients.)
set -euo pipefail
BUILD_DIR="${1:-build}"
OUT="$BUILD_DIR/run"
mkdir -p "$OUT"

echo "== nlc examples/hope.nl --summary"
"$BUILD_DIR/bin/nlc" examples/hope.nl --summary
echo

MODEL=examples/titans-linear.nl
echo "== nlc ${MODEL} --emit=lib"
"$BUILD_DIR/bin/nlc" "$MODEL" --summary
"$BUILD_DIR/bin/nlc" "$MODEL" --emit=lib -O3 -o "$OUT/titans-linear.so"
/usr/bin/python3 examples/sample-input.py "$OUT/sample.npy" --T 2048 --B 2
/usr/bin/python3 -c "import numpy as np; x = np.load('$OUT/sample.npy'); np.save('$OUT/part1.npy', x[:, :1000]); np.save('$OUT/part2.npy', x[:, 1000:])"
echo
echo "== nl-run (first 1000 tokens, then the rest from the saved state)"
"$BUILD_DIR/bin/nl-run" "$OUT/titans-linear.so" --seed 0 --input "$OUT/part1.npy" \
  --output "$OUT/y1.npy" --state-out "$OUT/state.safetensors"
"$BUILD_DIR/bin/nl-run" "$OUT/titans-linear.so" --seed 0 --input "$OUT/part2.npy" \
  --state-in "$OUT/state.safetensors" --output "$OUT/y2.npy" --stats
