#!/usr/bin/env bash
# The project's main job. Until the front end and the CPU back end exist,
# it verifies the bundled example model (nl IR), computes its schedule and
# prints the scheduled IR.
set -euo pipefail
BUILD_DIR="${1:-build}"
EXAMPLE="${NLC_EXAMPLE:-examples/hope.mlir}"
echo "== nl-opt --nl-verify-schedule ${EXAMPLE}"
"$BUILD_DIR/bin/nl-opt" --nl-verify-schedule "$EXAMPLE"
echo
echo "== schedule of ${EXAMPLE}"
"$BUILD_DIR/bin/nl-opt" --nl-verify-schedule="remarks=true" --mlir-print-op-on-diagnostic=false \
  "$EXAMPLE" -o /dev/null 2>&1 | sed -e "s/^.*remark: /  /" -e "/^ *nl\./d" -e "/^ *\^/d"
