//===- ModelLayout.h - The tensors a compiled model keeps -------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl-split-heads must check that the model of one head holds the full
// model's state head by head, but which tensors a compiled model keeps (its
// levels' states and the buffers the generated code needs) is decided by
// the back ends (nlc::computeABI, lib/ABI). They register this dialect
// interface on the nl dialect (nlc::registerModelLayout, called by
// nlc::registerAllDialects), so that the pass asks them without depending
// on them: it reads the full model's nl.abi where nl-materialize-abi put
// one, and computes the one-head model's, which it then attaches.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_MODELLAYOUT_H
#define NL_TRANSFORMS_MODELLAYOUT_H

#include "nl/IR/NLOps.h"

#include "mlir/IR/DialectInterface.h"

namespace mlir::nl {

class ModelLayoutInterface
    : public DialectInterface::Base<ModelLayoutInterface> {
public:
  ModelLayoutInterface(Dialect *dialect) : Base(dialect) {}

  /// The ABI the back ends give `model` (the #nl.abi nl-materialize-abi
  /// would attach), or null (and no diagnostic) when they would not
  /// compile it (an unscheduled model, a rule they do not support yet).
  virtual ABIAttr computeABI(ModelOp model) const = 0;
};

} // namespace mlir::nl

MLIR_DECLARE_EXPLICIT_TYPE_ID(mlir::nl::ModelLayoutInterface)

#endif // NL_TRANSFORMS_MODELLAYOUT_H
