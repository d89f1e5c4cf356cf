#!/usr/bin/env bash
# The CPU benchmark suite (docs/performance anchors), every peer measured in
# the same run, with explicit thread counts, after waiting for an idle
# machine:
#   peak  the sgemm peak (NumPy's OpenBLAS), 1 and 2 threads;
#   W1    Titans-linear per token, for the given head widths d, vs a
#         hand-fused C++ loop (1, 2 threads) and PyTorch eager;
#   W2    DeltaNet, W3 TTT-Linear mini-batch: nlc's per-token code vs
#         PyTorch eager per token and in its chunked form (WY, dual);
#   W4    TTT-MLP, W5 a four-level CMS (W5_T tokens): vs PyTorch eager in
#         its fastest formulation;
#   W6    Adam as levels over 16M values vs the stream bandwidth;
#   W7    decode, one token per call for 1, 4, 32 streams, vs the fused loop;
#   W8    ragged lengths (1 .. 1847 tokens, one call each) through DeltaNet
#         in the chunk form, per token, and padded to one batch.
# Writes build/bench/results.jsonl, prints the table (bench/report.py) and
# draws build/bench/ratios.png.
# Usage: bench/run.sh BUILD_DIR [d ...]; BENCH_SETS picks the workloads
# (default "W1 W2 W3 W4 W5 W6 W7 W8"; `make bench-quick` runs a subset).
set -euo pipefail
BUILD_DIR="${1:-build}"
shift || true
DS=("${@:-64 128}")
SETS=" ${BENCH_SETS:-W1 W2 W3 W4 W5 W6 W7 W8} "
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
OUT="$BUILD_DIR/bench"
mkdir -p "$OUT"
: > "$OUT/results.jsonl"
rm -f "$OUT"/w1_d*.so # W1's PyTorch run takes the widths built in this run
./scripts/setup.sh --bench
cmake --build "$BUILD_DIR" --target nlc-bench-w1 nlc-bench-w7 nlc-bench-w8 nlc nl-run > /dev/null
export PATH="$BUILD_DIR/bin:$PATH"

# Waits (up to 60 s) until the machine is at least 90% idle over 2 s.
wait_idle() {
  for _ in $(seq 30); do
    read -r _ u1 n1 s1 i1 w1 _ < /proc/stat
    sleep 2
    read -r _ u2 n2 s2 i2 w2 _ < /proc/stat
    busy=$(((u2 + n2 + s2) - (u1 + n1 + s1)))
    idle=$(((i2 + w2) - (i1 + w1)))
    if ((idle * 10 >= (busy + idle) * 9)); then
      return
    fi
  done
  echo "bench: the machine did not get idle; timings may be noisy"
}
has() { [[ "$SETS" == *" $1 "* ]]; }

wait_idle
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peaks.py "$OUT/results.jsonl" 1
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/peaks.py "$OUT/results.jsonl" 2

H=8
w1_defs() {
  local d=$1 HD=$((H * $1))
  echo -D d=$d -D H=$H -D HD=$HD -D OV=$HD -D OQ=$((2 * HD)) -D OT=$((3 * HD)) \
    -D OE=$((3 * HD + H)) -D OK=$((3 * HD + 2 * H)) -D DIM=$((3 * HD + 3 * H))
}
if has W1; then
  for d in ${DS[@]}; do
    nlc bench/models/w1.nl --emit=lib -O3 -o "$OUT/w1_d$d.so" $(w1_defs $d)
    # The same model with its heaviest loops on an OpenMP team (opt-in).
    nlc bench/models/w1.nl --emit=lib -O3 --cpu-parallel -o "$OUT/w1_d${d}_omp.so" $(w1_defs $d)
    wait_idle
    "$OUT/nlc-bench-w1" "$OUT/w1_d$d.so" "$d" 2048 5 "$OUT/results.jsonl" "$OUT/w1_d${d}_omp.so"
  done
  wait_idle
  /usr/bin/python3 bench/w1_torch.py cpu "$OUT" "$OUT/results.jsonl"
fi
for set in W2 W3; do
  if has $set; then
    wait_idle
    /usr/bin/python3 bench/chunked_torch.py "$OUT" "$OUT/results.jsonl" $set
  fi
done
for set in W4 W5; do
  if has $set; then
    wait_idle
    W5_T="${W5_T:-512}" /usr/bin/python3 bench/mlp_torch.py "$OUT" "$OUT/results.jsonl" $set
  fi
done
if has W6; then
  wait_idle
  ./bench/w6.sh "$BUILD_DIR" "$OUT/results.jsonl"
fi
if has W7; then
  nlc bench/models/w1.nl --emit=lib -O3 -o "$OUT/w1_d64.so" $(w1_defs 64)
  wait_idle
  "$OUT/nlc-bench-w7" "$OUT/w1_d64.so" 64 256 5 "$OUT/results.jsonl"
fi
if has W8; then
  HD8=$((H * 64))
  W8_DEFS="-D d=64 -D HD=$HD8 -D OV=$HD8 -D OQ=$((2 * HD8)) -D OB=$((3 * HD8)) -D DIM=$((3 * HD8 + H))"
  nlc bench/models/w2.nl --emit=lib -O3 --chunk-form=always -o "$OUT/w8_chunk.so" $W8_DEFS
  nlc bench/models/w2.nl --emit=lib -O3 --chunk-form=never -o "$OUT/w8_token.so" $W8_DEFS
  wait_idle
  "$OUT/nlc-bench-w8" "$OUT/w8_chunk.so" "$OUT/w8_token.so" 64 5 "$OUT/results.jsonl"
fi
echo
/usr/bin/python3 bench/report.py "$OUT/results.jsonl" "$OUT/ratios.png"
echo "results: $OUT/results.jsonl"
