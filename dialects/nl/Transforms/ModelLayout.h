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
// on them.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_MODELLAYOUT_H
#define NL_TRANSFORMS_MODELLAYOUT_H

#include "nl/IR/NLOps.h"

#include "mlir/IR/DialectInterface.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>
#include <utility>

namespace mlir::nl {

/// The tensors of a compiled model, in the order of its C ABI.
struct ModelLayout {
  /// Every state tensor of one stream: name and element count.
  llvm::SmallVector<std::pair<std::string, int64_t>> state;
  size_t params = 0;
  /// The element count of each output of the step.
  llvm::SmallVector<int64_t> outputs;
};

class ModelLayoutInterface
    : public DialectInterface::Base<ModelLayoutInterface> {
public:
  ModelLayoutInterface(Dialect *dialect) : Base(dialect) {}

  /// The layout of `model`, or nullopt (and no diagnostic) when the back
  /// ends would not compile it (an unscheduled model, a rule they do not
  /// support yet).
  virtual std::optional<ModelLayout> getLayout(ModelOp model) const = 0;
};

} // namespace mlir::nl

MLIR_DECLARE_EXPLICIT_TYPE_ID(mlir::nl::ModelLayoutInterface)

#endif // NL_TRANSFORMS_MODELLAYOUT_H
