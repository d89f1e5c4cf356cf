//===- NL.td - Umbrella of the nl dialect -----------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TD
#define NL_TD

include "nl/IR/NLDialect.td"
include "nl/IR/NLEnums.td"
include "nl/IR/NLInterfaces.td"
include "nl/IR/NLAttrs.td"
include "nl/IR/NLTypes.td"
include "nl/IR/NLOps.td"

#endif // NL_TD
