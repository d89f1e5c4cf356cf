#!/usr/bin/env bash
# Prepares the GPU check on a machine with the toolchain (no GPU needed):
# compiles every CPU-capable example for cpu and cuda, makes inputs, runs the
# CPU path for the expected outputs and states, and compiles the W1 benchmark
# model for cuda. Everything lands in OUT, which bench/gpu/run.sh reads on a
# GPU machine (it needs only nl-run from OUT, python3 and numpy there).
# Usage: bench/gpu/prepare.sh BUILD_DIR OUT
set -euo pipefail
BUILD="${1:-build}"
OUT="${2:-.gpu}"
NLC="$BUILD/bin/nlc"
rm -rf "$OUT" && mkdir -p "$OUT/models" "$OUT/data"
: > "$OUT/examples.txt"
cp "$BUILD/bin/nl-run" "$OUT/"
EXAMPLES=(linear-attention deltanet gated-deltanet titans-linear sgd-momentum
          adam muon m3 sliding-window-attention)
for e in "${EXAMPLES[@]}"; do
  "$NLC" "examples/$e.nl" --emit=lib -o "$OUT/models/$e.so"
  "$NLC" "examples/$e.nl" --target=cuda --emit=lib -o "$OUT/models/$e-cuda.ptx"
  dim=$(/usr/bin/python3 -c "import json;print(json.load(open('$OUT/models/$e.json'))['dim'])")
  # Tokens, and values for every tensor initialized from a params file.
  /usr/bin/python3 - "$OUT/data/$e" "$OUT/models/$e.json" <<'PY'
import json, sys
import numpy as np
sys.path.insert(0, "test/reference")
import nlio
rng = np.random.default_rng(7)
m = json.load(open(sys.argv[2]))
T = 256 if m["dim"] <= 1024 else 32  # keeps the wide optimizer inputs small
np.save(sys.argv[1] + ".x.npy", rng.standard_normal((4, T, m["dim"]), dtype=np.float32))
files = {t["init"]["name"]: 0.1 * rng.standard_normal(t["shape"])
         for t in m["params"] + m["state"] if t["init"]["kind"] == "file"}
nlio.save_safetensors(sys.argv[1] + ".params.safetensors", files, dtype="F32")
PY
  nout=$(/usr/bin/python3 -c "import json;print(len(json.load(open('$OUT/models/$e.json'))['outputs']))")
  out=()
  [ "$nout" = 0 ] || out=(--output "$OUT/data/$e.y_cpu.npy")
  "$OUT/nl-run" "$OUT/models/$e.so" --seed 3 --input "$OUT/data/$e.x.npy" \
    --params "$OUT/data/$e.params.safetensors" --params-partial "${out[@]}" \
    --state-out "$OUT/data/$e.s_cpu.safetensors"
  echo "$e $nout" >> "$OUT/examples.txt"
done
# W1 (bench/models/w1.nl): Titans-linear per token, H = 8 heads.
H=8
for d in 64 128; do
  HD=$((H * d))
  for bs in 128 512; do  # 512 is the default
    "$NLC" bench/models/w1.nl --target=cuda --emit=lib --gpu-block-size=$bs \
      -o "$OUT/models/w1_d${d}_b$bs.ptx" \
      -D d=$d -D H=$H -D HD=$HD -D OV=$HD -D OQ=$((2 * HD)) -D OT=$((3 * HD)) \
      -D OE=$((3 * HD + H)) -D OK=$((3 * HD + 2 * H)) -D DIM=$((3 * HD + 3 * H))
  done
done
du -sh "$OUT"
