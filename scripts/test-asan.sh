#!/usr/bin/env bash
# Builds nlc with AddressSanitizer and UndefinedBehaviorSanitizer in a tree of
# its own and runs the whole suite on it (make test-asan; not part of make
# test or CI).
#   scripts/test-asan.sh                 configure, build everything, run
#                                        scripts/run-tests.sh build-asan
#   scripts/test-asan.sh TARGET...       build only these targets; run the
#                                        GoogleTest binaries among them
#                                        (e.g. NLRuntimeTests) directly
# $ASAN_BUILD_DIR (default build-asan) is the tree; clang-22 compiles it
# (Release, as make test, plus -fsanitize=address,undefined
# -fno-omit-frame-pointer -gline-tables-only). What runs instrumented: nlrt,
# nl-run, nlc's and nl-opt's own code, the unit tests and the toy model they
# load; not libMLIR.so/libLLVM.so (Debian's), nor the models nlc compiles,
# which nl-run dlopens: those are uninstrumented.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${ASAN_BUILD_DIR:-build-asan}"
LLVM_PREFIX="${LLVM_PREFIX:-/usr/lib/llvm-22}"
JOBS="${JOBS:-$(nproc)}"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -gline-tables-only"

# The sanitizer runtimes of clang-22.
if ! compgen -G "$LLVM_PREFIX/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.a" > /dev/null; then
  echo "test-asan.sh: installing libclang-rt-22-dev (ASan, UBSan)"
  SUDO=""; ((EUID == 0)) || SUDO=sudo
  $SUDO apt-get install -y libclang-rt-22-dev > /dev/null
fi

# ASan: no leak reports (MLIR's intentional process-lifetime singletons:
# pass and dialect registries); allow_user_poisoning=0 because LLVM's
# header-inlined BumpPtrAllocator poisons arena slabs when compiled with ASan
# while the uninstrumented libMLIR.so hands out memory from the same slabs
# without unpoisoning it (a false use-after-poison of mixing instrumented and
# uninstrumented code; see scripts/fuzz.sh). UBSan: every report is fatal,
# with a stack. lit passes both variables through to the tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

if [[ ! -f "$BUILD/build.ninja" ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
fi

if (($#)); then
  cmake --build "$BUILD" -j "$JOBS" --target "$@"
  status=0
  for target in "$@"; do
    bin="$BUILD/unittests/$target"
    [[ "$target" == *Tests && -x "$bin" ]] || continue
    echo "test-asan.sh: running $bin"
    options="$ASAN_OPTIONS"
    # The runtime's tests link no MLIR: leaks are reported there.
    [[ "$target" == NLRuntimeTests ]] && options="${options/detect_leaks=0/detect_leaks=1}"
    (cd "$BUILD/unittests" && ASAN_OPTIONS="$options" "./$target") || status=1
  done
  exit $status
fi

cmake --build "$BUILD" -j "$JOBS"

# test/Runtime/c-api.test links the instrumented libnlrt.a into a C program
# with `cc`: that needs clang's sanitizer runtimes. A `cc` first on PATH
# adds them to command lines naming libnlrt.a and passes every other one
# (nlc links the models it compiles with `cc`) to the real cc unchanged.
SHIM="$BUILD/asan-shim"
mkdir -p "$SHIM"
REAL_CC="$(command -v cc)"
cat > "$SHIM/cc" << EOF
#!/usr/bin/env bash
for arg in "\$@"; do
  if [[ "\$arg" == *libnlrt.a ]]; then
    exec clang-22 -fsanitize=address,undefined "\$@"
  fi
done
exec "$REAL_CC" "\$@"
EOF
chmod +x "$SHIM/cc"
export PATH="$(cd "$SHIM" && pwd):$PATH"

./scripts/run-tests.sh "$BUILD"
