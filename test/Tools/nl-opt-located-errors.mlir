// Bad input gets file:line:col, a message, and a non-zero exit; no crash.
// RUN: not nl-opt %s 2>&1 | FileCheck %s
// RUN: not nl-opt %S/does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: printf '\x00\x01\xff garbage' > %t.bin
// RUN: not nl-opt %t.bin 2>&1 | FileCheck %s --check-prefix=GARBAGE

// CHECK: nl-opt-located-errors.mlir:[[@LINE+2]]:22: error: custom op 'nl.level' chunk size must be a positive integer, got 0
nl.model @m attributes {dim = 4} {
  nl.level @l period 0 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// MISSING: cannot open input file '{{.*}}does-not-exist.mlir': No such file or directory
// GARBAGE: .bin:1:2: error: unexpected character
