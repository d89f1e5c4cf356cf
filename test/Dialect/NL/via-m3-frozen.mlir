// A frozen m3 level served by frozen optimizer levels verifies, like the
// frozen momentum/adam setups (e.g. a pre-trained model at inference).
// RUN: nl-opt %s -verify-diagnostics

nl.model @frozen_m3 attributes {dim = 4} {
  nl.level @m_fast period frozen rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period frozen rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow period frozen rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @W period frozen rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
