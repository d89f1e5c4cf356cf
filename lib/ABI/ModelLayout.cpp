//===- ModelLayout.cpp - The ABI's layout for nl-split-heads --------------===//
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
/// The tensors of a model as the C ABI lists them (computeABI).
struct ABIModelLayout : public nl::ModelLayoutInterface {
  using ModelLayoutInterface::ModelLayoutInterface;

  std::optional<nl::ModelLayout> getLayout(nl::ModelOp model) const override {
    // A model the back ends reject is reported when they compile it.
    ScopedDiagnosticHandler quiet(model.getContext(),
                                  [](Diagnostic &) { return success(); });
    FailureOr<nlc::ModelABI> abi = nlc::computeABI(model);
    if (failed(abi))
      return std::nullopt;
    nl::ModelLayout layout;
    for (const nlc::ABITensor &t : abi->state)
      layout.state.push_back({t.name, ShapedType::getNumElements(t.shape)});
    layout.params = abi->params.size();
    for (const auto &shape : abi->outputs)
      layout.outputs.push_back(ShapedType::getNumElements(shape));
    return layout;
  }
};
} // namespace

void nlc::registerModelLayout(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *, nl::NLDialect *dialect) {
    dialect->addInterfaces<ABIModelLayout>();
  });
}
