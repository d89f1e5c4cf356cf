//===- NLTypes.h - Types of the nl dialect ----------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLTYPES_H
#define NL_IR_NLTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"
#include "nl/IR/NLAttrs.h"

#include "nl/IR/NLTypeInterfaces.h.inc"

#define GET_TYPEDEF_CLASSES
#include "nl/IR/NLTypes.h.inc"

namespace mlir::nl {
/// The tensor type that holds a state of type `stateType` (the storage shape
/// of a matrix memory, the tensor itself for buffers); null for memories
/// without a single tensor (MLP, KV cache).
RankedTensorType getStorageTensorType(Type stateType);

/// The f32 tensor type of `shape`, the type of every nl value.
RankedTensorType getF32TensorType(ArrayRef<int64_t> shape, MLIRContext *ctx);

/// A shape as `[64, 16]`, for diagnostics.
std::string formatShape(ArrayRef<int64_t> shape);
} // namespace mlir::nl

#endif // NL_IR_NLTYPES_H
