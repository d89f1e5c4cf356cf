# nlc: two commands do all the set-up.
#   make run    install what is missing, configure, build, run the main job
#   make test   the same set-up, then the whole test suite with a summary
# Other targets: build, configure, setup, docs, clean; fuzz (libFuzzer,
# FUZZ_SECONDS in total) and test-asan (the suite under ASan + UBSan).

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
LLVM_PREFIX ?= /usr/lib/llvm-22

CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
  -DMLIR_DIR=$(LLVM_PREFIX)/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=$(LLVM_PREFIX)/bin/lit \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: all setup configure build run test bench bench-quick docs clean \
  fuzz test-asan

all: build

setup:
	@./scripts/setup.sh

$(BUILD_DIR)/build.ninja: | setup
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: setup $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@./scripts/run-main.sh $(BUILD_DIR)

test: build
	@./scripts/run-tests.sh $(BUILD_DIR)

# The CPU benchmark suite (bench/run.sh): sgemm peak, W1 at d = 64, 128, 256
# vs a hand-fused C++ loop and PyTorch eager, W2-W5 vs PyTorch eager (per
# token and chunked), W6 vs the stream bandwidth, W7 decode; table, JSON
# lines and a PNG chart in build/bench/.
bench: build
	@./bench/run.sh $(BUILD_DIR) 64 128 256

# A quick subset (W1 at d = 64, W3, W4, W6, W7), a few minutes.
bench-quick: build
	@BENCH_SETS="W1 W3 W4 W6 W7" ./bench/run.sh $(BUILD_DIR) 64

# libFuzzer (scripts/fuzz.sh): the .nl front end and the runtime's readers
# (safetensors, .npy, manifest JSON) for FUZZ_SECONDS in total (default 240),
# seeded from what build/bin/nl-run writes; findings in build-fuzz/crashes/,
# non-zero exit if there are any. Not part of make test or CI.
FUZZ_SECONDS ?= 240
fuzz: build
	@NL_RUN=$(BUILD_DIR)/bin/nl-run ./scripts/fuzz.sh $(FUZZ_SECONDS)

# The whole suite built with ASan + UBSan in build-asan/ (scripts/test-asan.sh).
test-asan: setup
	@./scripts/test-asan.sh

# Regenerates the dialect reference committed under docs/dialect/.
docs: build
	cmake --build $(BUILD_DIR) --target nlc-doc
	cp $(BUILD_DIR)/docs/Dialects/NL.md docs/dialect/NL.md
	cp $(BUILD_DIR)/docs/Passes/NLPasses.md docs/dialect/NLPasses.md
	cp $(BUILD_DIR)/docs/Passes/NLCConversionPasses.md docs/dialect/NLCConversionPasses.md

clean:
	rm -rf $(BUILD_DIR)
