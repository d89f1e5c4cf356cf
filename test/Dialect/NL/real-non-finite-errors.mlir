// Reals are finite: a hexadecimal bit pattern of +inf or NaN is rejected
// where the parser reads it, so every printed real parses back.
// RUN: nl-opt %s --split-input-file -verify-diagnostics

nl.model @inf_fill attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_FillAttr parameter 'value'}}
  nl.param @inf : tensor<1xf32> = #nl.fill<0x7FF0000000000000>
}

// -----

nl.model @nan_fill attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_FillAttr parameter 'value'}}
  nl.param @nan : tensor<1xf32> = #nl.fill<0x7FF8000000000000>
}

// -----

nl.model @inf_p attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'p'}}
  nl.level @lp period frozen rule <objective = lp, p = 0x7FF0000000000000> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}
