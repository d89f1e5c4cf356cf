//===- MaterializeABI.cpp - nl-materialize-abi ----------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Computes a model's ABI once and attaches it (nl.abi), for every later
// consumer to read.
//
//===----------------------------------------------------------------------===//

#include "nlc/ABI/ModelABI.h"
#include "nlc/Conversion/Passes.h"

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"

namespace nlc {
#define GEN_PASS_DEF_NLMATERIALIZEABI
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {
struct NLMaterializeABIPass
    : public nlc::impl::NLMaterializeABIBase<NLMaterializeABIPass> {
  void runOnOperation() override {
    nl::ModelOp model = getOperation();
    if (model->hasAttr(nl::NLDialect::getABIAttrName())) {
      markAllAnalysesPreserved();
      return;
    }
    FailureOr<nlc::ModelABI> abi = nlc::computeABI(model);
    if (failed(abi))
      return signalPassFailure();
    model->setAttr(nl::NLDialect::getABIAttrName(),
                   abi->toAttr(model.getContext()));
    ++numMaterialized;
  }
};
} // namespace
