#!/usr/bin/env bash
# W6: Adam as memory levels over a 16M-value tensor (bench/models/w6.nl),
# against the machine's stream bandwidth measured in the same run.
# Usage: bench/w6.sh BUILD_DIR RESULTS.jsonl [N] [TOKENS]
# Bytes counted per token are Adam's minimum: read g, m, v, W and write m,
# v, W (7 N floats); what nlc moves beyond that (its gradient accumulator)
# shows as a lower fraction of the stream bandwidth.
set -euo pipefail
BUILD="${1:-build}"
RESULTS="${2:-$BUILD/bench/results.jsonl}"
N="${3:-16777216}"
T="${4:-4}"
OUT="$BUILD/bench"
mkdir -p "$OUT"
cmake --build "$BUILD" --target nlc-bench-stream > /dev/null
"$OUT/nlc-bench-stream" $((64 << 20)) 5 "$RESULTS" | tee "$OUT/stream.txt"
/usr/bin/python3 -c "import numpy as np; np.save('$OUT/w6_g.npy', (1e-3 * np.random.default_rng(0).standard_normal(($T, $N))).astype(np.float32))"
for variant in serial omp; do
  flags=(); threads=1
  [ $variant = omp ] && flags=(--cpu-parallel) && threads=2
  "$BUILD/bin/nlc" bench/models/w6.nl --emit=lib -O3 -D N=$N "${flags[@]}" -o "$OUT/w6_$variant.so"
  times=()
  for r in 1 2 3 4 5; do
    # The compiled model alone: no NaN/Inf scans (bench/benchlib.py).
    times+=("$("$BUILD/bin/nl-run" "$OUT/w6_$variant.so" --input "$OUT/w6_g.npy" \
      --check-inputs=off --check-state=off \
      --num-threads $threads --stats | sed -n 's/.* in \([0-9.]*\) s.*/\1/p')")
  done
  /usr/bin/python3 - "$variant" "$threads" "$N" "$T" "$RESULTS" "$OUT/stream.txt" "${times[@]}" <<'PY'
import json, re, statistics, sys
variant, threads, n, t, results, stream = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
times = [float(x) for x in sys.argv[7:]]
med = statistics.median(times)
bw = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"triad (\d) thread\(s\): ([0-9.]+) GB/s", open(stream).read())}
gbs = 7 * 4 * n * t / med / 1e9
pct = 100 * gbs / bw[threads]
print(f"W6 N={n} T={t} nlc {variant:<6} {threads} thr: median {med * 1e3:8.1f} ms [{min(times) * 1e3:.1f}, {max(times) * 1e3:.1f}]"
      f"  {gbs:6.2f} GB/s  {pct:5.1f}% of stream ({bw[threads]:.2f} GB/s, {threads} thr)")
with open(results, "a") as f:
    f.write(json.dumps({"case": "W6", "impl": "nlc" if variant == "serial" else "nlc_omp", "threads": threads,
                        "n": n, "tokens": t, "median_s": med, "tokens_per_s": t / med,
                        "gbytes_per_s": gbs, "pct_roofline": pct}) + "\n")
PY
done
