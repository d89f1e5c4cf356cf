//===- NLTypes.td - Types of the nl dialect ---------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The state types of levels. Moment buffers and plain slow weights are
// ordinary ranked tensors; the types here are memories that can be read.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TYPES_TD
#define NL_TYPES_TD

include "mlir/IR/AttrTypeBase.td"
include "nl/IR/NLDialect.td"
include "nl/IR/NLEnums.td"
include "nl/IR/NLInterfaces.td"

class NL_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<NL_Dialect, name,
              !listconcat([DeclareTypeInterfaceMethods<NL_MemoryTypeInterface>],
                          traits)> {
  let mnemonic = typeMnemonic;
}

def NL_MatrixType : NL_Type<"Matrix", "matrix"> {
  let summary = "a matrix memory, one per head";
  let description = [{
    A linear associative memory. With the default layout `out_in` the stored
    matrix is `rows x cols = d_out x d_in` and a read is `y = M k`; with
    `in_out` (the layout of flash-linear-attention) it is `d_in x d_out` and a
    read is `y = S^T k` (ambiguity A3). `heads` independent matrices are kept
    side by side; keys and values then have a leading `heads` dimension.

    Example:
    ```mlir
    !nl.matrix<64x64xf32>
    !nl.matrix<128x64xf32, heads = 4>
    !nl.matrix<64x128xf32, layout = in_out>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols,
                        "::mlir::Type":$elementType,
                        DefaultValuedParameter<"int64_t", "1">:$heads,
                        NL_DefaultEnum<NL_Layout, "out_in">:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The shape of the stored value: [heads,] rows, cols.
    ::llvm::SmallVector<int64_t> getStorageShape() const;
  }];
}

def NL_MlpType : NL_Type<"Mlp", "mlp"> {
  let summary = "an MLP memory: layer widths, activation, residual, norm";
  let description = [{
    A deep associative memory `M(k)`: layers of widths `widths[0] ->
    widths[1] -> ... -> widths[n]`, the activation between layers, an
    optional bias per layer, an optional residual connection `k + ...`
    (needs `widths[0] == widths[n]`) and an optional normalization of the
    layer stack's output before the residual (TTT: `x + LN(f(x))`).
    Layer i stores a `widths[i+1] x widths[i]` weight. Weights are f32.

    Example: the 2-layer residual memory of Hope, `M(x) = x + W1 silu(W2 x)`,
    and a TTT-MLP memory with biases and a layer norm.
    ```mlir
    !nl.mlp<[64, 256, 64], silu, residual>
    !nl.mlp<[64, 256, 64], gelu_tanh, bias, residual, norm = layer, heads = 4>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$widths,
                        NL_DefaultEnum<NL_Activation, "identity">:$activation,
                        DefaultValuedParameter<"bool", "false">:$bias,
                        DefaultValuedParameter<"bool", "false">:$residual,
                        NL_DefaultEnum<NL_NormKind, "none">:$norm,
                        DefaultValuedParameter<"int64_t", "1">:$heads);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    unsigned getNumLayers() const { return getWidths().size() - 1; }
    /// One stored tensor of the memory: `w<i>` (layer i's weight,
    /// [heads?, widths[i+1], widths[i]]) or `b<i>` (its bias, [heads?,
    /// widths[i+1]]), in the order w0, b0, w1, b1, ...
    struct Part {
      std::string name;
      ::llvm::SmallVector<int64_t> shape;
      bool isBias;
    };
    ::llvm::SmallVector<Part> getParts() const;
  }];
}

def NL_KvCacheType : NL_Type<"KvCache", "kv_cache"> {
  let summary = "the key/value cache of a non-parametric level";
  let description = [{
    The state of an attention-like level (period `inf`): every token appends
    one key and one value; a read is softmax attention of the query over the
    cached pairs (a Nadaraya-Watson estimate). `window = 0` keeps every token;
    `window = c` keeps the last c (sliding-window attention).

    Example:
    ```mlir
    !nl.kv_cache<key = 64, value = 64, window = 512>
    !nl.kv_cache<key = 64, value = 64, heads = 8>
    ```
  }];
  let parameters = (ins "int64_t":$key, "int64_t":$value,
                        DefaultValuedParameter<"int64_t", "0">:$window,
                        DefaultValuedParameter<"int64_t", "1">:$heads);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // NL_TYPES_TD
