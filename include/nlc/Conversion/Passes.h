//===- Passes.h - nlc conversion passes -------------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_CONVERSION_PASSES_H
#define NLC_CONVERSION_PASSES_H

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace nlc {

/// The name prefix of the scratch globals of chunk entries (nl-to-loops),
/// which nl-export-c-abi makes thread_local.
inline constexpr const char *kThreadLocalScratchPrefix = "__nl_tls_scratch_";
// The facts passes hand on are the nl dialect's registered attributes
// (nl::NLDialect: nl.abi, nl.entry_point, nl.kernel, nl.serial,
// nl.token_scratch), verified wherever they appear.

#define GEN_PASS_DECL
#include "nlc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nlc/Conversion/Passes.h.inc"

} // namespace nlc

#endif // NLC_CONVERSION_PASSES_H
