#!/usr/bin/env bash
# The project's main job: compile the bundled Hope model to nl IR, print it,
# then print a summary of its levels and schedule. (Running the model comes
# with the CPU back end.)
set -euo pipefail
BUILD_DIR="${1:-build}"
EXAMPLE="${NLC_EXAMPLE:-examples/hope.nl}"
if [[ ! -f "$EXAMPLE" ]]; then
  EXAMPLE=examples/hope.mlir
fi
echo "== nlc ${EXAMPLE} --emit=scheduled"
"$BUILD_DIR/bin/nlc" "$EXAMPLE" --emit=scheduled
echo
echo "== nlc ${EXAMPLE} --summary"
"$BUILD_DIR/bin/nlc" "$EXAMPLE" --summary
