#!/usr/bin/env bash
# Fuzzes nlc with libFuzzer for a bounded time (make fuzz; not part of CI or
# make test): the .nl front end (nl-parser-fuzzer) and the runtime's readers
# (nl-safetensors-fuzzer, nl-npy-fuzzer, nl-manifest-fuzzer).
#   scripts/fuzz.sh [SECONDS] [JOBS]
# SECONDS (default $FUZZ_SECONDS, else 240) is the total, split evenly
# between the targets; JOBS (default 1) parallel jobs per target.
# $FUZZ_TARGETS picks targets (default "parser safetensors npy manifest").
#
# Builds two trees with clang-22: build-fuzz/ for the front end (MLIR; nlc's
# own code with ASan and coverage) and build-fuzz/runtime/ for the readers
# (tools/nl-fuzz/runtime/: nlrt only, no MLIR, ASan + UBSan, seconds to
# build). Corpora: build-fuzz/corpus/<target>/, seeded at every run from the
# examples and tests (.nl), nl-fuzz-seeds (files nlrt's writers write, and
# hand-made ones), and what build/bin/nl-run ($NL_RUN) writes for real
# models: --state-out / --params-out (safetensors), --output (.npy), --info
# (manifests) of examples/*.nl and test/Runtime/Inputs/*.nl.
#
# Before fuzzing, replays tools/nl-fuzz/regressions/<target>/* (reproducers
# of reported bugs) and the findings left in build-fuzz/crashes/<target>/ by
# earlier runs (those that no longer fail move to crashes/<target>/fixed/).
# New findings go to build-fuzz/crashes/<target>/ (crash-*, leak-*,
# timeout-*, oom-*); the runtime targets run in libFuzzer's fork mode with
# -ignore_crashes=1, so one run can collect several. Exits 1 if any
# regression fails or any finding exists, 0 otherwise. To minimize one:
#   build-fuzz/runtime/bin/nl-npy-fuzzer -minimize_crash=1 -runs=10000 \
#     -exact_artifact_path=min.npy build-fuzz/crashes/npy/crash-...
# $NL_FUZZ_SKIP (ids of tools/nl-fuzz/FuzzSupport.h checks, comma-separated,
# '*' suffix for prefixes) turns off invariants already reported.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SECONDS_TOTAL="${1:-${FUZZ_SECONDS:-240}}"
JOBS="${2:-1}"
TARGETS=(${FUZZ_TARGETS:-parser safetensors npy manifest})
BUILD=build-fuzz
RTBUILD="$BUILD/runtime"
NL_RUN="${NL_RUN:-build/bin/nl-run}"
FLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -g -O1"

if ! [[ "$SECONDS_TOTAL" =~ ^[0-9]+$ ]] || ((SECONDS_TOTAL < 1)); then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$SECONDS_TOTAL'" >&2
  exit 2
fi
PER_TARGET=$((SECONDS_TOTAL / ${#TARGETS[@]}))
((PER_TARGET >= 5)) || PER_TARGET=5

# libFuzzer and the sanitizer runtimes of clang-22.
if ! compgen -G "/usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.fuzzer-x86_64.a" > /dev/null; then
  echo "fuzz.sh: installing libclang-rt-22-dev (libFuzzer, ASan, UBSan)"
  SUDO=""; ((EUID == 0)) || SUDO=sudo
  $SUDO apt-get install -y libclang-rt-22-dev > /dev/null
fi

has_target() {
  local t
  for t in "${TARGETS[@]}"; do [[ "$t" == "$1" ]] && return 0; done
  return 1
}
binary() {
  case "$1" in
  parser) echo "$BUILD/bin/nl-parser-fuzzer" ;;
  *) echo "$RTBUILD/bin/nl-$1-fuzzer" ;;
  esac
}

# --- build ---------------------------------------------------------------
RUNTIME_TARGETS=()
for t in "${TARGETS[@]}"; do
  case "$t" in
  parser) ;;
  safetensors | npy | manifest) RUNTIME_TARGETS+=("nl-$t-fuzzer") ;;
  *) echo "fuzz.sh: unknown target '$t' (parser, safetensors, npy, manifest)" >&2; exit 2 ;;
  esac
done
if has_target parser; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DNLC_ENABLE_FUZZER=ON -DNLC_BUILD_TESTS=OFF > /dev/null
  cmake --build "$BUILD" --target nl-parser-fuzzer
fi
if ((${#RUNTIME_TARGETS[@]})); then
  cmake -S tools/nl-fuzz/runtime -B "$RTBUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > /dev/null
  cmake --build "$RTBUILD" --target "${RUNTIME_TARGETS[@]}" nl-fuzz-seeds
fi

# ASan's leak checker reports MLIR's intentional process-lifetime singletons
# (pass/dialect registries). allow_user_poisoning=0: LLVM's header-inlined
# BumpPtrAllocator poisons arena slabs when compiled with ASan, but the
# uninstrumented libMLIR.so hands out memory from the same slabs without
# unpoisoning it, which ASan reports as use-after-poison (a false positive of
# mixing instrumented and uninstrumented code). The runtime targets link no
# MLIR: they keep the leak checker.
PARSER_ASAN="detect_leaks=0:allocator_may_return_null=1:allow_user_poisoning=0"
RUNTIME_ASAN="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
asan_for() { [[ "$1" == parser ]] && echo "$PARSER_ASAN" || echo "$RUNTIME_ASAN"; }

# Scratch files of the harnesses (round trips through the writers).
NL_FUZZ_TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/nl-fuzz.XXXXXX")"
export NL_FUZZ_TMPDIR
WORK="$(mktemp -d "${TMPDIR:-/tmp}/nl-fuzz-seeds.XXXXXX")"
trap 'rm -rf "$NL_FUZZ_TMPDIR" "$WORK"' EXIT

# --- seed corpora ----------------------------------------------------------
CORPUS="$BUILD/corpus"
mkdir -p "$CORPUS" "$BUILD/crashes"
for t in "${TARGETS[@]}"; do mkdir -p "$CORPUS/$t" "$BUILD/crashes/$t"; done
# An older layout kept the front end's corpus in build-fuzz/corpus/ itself.
find "$CORPUS" -maxdepth 1 -type f -name '*.nl' -delete 2>/dev/null || true
# Seeds larger than this are left out (libFuzzer's -max_len below).
MAX_SEED=65536
add_seed() { # add_seed TARGET FILE [NAME]
  local size
  [[ -f "$2" ]] || return 0
  size=$(stat -c %s "$2")
  ((size <= MAX_SEED)) && cp "$2" "$CORPUS/$1/${3:-$(basename "$2")}"
  return 0
}
if has_target parser; then
  find examples test -name '*.nl' -exec cp {} "$CORPUS/parser/" \; 2>/dev/null || true
fi
if ((${#RUNTIME_TARGETS[@]})); then
  "$RTBUILD/bin/nl-fuzz-seeds" "$WORK/writer" > /dev/null
  for t in safetensors npy manifest; do
    has_target "$t" || continue
    for f in "$WORK/writer/$t"/*; do add_seed "$t" "$f" "seed-$(basename "$f")"; done
  done
  if [[ -x "$NL_RUN" ]]; then
    echo "fuzz.sh: seeding from $NL_RUN (examples/*.nl, test/Runtime/Inputs/*.nl)"
    CACHE="$BUILD/nlc-cache" # nl-run compiles each model once into it
    for src in examples/*.nl test/Runtime/Inputs/*.nl; do
      name="$(basename "$src" .nl)"
      [[ "$src" == test/* ]] && name="test-$name"
      if has_target manifest; then
        for device in cpu cuda; do
          "$NL_RUN" "$src" --device="$device" --info --cache-dir "$CACHE" \
            > "$WORK/$name-$device.json" 2> /dev/null &&
            add_seed manifest "$WORK/$name-$device.json" "nl-run-$name-$device.json"
        done
      fi
      # States, parameters and outputs of one short call. The models of
      # large dims give large files; add_seed skips those beyond MAX_SEED.
      dim="$(grep -o 'dim *= *[0-9]*' "$src" | head -1 | grep -o '[0-9]*$' || true)"
      [[ -n "$dim" ]] && ((dim <= 64)) || continue
      has_target safetensors || has_target npy || continue
      overrides=()
      grep -q 'hyper *window' "$src" && overrides=(-D window=2)
      /usr/bin/python3 examples/sample-input.py "$WORK/x-$name.npy" \
        --T 3 --B 1 --dim "$dim" 2> /dev/null || continue
      "$NL_RUN" "$src" "${overrides[@]}" --cache-dir "$CACHE" \
        --input "$WORK/x-$name.npy" --output "$WORK/y-$name.npy" \
        --state-out "$WORK/s-$name.safetensors" \
        --params-out "$WORK/p-$name.safetensors" > /dev/null 2>&1 || continue
      if has_target npy; then
        add_seed npy "$WORK/x-$name.npy" "nl-run-input-$name.npy"
        add_seed npy "$WORK/y-$name.npy" "nl-run-output-$name.npy"
      fi
      if has_target safetensors; then
        add_seed safetensors "$WORK/s-$name.safetensors" "nl-run-state-$name.safetensors"
        add_seed safetensors "$WORK/p-$name.safetensors" "nl-run-params-$name.safetensors"
      fi
    done
  else
    echo "fuzz.sh: no $NL_RUN (make build, or set NL_RUN): seeds from nl-fuzz-seeds only"
  fi
fi
for t in "${TARGETS[@]}"; do
  echo "fuzz.sh: corpus $t: $(find "$CORPUS/$t" -type f | wc -l) files"
done

# --- replays: regressions and earlier findings ----------------------------
FAILED=0
# While fuzzing, each invariant of the harnesses (tools/nl-fuzz/FuzzSupport.h)
# is reported once: the ids that regressions or earlier findings still
# violate are marked here, so a run adds findings of new bugs only.
ONCE="$WORK/once"
mkdir -p "$ONCE"
replay() { # replay TARGET FILE -> 0 when the input runs clean
  ASAN_OPTIONS="$(asan_for "$1")" timeout 60 "$(binary "$1")" "$2" \
    > "$WORK/replay.log" 2>&1
}
describe() { # what went wrong in $WORK/replay.log, in one line
  local id
  id="$(grep -m1 -o 'nl-fuzz: invariant [^ ]* violated' "$WORK/replay.log" | cut -d' ' -f3 || true)"
  [[ -n "$id" ]] && touch "$ONCE/$id"
  grep -m1 -E 'nl-fuzz: invariant|^SUMMARY: |runtime error:|ERROR: libFuzzer|==ERROR' \
    "$WORK/replay.log" | cut -c1-300 || echo "(exit status $1)"
}
for t in "${TARGETS[@]}"; do
  for f in tools/nl-fuzz/regressions/"$t"/*; do
    [[ -f "$f" ]] || continue
    if replay "$t" "$f"; then
      echo "fuzz.sh: regression $f: passes"
    else
      rc=$?
      echo "fuzz.sh: regression $f: FAILS: $(describe $rc)"
      FAILED=1
    fi
  done
  for f in "$BUILD/crashes/$t"/*; do
    [[ -f "$f" ]] || continue
    if replay "$t" "$f"; then
      mkdir -p "$BUILD/crashes/$t/fixed"
      mv "$f" "$BUILD/crashes/$t/fixed/"
      echo "fuzz.sh: earlier finding $f no longer fails (moved to fixed/)"
    else
      describe $? > /dev/null
    fi
  done
done

# --- fuzzing -------------------------------------------------------------
for t in "${TARGETS[@]}"; do
  bin="$(binary "$t")"
  args=(-max_total_time="$PER_TARGET" -timeout=10 -rss_limit_mb=4096
        -print_final_stats=1)
  case "$t" in
  parser) args+=(-dict="$ROOT/tools/nl-fuzz/nl.dict" -max_len=8192) ;;
  safetensors) args+=(-dict="$ROOT/tools/nl-fuzz/safetensors.dict" -max_len=$MAX_SEED) ;;
  npy) args+=(-dict="$ROOT/tools/nl-fuzz/npy.dict" -max_len=4096) ;;
  manifest) args+=(-dict="$ROOT/tools/nl-fuzz/manifest.dict" -max_len=$MAX_SEED) ;;
  esac
  # The readers are cheap per input: fork mode keeps fuzzing past a finding
  # and collects the others in the same run.
  if [[ "$t" != parser ]]; then
    args+=(-fork="$JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  elif ((JOBS > 1)); then
    args+=(-jobs="$JOBS" -workers="$JOBS")
  fi
  echo
  echo "fuzz.sh: fuzzing $t for ${PER_TARGET}s"
  before=$(find "$BUILD/crashes/$t" -maxdepth 1 -type f | wc -l)
  # libFuzzer writes fuzz-N.log files into the working folder in fork and
  # jobs modes: run it from a folder of its own.
  mkdir -p "$BUILD/logs/$t"
  (cd "$BUILD/logs/$t" &&
    NL_FUZZ_ONCE_DIR="$ONCE" ASAN_OPTIONS="$(asan_for "$t")" \
      "$ROOT/$bin" "$ROOT/$CORPUS/$t" "${args[@]}" \
      -artifact_prefix="$ROOT/$BUILD/crashes/$t/" > "$ROOT/$BUILD/logs/$t.log" 2>&1) ||
    true
  # The last status line: executions, coverage, corpus, time.
  grep -E '^#[0-9]+.*cov:' "$BUILD/logs/$t.log" | tail -1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$BUILD/logs/$t.log" || true
  after=$(find "$BUILD/crashes/$t" -maxdepth 1 -type f | wc -l)
  echo "fuzz.sh: $t: $((after - before)) new finding(s) (log: $BUILD/logs/$t.log)"
done

# --- summary ---------------------------------------------------------------
echo
: > "$WORK/findings"
for t in "${TARGETS[@]}"; do
  for f in "$BUILD/crashes/$t"/*; do
    [[ -f "$f" ]] || continue
    FAILED=1
    if replay "$t" "$f"; then
      echo "$t: does not reproduce on replay (flaky?)"$'\t'"$f" >> "$WORK/findings"
    else
      echo "$t: $(describe $?)"$'\t'"$f" >> "$WORK/findings"
    fi
  done
done
if [[ -s "$WORK/findings" ]]; then
  echo "fuzz.sh: findings in $BUILD/crashes/ (count, what, one input):"
  sort "$WORK/findings" | awk -F'\t' '{ n[$1]++; if (!($1 in f)) f[$1] = $2 }
    END { for (k in n) printf "  %3d  %s\n       %s\n", n[k], k, f[k] }'
fi
if ((FAILED)); then
  echo "fuzz.sh: FAILED: findings or failing regressions above"
  exit 1
fi
echo "fuzz.sh: no findings"
