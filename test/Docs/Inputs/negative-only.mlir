// An input of no-negative-only-checks.test: the second run has only -NOT
// directives for its prefix, so it would pass on empty output; the first
// and the third (through `not` and a continuation line) are fine.
// RUN: nl-opt %s | FileCheck %s
// RUN: nl-opt %s | FileCheck %s --check-prefix=ONLYNOT
// RUN: not nl-opt %s 2>&1 | \
// RUN:   FileCheck %s --check-prefixes=ERR,BOTH
// CHECK: module
// ONLYNOT-NOT: nl.model
// ERR-NOT: crash
// BOTH: error
