#!/usr/bin/env bash
# The GPU check, on a machine with an NVIDIA GPU (see prepare.sh): every
# example's CUDA outputs and final states against the CPU path (max relative
# error <= 1e-3), then W1 on the GPU: nlc vs PyTorch eager and torch.compile
# in the same run. Usage: bench/gpu/run.sh DIR [RESULTS.jsonl]
set -uo pipefail
DIR="${1:-.gpu}"
RESULTS="${2:-$DIR/results.jsonl}"
: > "$RESULTS"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
"$DIR/nl-run" --list-devices
fails=0
while read -r e nout; do
  out=()
  [ "$nout" = 0 ] || out=(--output "$DIR/data/$e.y_cuda.npy")
  if ! "$DIR/nl-run" "$DIR/models/$e-cuda.ptx" --device=cuda --seed 3 \
      --params "$DIR/data/$e.params.safetensors" --params-partial --input "$DIR/data/$e.x.npy" "${out[@]}" \
      --state-out "$DIR/data/$e.s_cuda.safetensors" --stats > "$DIR/data/$e.stats" 2>&1; then
    echo "$e: FAIL (nl-run)"; cat "$DIR/data/$e.stats"; fails=$((fails + 1)); continue
  fi
  y="(no outputs) OVERALL: PASS"
  [ "$nout" = 0 ] || y=$(python3 test/reference/compare.py "$DIR/data/$e.y_cuda.npy" "$DIR/data/$e.y_cpu.npy" --rtol 1e-3 --name y | tail -2 | tr '\n' ' ')
  s=$(python3 test/reference/compare.py "$DIR/data/$e.s_cuda.safetensors" "$DIR/data/$e.s_cpu.safetensors" --rtol 1e-3 | grep -c FAIL)
  echo "$e: outputs: $y| state tensors failing: $s | $(head -1 "$DIR/data/$e.stats")"
  case "$y" in *"OVERALL: PASS"*) ;; *) fails=$((fails + 1));; esac
  [ "$s" = 0 ] || fails=$((fails + 1))
done < "$DIR/examples.txt"
echo "GPU suite: $fails failure(s)"
# Races between the threads of a block (a missing barrier) would show here.
if command -v compute-sanitizer > /dev/null; then
  timeout 120 compute-sanitizer --tool racecheck --print-limit 5 "$DIR/nl-run" \
    "$DIR/models/titans-linear-cuda.ptx" --device=cuda --seed 3 \
    --input "$DIR/data/titans-linear.x.npy" 2>&1 | tail -3
fi
[ -n "${SKIP_W1:-}" ] || PYTHONUNBUFFERED=1 python3 bench/w1_torch.py cuda "$DIR" "$RESULTS"
echo "results: $RESULTS"
