// RUN: nl-opt %s --split-input-file -verify-diagnostics

// A chunk size is a positive integer, `inf` or `frozen`.

nl.model @zero attributes {dim = 4} {
  // expected-error @+1 {{custom op 'nl.level' chunk size must be a positive integer, got 0}}
  nl.level @L period 0 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @negative attributes {dim = 4} {
  // expected-error @+1 {{chunk size must be a positive integer, got -3}}
  nl.level @L period -3 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @non_integer attributes {dim = 4} {
  // expected-error @+1 {{expected a period: a positive chunk size, 'inf' or 'frozen'}}
  nl.level @L period 2.5 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @garbage_keyword attributes {dim = 4} {
  // expected-error @+1 {{expected a period: a positive chunk size, 'inf' or 'frozen'}}
  nl.level @L period never {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @missing attributes {dim = 4} {
  // expected-error @+1 {{expected a period: a positive chunk size, 'inf' or 'frozen'}}
  nl.level @L period rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// A chunk size that does not fit in 63 bits.
nl.model @too_large attributes {dim = 4} {
  // expected-error @+1 {{chunk size 99999999999999999999 is too large (at most 2^63 - 1)}}
  nl.level @L period 99999999999999999999 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// The attribute form is checked the same way.
// expected-error @+1 {{chunk size must be a positive integer, got 0}}
nl.model @attr_zero attributes {dim = 4, p = #nl.period<0>} {
}

// -----

// expected-error @+1 {{chunk size must be a positive integer, got -1}}
nl.model @attr_negative attributes {dim = 4, p = #nl.period<-1>} {
}

// -----

// expected-error @+1 {{expected a period: a positive chunk size, 'inf' or 'frozen'}}
nl.model @attr_keyword attributes {dim = 4, p = #nl.period<infinite>} {
}

// -----

// The generic form carries the attribute and is checked the same way.
"nl.model"() <{dim = 4 : i64, sym_name = "generic"}> ({
  // expected-error @+1 {{chunk size must be a positive integer, got 0}}
  "nl.level"() <{period = #nl.period<0>, sym_name = "L"}> ({
    "nl.state"() <{init = #nl.zeros, sym_name = "M", type = !nl.matrix<4x4xf32>}> : () -> ()
  }) : () -> ()
}) : () -> ()
