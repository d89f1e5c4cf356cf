//===- NLDialect.cpp - The nl dialect -------------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLDialect.cpp.inc"

void NLDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "nl/IR/NLOps.cpp.inc"
      >();
}
