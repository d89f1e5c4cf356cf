// --emit=ast needs a .nl description, not nl IR.
// RUN: rm -f %t.out
// RUN: not nlc %s --emit=ast -o %t.out 2>&1 | FileCheck %s --strict-whitespace
// RUN: sh -c 'nlc %s --emit=ast -o %t.out >/dev/null 2>&1; echo rc=$?' | FileCheck %s --check-prefix=RC
// RUN: not ls %t.out
// RC: rc=1

// CHECK: {{^}}nlc: error: --emit=ast needs a .nl description; the input is already MLIR{{$}}
// CHECK-NOT: {{.}}

module {
}
