#!/usr/bin/env bash
# Fuzzes the .nl front end with libFuzzer for a bounded time.
#   scripts/fuzz.sh [SECONDS] [JOBS]     (default: 600 seconds, 1 job)
# Builds a separate tree (build-fuzz/) with clang-22, instrumenting nlc's own
# code with ASan + coverage; seeds the corpus from the examples and the
# error tests; writes crashes to build-fuzz/crashes/. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
SECONDS_TO_RUN="${1:-600}"
JOBS="${2:-1}"
BUILD=build-fuzz
FLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -g -O1"

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DNLC_ENABLE_FUZZER=ON -DNLC_BUILD_TESTS=OFF > /dev/null
cmake --build "$BUILD" --target nl-parser-fuzzer

CORPUS="$BUILD/corpus"
mkdir -p "$CORPUS" "$BUILD/crashes"
find examples test -name '*.nl' -exec cp {} "$CORPUS/" \; 2>/dev/null || true

# ASan's leak checker reports MLIR's intentional process-lifetime singletons
# (pass/dialect registries). allow_user_poisoning=0: LLVM's header-inlined
# BumpPtrAllocator poisons arena slabs when compiled with ASan, but the
# uninstrumented libMLIR.so hands out memory from the same slabs without
# unpoisoning it, which ASan reports as use-after-poison (a false positive of
# mixing instrumented and uninstrumented code).
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:allow_user_poisoning=0"
PARALLEL=()
if ((JOBS > 1)); then
  PARALLEL=(-jobs="$JOBS" -workers="$JOBS")
  cd "$BUILD" # libFuzzer writes fuzz-N.log files into the working folder
  CORPUS=corpus BUILD=.
fi
"$BUILD/bin/nl-parser-fuzzer" "$CORPUS" \
  -dict="$ROOT/tools/nl-fuzz/nl.dict" \
  -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=4096 \
  -max_len=8192 "${PARALLEL[@]}" \
  -artifact_prefix="$BUILD/crashes/" -print_final_stats=1
