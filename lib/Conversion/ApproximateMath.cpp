//===- ApproximateMath.cpp - nl-approximate-math --------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Transcendental math ops as polynomials (MLIR's approximations), so that
// LLVM vectorizes the loops around them instead of calling libm per element.
//
//===----------------------------------------------------------------------===//

#include "nlc/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

namespace nlc {
#define GEN_PASS_DEF_NLAPPROXIMATEMATH
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

/// math.fma as LLVM's fma intrinsic: convert-math-to-libm would make it a
/// call to fmaf per element, the approximations are written in it.
struct FmaToIntrinsic : public OpRewritePattern<math::FmaOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::FmaOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<LLVM::FMAOp>(op, op.getA(), op.getB(),
                                             op.getC());
    return success();
  }
};

struct NLApproximateMathPass
    : public nlc::impl::NLApproximateMathBase<NLApproximateMathPass> {
  using Base::Base;
  void runOnOperation() override {
    llvm::StringSet<> chosen;
    if (functions.empty())
      for (StringRef f : {"erf", "tanh", "exp"})
        chosen.insert(f);
    for (const std::string &f : functions)
      chosen.insert(f);
    // The predicate sees operation names ("math.erf").
    auto approximate = [&](StringRef name) {
      name.consume_front("math.");
      return chosen.contains(name);
    };
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, approximate);
    patterns.add<FmaToIntrinsic>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
