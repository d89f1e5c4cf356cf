// RUN: nl-opt %s --split-input-file --nl-chunk=form=auto -verify-diagnostics | FileCheck %s --check-prefix=AUTO
// Without remarks, the same models and no diagnostic at all:
// RUN: sed -e '/expected-remark/d' %s | nl-opt --split-input-file --pass-pipeline='builtin.module(nl.model(nl-chunk{form=auto remarks=false}))' -verify-diagnostics | FileCheck %s --check-prefix=QUIET
// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-chunk{form=auto required=true}))' 2>/dev/null | FileCheck %s --check-prefix=REQUIRED
// RUN: nl-opt %s --split-input-file --nl-chunk 2>/dev/null | nl-opt --split-input-file --nl-chunk=form=off | FileCheck %s --check-prefix=OFF --implicit-check-not=nl.chunk_step
// RUN: not nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-chunk{form=off required=true}))' 2>&1 | FileCheck %s --check-prefix=CONTRADICT

// nl-chunk{form=auto}: the chunk form only where the cost model says it
// pays (nlc --chunk-form=auto); with `required` the cost model is not
// asked; form=off removes a chunk form.

// A chunk of 8 tokens or more, of a level that learns from the chunk start:
// kept.
// AUTO-LABEL: nl.model @chunk8
// AUTO:       nl.chunk_step size 8 (%{{.*}}: tensor<8x8xf32>) -> tensor<8x8xf32>
// QUIET-LABEL: nl.model @chunk8
// QUIET:       nl.chunk_step size 8
// REQUIRED-LABEL: nl.model @chunk8
// REQUIRED:       nl.chunk_step size 8
// OFF-LABEL: nl.model @chunk8
// OFF:       nl.step(
// OFF:         nl.update @M
nl.model @chunk8 attributes {dim = 8} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<8x8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<8xf32>) value(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<8xf32> -> tensor<8xf32>
    nl.yield %y : tensor<8xf32>
  }
}

// -----

// A chunk of 4 tokens runs as fast per token: dropped, with a remark.
// AUTO-LABEL: nl.model @chunk4
// AUTO:       nl.step(
// AUTO-NOT:   nl.chunk_step
// QUIET-LABEL: nl.model @chunk4
// QUIET:       nl.step(
// QUIET-NOT:   nl.chunk_step
// QUIET-LABEL: nl.model @delta
// REQUIRED-LABEL: nl.model @chunk4
// REQUIRED:       nl.chunk_step size 4
// OFF-LABEL: nl.model @chunk4
// OFF:       nl.step(
// expected-remark @below {{model @chunk4 keeps its per-token form only: its chunks of 4 tokens are shorter than 8, where the per-token form is as fast}}
nl.model @chunk4 attributes {dim = 8} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<8x8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<8xf32>) value(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<8xf32> -> tensor<8xf32>
    nl.yield %y : tensor<8xf32>
  }
}

// -----

// The delta rule (every level learns every token: the UT transform) with
// keys 4 wide: the per-token form is as fast.
// AUTO-LABEL: nl.model @delta
// AUTO-NOT:   nl.chunk_step
// REQUIRED-LABEL: nl.model @delta
// REQUIRED:       nl.chunk_step size 64
// expected-remark @below {{model @delta keeps its per-token form only: its levels all learn every token and its keys are 4 wide, narrower than the 128 from which the UT transform pays}}
nl.model @delta attributes {dim = 12} {
  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<12xf32>) -> tensor<8xf32> {
    %k0 = tensor.extract_slice %x[0] [8] [1] : tensor<12xf32> to tensor<8xf32>
    %k = tensor.expand_shape %k0 [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %v0 = tensor.extract_slice %x[4] [8] [1] : tensor<12xf32> to tensor<8xf32>
    %v = tensor.expand_shape %v0 [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %b = tensor.extract_slice %x[10] [2] [1] : tensor<12xf32> to tensor<2xf32>
    nl.update @S key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%b : tensor<2xf32>)
    %y = nl.read @S(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// ... and with keys 128 wide it pays.
// AUTO-LABEL: nl.model @wide_delta
// AUTO:       nl.chunk_step size 64 (%{{.*}}: tensor<64x128xf32>)
nl.model @wide_delta attributes {dim = 128} {
  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<128x128xf32> = #nl.zeros
  }
  nl.step(%x : tensor<128xf32>) -> tensor<128xf32> {
    %lr = arith.constant dense<0.01> : tensor<f32>
    nl.update @S key(%x : tensor<128xf32>) value(%x : tensor<128xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @S(%x) : tensor<128xf32> -> tensor<128xf32>
    nl.yield %y : tensor<128xf32>
  }
}

// CONTRADICT: error: nl-chunk: 'required' asks for the chunk form that 'form=off' removes
