// RUN: nl-opt %s --nl-approximate-math | FileCheck %s
// RUN: nl-opt %s --nl-approximate-math=functions=exp | FileCheck %s --check-prefix=EXP

// erf, tanh and exp (the default) become arithmetic LLVM vectorizes, their
// fused multiply-adds LLVM's fma intrinsic (not a call to libm's fmaf);
// other math ops stay for libm. test/Runtime/approximate-math.test measures
// the activations built on them against float64.

// CHECK-LABEL: func.func @act
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.fma
// CHECK: llvm.intr.fma
// CHECK: math.log1p
// CHECK: return

// Only exp: erf and tanh stay.
// EXP-LABEL: func.func @act
// EXP: math.erf
// EXP: math.tanh
// EXP-NOT: math.exp
// EXP: math.log1p

func.func @act(%x: f32, %v: vector<8xf32>) -> (f32, f32, vector<8xf32>, f32) {
  %e = math.erf %x : f32
  %t = math.tanh %x : f32
  %x8 = math.exp %v : vector<8xf32>
  %l = math.log1p %x : f32
  return %e, %t, %x8, %l : f32, f32, vector<8xf32>, f32
}
