#!/usr/bin/env bash
# The project's main job. Until the front end and the CPU back end exist,
# it verifies the bundled example model (nl IR), computes its schedule and
# prints the scheduled IR.
set -euo pipefail
BUILD_DIR="${1:-build}"
EXAMPLE="${NLC_EXAMPLE:-examples/titans-momentum.mlir}"
echo "== nl-opt --nl-verify-schedule ${EXAMPLE}"
"$BUILD_DIR/bin/nl-opt" --nl-verify-schedule="remarks=true" "$EXAMPLE"
