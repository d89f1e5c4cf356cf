//===- NLDialect.cpp - The nl dialect -------------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

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

//===----------------------------------------------------------------------===//
// The dialect's discardable attributes
//===----------------------------------------------------------------------===//

namespace {
/// An #nl.abi agrees with the model it describes: its name, parameters,
/// levels (in order) and chunk entry.
LogicalResult verifyABIOfModel(ModelOp model, ABIAttr abi) {
  auto fail = [&]() {
    return model.emitOpError() << "has an nl.abi that does not describe it: ";
  };
  if (abi.getModel() != model.getSymName())
    return fail() << "it is the ABI of '" << abi.getModel() << "'";
  SmallVector<ParamOp> params = llvm::to_vector(model.getParams());
  if (params.size() != abi.getParams().size())
    return fail() << "it lists " << abi.getParams().size()
                  << " parameters, the model has " << params.size();
  for (auto [p, t] : llvm::zip_equal(params, abi.getParams()))
    if (p.getSymName() != t.getName())
      return fail() << "parameter @" << p.getSymName() << " is listed as '"
                    << t.getName() << "'";
  SmallVector<LevelOp> levels = llvm::to_vector(model.getLevels());
  if (levels.size() != abi.getLevels().size())
    return fail() << "it lists " << abi.getLevels().size()
                  << " levels, the model has " << levels.size();
  for (auto [l, a] : llvm::zip_equal(levels, abi.getLevels()))
    if (l.getSymName() != a.getName())
      return fail() << "level @" << l.getSymName() << " is listed as '"
                    << a.getName() << "'";
  EntryPointAttr chunk = abi.getEntryPoint(EntryKind::chunk);
  ChunkStepOp step = model.getChunkStep();
  if (static_cast<bool>(chunk) != static_cast<bool>(step) ||
      (chunk && chunk.getTokens() != static_cast<int64_t>(step.getSize())))
    return fail() << (step ? "the model's chunk entry of " +
                                 std::to_string(step.getSize()) +
                                 " tokens is not listed"
                           : std::string("it lists a chunk entry the model "
                                         "does not have"));
  if (static_cast<bool>(abi.getEntryPoint(EntryKind::backward)) !=
      static_cast<bool>(model.getBackwardStep()))
    return fail() << (model.getBackwardStep()
                          ? "the model's backward entry is not listed"
                          : "it lists a backward entry the model does not "
                            "have");
  return success();
}

LogicalResult onFunction(Operation *op, NamedAttribute attr) {
  if (isa<FunctionOpInterface>(op))
    return success();
  return op->emitError() << "'" << attr.getName().getValue()
                         << "' is an attribute of functions";
}
} // namespace

LogicalResult NLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == getABIAttrName()) {
    auto abi = dyn_cast<ABIAttr>(attr.getValue());
    if (!abi)
      return op->emitError() << "'" << name << "' takes an #nl.abi";
    auto model = dyn_cast<ModelOp>(op);
    if (!model)
      return op->emitError() << "'" << name << "' is an attribute of nl.model";
    return verifyABIOfModel(model, abi);
  }
  if (name == getEntryPointAttrName()) {
    if (!isa<EntryPointAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' takes an #nl.entry_point";
    return onFunction(op, attr);
  }
  if (name == getKernelAttrName()) {
    if (!isa<KernelAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' takes an #nl.kernel";
    return onFunction(op, attr);
  }
  if (name == getSerialAttrName()) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' is a unit attribute";
    return onFunction(op, attr);
  }
  return op->emitError() << "unknown attribute '" << name
                         << "' of the nl dialect (known: nl.abi, "
                            "nl.entry_point, nl.kernel, nl.serial)";
}

LogicalResult NLDialect::verifyRegionArgAttribute(Operation *op,
                                                  unsigned regionIndex,
                                                  unsigned argIndex,
                                                  NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == getTokenScratchAttrName()) {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' is a unit attribute";
    return onFunction(op, attr);
  }
  return op->emitError() << "unknown argument attribute '" << name
                         << "' of the nl dialect (known: nl.token_scratch)";
}
