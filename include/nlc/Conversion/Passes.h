//===- Passes.h - nlc conversion passes -------------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_CONVERSION_PASSES_H
#define NLC_CONVERSION_PASSES_H

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
/// A function (the chunk entry) whose loops nl-parallelize-cpu keeps serial:
/// its thread-local scratch would be another thread's on a team member.
inline constexpr const char *kSerialFunctionAttr = "nl.serial";
/// An argument of a step (a per-token level's accumulator) that holds one
/// token's gradient between its write and its apply in the same step, and
/// nothing the next step reads: nl-fuse-rows may keep it as one row in the
/// fused loop instead of in memory.
inline constexpr const char *kTokenScratchAttr = "nl.token_scratch";
/// A step of a one-head model (nl-split-heads) whose last argument is the
/// head it computes; nl-export-c-abi gives its C entry that argument too.
inline constexpr const char *kHeadArgAttr = "nl.head_arg";

#define GEN_PASS_DECL
#include "nlc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nlc/Conversion/Passes.h.inc"

} // namespace nlc

#endif // NLC_CONVERSION_PASSES_H
