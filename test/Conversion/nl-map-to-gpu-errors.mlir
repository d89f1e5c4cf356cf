// RUN: nl-opt %s --split-input-file --nl-map-to-gpu --verify-diagnostics
// RUN: not nl-opt %s --split-input-file --nl-map-to-gpu=block-size=0 2>&1 | FileCheck %s --check-prefix=BLOCK
// BLOCK: error: block-size must be in [1, 1024], not 0

// A parallel loop with a reduction has no block-strided form here.
module {
  func.func @m_step_impl(%s: memref<4xf32>, %x: memref<4xf32>, %y: memref<4xf32>, %active: i64, %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f32
    // expected-error @below {{'scf.parallel' op with reductions is not mapped to the GPU}}
    %r = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
      %v = memref.load %x[%i] : memref<4xf32>
      scf.reduce(%v : f32) {
      ^bb0(%a: f32, %b: f32):
        %n = arith.addf %a, %b : f32
        scf.reduce.return %n : f32
      }
    }
    return
  }
}

// -----

// A value made by a write that every thread would need.
module {
  func.func @m_step_impl(%s: memref<4xf32>, %x: memref<4xf32>, %y: memref<4xf32>, %active: i64, %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f32
    // expected-error @below {{writes memory and produces a value used by every thread}}
    %last = scf.for %i = %c0 to %c4 step %c1 iter_args(%a = %zero) -> (f32) {
      %v = memref.load %x[%i] : memref<4xf32>
      memref.store %a, %s[%i] : memref<4xf32>
      scf.yield %v : f32
    }
    memref.store %last, %y[%c0] : memref<4xf32>
    %n = arith.addf %last, %last : f32
    return
  }
}

// -----

// The function must take the arguments its entry point lists.
module {
  // expected-error @below {{does not have the arguments of its nl.entry_point}}
  func.func @m_step_impl(%s: memref<4xf32>) attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
    return
  }
}

// -----

// A parallel loop inside a region op other than scf.for / scf.if.
module {
  func.func @m_step_impl(%s: memref<4xf32>, %x: memref<4xf32>, %y: memref<4xf32>, %active: i64, %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    // expected-error @below {{'scf.execute_region' op holds a parallel loop in a region the GPU mapping does not know}}
    scf.execute_region {
      scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
        %v = memref.load %x[%i] : memref<4xf32>
        memref.store %v, %y[%i] : memref<4xf32>
        scf.reduce
      }
      scf.yield
    }
    return
  }
}

// -----

// Scratch of a size known only at run time.
module {
  func.func @m_step_impl(%s: memref<4xf32>, %x: memref<4xf32>, %y: memref<4xf32>, %active: i64, %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
    %n = arith.index_cast %active : i64 to index
    // expected-error @below {{'memref.alloca' op scratch of type 'memref<?xf32>' is not mapped to the GPU}}
    %t = memref.alloca(%n) : memref<?xf32>
    return
  }
}
