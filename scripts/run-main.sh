#!/usr/bin/env bash
# The project's main job: compile the Hope block (examples/hope.nl:
# self-modifying Titans with MLP memories whose gradients nlc derives, then a
# two-level CMS) to a shared library and stream a bundled sample input
# through it: 2 streams x 2048 tokens, in two calls with the state saved and
# loaded between them. Prints the schedule, compile time, tokens/s, updates
# per level, state norms, and checks that the streamed outputs equal one
# uninterrupted call.
set -euo pipefail
BUILD_DIR="${1:-build}"
OUT="$BUILD_DIR/run"
mkdir -p "$OUT"

MODEL=examples/hope.nl
echo "== nlc ${MODEL} --summary"
"$BUILD_DIR/bin/nlc" "$MODEL" --summary
echo
echo "== nlc ${MODEL} --emit=lib"
start=$(date +%s.%N)
"$BUILD_DIR/bin/nlc" "$MODEL" --emit=lib -O3 -o "$OUT/hope.so"
end=$(date +%s.%N)
echo "compiled in $(echo "$end - $start" | bc) s"
/usr/bin/python3 examples/sample-input.py "$OUT/sample.npy" --T 2048 --B 2
/usr/bin/python3 -c "import numpy as np; x = np.load('$OUT/sample.npy'); np.save('$OUT/part1.npy', x[:, :1000]); np.save('$OUT/part2.npy', x[:, 1000:])"
echo
echo "== nl-run (first 1000 tokens, then the rest from the saved state)"
"$BUILD_DIR/bin/nl-run" "$OUT/hope.so" --seed 0 --input "$OUT/part1.npy" \
  --output "$OUT/y1.npy" --state-out "$OUT/state.safetensors"
"$BUILD_DIR/bin/nl-run" "$OUT/hope.so" --seed 0 --input "$OUT/part2.npy" \
  --state-in "$OUT/state.safetensors" --output "$OUT/y2.npy" --stats
echo
echo "== streamed (1000 + 1048 tokens) vs one call of 2048 tokens"
"$BUILD_DIR/bin/nl-run" "$OUT/hope.so" --seed 0 --input "$OUT/sample.npy" \
  --output "$OUT/y.npy"
/usr/bin/python3 - "$OUT" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
y = np.load(f"{d}/y.npy")
ys = np.concatenate([np.load(f"{d}/y1.npy"), np.load(f"{d}/y2.npy")], axis=1)
diff = float(np.max(np.abs(y - ys)))
print(f"outputs {list(y.shape)}, max |streamed - one call| = {diff:.3e}")
sys.exit(0 if diff == 0.0 and np.all(np.isfinite(y)) else 1)
PY
