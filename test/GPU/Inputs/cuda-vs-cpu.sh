#!/usr/bin/env bash
# Runs one example on cpu and cuda (same seed, inputs, params) and compares
# the outputs and final states: max relative error <= 1e-3.
# Usage: cuda-vs-cpu.sh EXAMPLES_DIR REFERENCE_DIR PYTHON WORK NAME
set -euo pipefail
EX="$1" REF="$2" PY="$3" W="$4" E="$5"
mkdir -p "$W"
nl-run "$EX/$E.nl" --cache-dir "$W/cache" --info > "$W/$E.json"
"$PY" - "$W/$E" "$W/$E.json" "$REF" <<'PY'
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
import nlio
rng = np.random.default_rng(7)
m = json.load(open(sys.argv[2]))
T = 256 if m["dim"] <= 1024 else 32
np.save(sys.argv[1] + ".x.npy", rng.standard_normal((4, T, m["dim"]), dtype=np.float32))
files = {t["init"]["name"]: 0.1 * rng.standard_normal(t["shape"])
         for t in m["params"] + m["state"] if t["init"]["kind"] == "file"}
nlio.save_safetensors(sys.argv[1] + ".params.safetensors", files, dtype="F32")
open(sys.argv[1] + ".nout", "w").write(str(len(m["outputs"])))
PY
for dev in cpu cuda; do
  out=()
  [ "$(cat "$W/$E.nout")" = 0 ] || out=(--output "$W/$E.y_$dev.npy")
  nl-run "$EX/$E.nl" --device=$dev --cache-dir "$W/cache" --seed 3 \
    --params "$W/$E.params.safetensors" --params-partial --input "$W/$E.x.npy" "${out[@]}" \
    --state-out "$W/$E.s_$dev.safetensors"
done
[ "$(cat "$W/$E.nout")" = 0 ] ||
  "$PY" "$REF/compare.py" "$W/$E.y_cuda.npy" "$W/$E.y_cpu.npy" --rtol 1e-3 --name y
"$PY" "$REF/compare.py" "$W/$E.s_cuda.safetensors" "$W/$E.s_cpu.safetensors" --rtol 1e-3
