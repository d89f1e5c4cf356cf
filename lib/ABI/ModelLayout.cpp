//===- ModelLayout.cpp - The ABI of a model, for nl-split-heads -----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/ABI/ModelABI.h"

#include "nl/IR/NLDialect.h"
#include "nl/Transforms/ModelLayout.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace {
/// The ABI computeABI gives a model, for nl-split-heads.
struct ABIModelLayout : public nl::ModelLayoutInterface {
  using ModelLayoutInterface::ModelLayoutInterface;

  nl::ABIAttr computeABI(nl::ModelOp model) const override {
    // A model the back ends reject is reported when they compile it.
    ScopedDiagnosticHandler quiet(model.getContext(),
                                  [](Diagnostic &) { return success(); });
    FailureOr<nlc::ModelABI> abi = nlc::computeABI(model);
    if (failed(abi))
      return {};
    return abi->toAttr(model.getContext());
  }
};
} // namespace

void nlc::registerModelLayout(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *, nl::NLDialect *dialect) {
    dialect->addInterfaces<ABIModelLayout>();
  });
}
