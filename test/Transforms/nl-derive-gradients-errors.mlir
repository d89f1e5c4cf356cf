// RUN: nl-opt %s --split-input-file --nl-derive-gradients -verify-diagnostics

// An op without a derivative rule on the differentiated path is a located
// error, not a crash or a silently wrong gradient.
func.func @conv(%x: tensor<4xf32>, %wc: tensor<2x4xf32>) -> tensor<4xf32> {
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @below {{'nl.conv' op depends on the differentiated values but has no derivative rule}}
    %c = nl.conv %a, %wc : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %l = nl.sum %c : tensor<4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<4xf32>
}

// -----

func.func @second_derivative(%x: tensor<4xf32>, %dy: tensor<4xf32>) -> tensor<4xf32> {
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @below {{'nl.norm_grad' op depends on the differentiated values; its second derivative has no rule yet}}
    %d = nl.norm_grad layer %a, %dy : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %l = nl.sum %d : tensor<4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<4xf32>
}

// -----

func.func @nested(%x: tensor<4xf32>) -> tensor<4xf32> {
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @below {{'nl.grad' op nested in nl.grad is not supported}}
    %h = nl.grad (%a) : tensor<4xf32> -> tensor<4xf32> {
    ^bb0(%b: tensor<4xf32>):
      %m = nl.sum %b : tensor<4xf32> -> tensor<f32>
      nl.yield %m : tensor<f32>
    }
    %l = nl.sum %h : tensor<4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<4xf32>
}

// -----

// Off the differentiated path the same op is fine: it is a constant.
func.func @conv_off_path(%x: tensor<4xf32>, %y: tensor<4xf32>, %wc: tensor<2x4xf32>) -> tensor<4xf32> {
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %c = nl.conv %y, %wc : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %p = nl.mul %a, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %l = nl.sum %p : tensor<4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<4xf32>
}
