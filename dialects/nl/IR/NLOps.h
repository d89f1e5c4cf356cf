//===- NLOps.h - Operations of the nl dialect -------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLOPS_H
#define NL_IR_NLOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLTypes.h"

namespace mlir::nl {
class LevelOp;
class ParamOp;
class StateOp;
class StepOp;
class ChunkStepOp;
class BackwardStepOp;
class TransferOp;
} // namespace mlir::nl

#define GET_OP_CLASSES
#include "nl/IR/NLOps.h.inc"

namespace mlir::nl {
/// An f32 tensor constant of `shape` with every element `value` (an nl
/// scalar or gate when the shape is empty).
Value createF32Splat(OpBuilder &builder, Location loc, double value,
                     ArrayRef<int64_t> shape = {});

/// Finds the level `ref` in the model around `op`; emits an error at `op`
/// and returns null if there is none.
LevelOp lookupLevelFor(Operation *op, FlatSymbolRefAttr ref,
                       SymbolTableCollection &tables);

/// The storage type of the state `@level::@state` (or of one stored tensor
/// of an MLP memory, `@level::@state::@part`) in the model around `op`, or
/// null after a located error.
RankedTensorType lookupStateStorage(Operation *op, SymbolRefAttr ref,
                                    SymbolTableCollection &tables);
} // namespace mlir::nl

#endif // NL_IR_NLOPS_H
