//===- NLDialect.h - The nl dialect -----------------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLDIALECT_H
#define NL_IR_NLDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "nl/IR/NLDialect.h.inc"

#endif // NL_IR_NLDIALECT_H
