//===- NLEnums.td - Enumerations of the nl dialect --------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Each enumeration names one axis of a learning rule or a level. Unknown
// names are rejected by the parser with the list of valid ones.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ENUMS_TD
#define NL_ENUMS_TD

include "mlir/IR/EnumAttr.td"
include "nl/IR/NLDialect.td"

class NL_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::nl";
  let genSpecializedAttr = 0;
}

// An enum stored as an attribute of an op; printed as a bare keyword.
class NL_OpEnum<string name, string summary, list<I32EnumAttrCase> cases>
    : NL_Enum<name, summary, cases> {
  let genSpecializedAttr = 1;
}

// An enum parameter of an attribute that may be omitted and then takes
// `value`; the printer elides it when it equals `value`.
class NL_DefaultEnum<EnumAttrInfo info, string value> : EnumParameter<info> {
  let defaultValue = info.cppNamespace # "::" # info.className # "::" # value;
}

def NL_Objective : NL_Enum<"Objective", "inner objective of a level", [
  I32EnumAttrCase<"dot", 0>,     // L = -<M k, v>           (Hebbian, linear attention)
  I32EnumAttrCase<"l2", 1>,      // L = c ||M k - v||^2     (delta rule)
  I32EnumAttrCase<"lp", 2>,      // L = ||M k - v||_p^p     (Moneta)
  I32EnumAttrCase<"huber", 3>,   // Huber(M k - v; delta)   (Yaad)
  I32EnumAttrCase<"linear", 4>   // L = <g, M>, g given     (optimizer levels)
]>;

def NL_Retention : NL_Enum<"Retention", "retention (forgetting) term", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"decay", 1>,   // M <- retain * M + ..., retain a gate
  I32EnumAttrCase<"l2_prox", 2>  // proximal ||M - M_prev||^2 scaled by 1/lr
]>;

def NL_Algorithm : NL_Enum<"Algorithm", "update algorithm", [
  I32EnumAttrCase<"gd", 0>,
  I32EnumAttrCase<"momentum", 1>,
  I32EnumAttrCase<"dgd", 2>,     // delta / implicit GD (proximal delta step)
  I32EnumAttrCase<"muon", 3>,    // momentum through Newton-Schulz
  I32EnumAttrCase<"adam", 4>,
  I32EnumAttrCase<"m3", 5>       // Multi-scale Momentum Muon (NL Algorithm 1)
]>;

def NL_GradPoint : NL_Enum<"GradPoint", "state at which gradients are taken", [
  I32EnumAttrCase<"token", 0>,       // at the state before this token
  I32EnumAttrCase<"chunk_start", 1>  // at the state of the chunk start
]>;

def NL_ReadOrder : NL_Enum<"ReadOrder", "what a read in the same step sees", [
  I32EnumAttrCase<"before_write", 0>, // y_t = M_{t-1}(q_t)
  I32EnumAttrCase<"after_write", 1>,  // y_t = M_t(q_t)
  I32EnumAttrCase<"chunk_prefix", 2>  // y_t = (M_{t'} - sum_{s<=t} lr_s g_s)(q_t), TTT
]>;

def NL_DecayOrder : NL_Enum<"DecayOrder", "where a decay gate meets the gradient step", [
  I32EnumAttrCase<"decoupled", 0>,   // M' = retain M - lr grad(M)          (Titans)
  I32EnumAttrCase<"before_grad", 1>  // M' = retain M - lr grad(retain M)   (Gated DeltaNet)
]>;

def NL_L2Convention : NL_Enum<"L2Convention", "scale of the L2 objective", [
  I32EnumAttrCase<"half", 0>,  // L = 1/2 ||.||^2, grad (Mk - v) k^T
  I32EnumAttrCase<"full", 1>   // L = ||.||^2,     grad 2 (Mk - v) k^T
]>;

def NL_Precond : NL_Enum<"Precond", "state preconditioner applied by the update", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"delta", 1>  // M <- M (retain I - lr k k^T) - lr grad (Hope)
]>;

def NL_PrecondTarget : NL_Enum<"PrecondTarget",
                               "which weights of an MLP memory the preconditioner multiplies", [
  I32EnumAttrCase<"first_layer", 0>,
  I32EnumAttrCase<"every_layer", 1>
]>;

def NL_DgdStep : NL_Enum<"DgdStep", "effective step size of delta gradient descent", [
  I32EnumAttrCase<"sherman_morrison", 0>, // lr' = lr / (1 + lr ||k||^2)
  I32EnumAttrCase<"unit_norm", 1>,        // lr' = lr / (1 + lr)   (paper, ||k|| = 1)
  I32EnumAttrCase<"undamped", 2>          // camera-ready Eq 28: M (I - k k^T) - lr grad
]>;

def NL_WriteMode : NL_Enum<"WriteMode", "how outer gradients see inner writes", [
  I32EnumAttrCase<"stop_grad", 0>,
  I32EnumAttrCase<"differentiable", 1>
]>;

def NL_GradSource : NL_Enum<"GradSource", "source of a level's gradient", [
  I32EnumAttrCase<"local", 0>, // the level's own key/value objective
  I32EnumAttrCase<"task", 1>   // the task loss (teach signal dL/dh)
]>;

def NL_LrPlacement : NL_Enum<"LrPlacement", "where the step size enters a chunk sum", [
  I32EnumAttrCase<"per_token", 0>, // sum_t lr_t grad_t
  I32EnumAttrCase<"per_chunk", 1>  // lr_chunk * sum_t grad_t
]>;

def NL_ChunkApply : NL_Enum<"ChunkApply", "when a chunked level's steps reach its state", [
  I32EnumAttrCase<"at_end", 0>,     // summed, applied on the chunk's last token (titans-pytorch)
  I32EnumAttrCase<"every_token", 1> // each token's step applied at once, gradients
                                    // at the chunk start (Titans paper 3.2)
]>;

def NL_Phase : NL_OpEnum<"Phase", "when a level learns", [
  I32EnumAttrCase<"online", 0>,  // while serving, inside nl.step
  I32EnumAttrCase<"offline", 1>  // in an offline (sleep / pre-training) phase
]>;

def NL_TailPolicy : NL_OpEnum<"TailPolicy", "partial chunk at the end of a call", [
  I32EnumAttrCase<"carry", 0>,  // keep it; the next call continues the chunk
  I32EnumAttrCase<"flush", 1>,  // apply it now, as a short chunk
  I32EnumAttrCase<"drop", 2>    // discard it
]>;

def NL_TransferKind : NL_OpEnum<"TransferKind", "kind of knowledge transfer between levels", [
  I32EnumAttrCase<"parametric", 0>,
  I32EnumAttrCase<"nonparametric", 1>,
  I32EnumAttrCase<"backprop", 2>,
  I32EnumAttrCase<"init", 3>,
  I32EnumAttrCase<"generation", 4>
]>;

def NL_Activation : NL_OpEnum<"Activation", "elementwise activation", [
  I32EnumAttrCase<"identity", 0>,
  I32EnumAttrCase<"relu", 1>,
  I32EnumAttrCase<"silu", 2>,
  I32EnumAttrCase<"gelu", 3>,
  I32EnumAttrCase<"gelu_tanh", 4>,
  I32EnumAttrCase<"sigmoid", 5>,
  I32EnumAttrCase<"tanh", 6>,
  I32EnumAttrCase<"softplus", 7>,
  I32EnumAttrCase<"exp", 8>
]>;

def NL_NormKind : NL_OpEnum<"NormKind", "normalization over the last dimension", [
  I32EnumAttrCase<"none", 0>,
  I32EnumAttrCase<"l2", 1>,
  I32EnumAttrCase<"layer", 2>,
  I32EnumAttrCase<"rms", 3>
]>;

def NL_StateRole : NL_OpEnum<"StateRole", "what a bookkeeping state holds", [
  I32EnumAttrCase<"accumulator", 0>, // the pending chunk's summed contributions
  I32EnumAttrCase<"gate", 1>,        // a gate of the pending chunk's last token
  I32EnumAttrCase<"snapshot", 2>     // the chunk-start state gradients are taken at
                                     // (chunk_apply = every_token), and its flag
]>;

def NL_Layout : NL_Enum<"Layout", "orientation of a matrix memory", [
  I32EnumAttrCase<"out_in", 0>, // M is d_out x d_in, y = M x (nlc)
  I32EnumAttrCase<"in_out", 1>  // S is d_in x d_out, y = S^T x (fla)
]>;

// What a tensor of a compiled model's ABI (#nl.abi) holds. The lowering
// finds every tensor by its kind and fields, never by its name.
def NL_ABIKind : NL_Enum<"ABIKind", "what a tensor of a compiled model holds", [
  I32EnumAttrCase<"param", 0>,          // an nl.param
  I32EnumAttrCase<"state", 1>,          // an nl.state (`state`; of an MLP memory, its tensor `part`)
  I32EnumAttrCase<"kv_keys", 2>,        // a KV cache `state`'s ring of keys
  I32EnumAttrCase<"kv_values", 3>,      // its ring of values
  I32EnumAttrCase<"kv_pos", 4>,         // its next slot to write (i32)
  I32EnumAttrCase<"kv_fill", 5>,        // how many of its slots hold tokens (i32)
  I32EnumAttrCase<"accumulator", 6>,    // the gradient sum of the pending chunk (of MLP tensor `part`)
  I32EnumAttrCase<"defer_dy", 7>,       // an MLP level's deferred lr dy rows of weight `part`
  I32EnumAttrCase<"defer_x", 8>,        // the matching x rows
  I32EnumAttrCase<"defer_count", 9>,    // the tokens in the deferred ring (i32)
  I32EnumAttrCase<"omega_keys", 10>,    // the Omega rule's window: the last keys,
  I32EnumAttrCase<"omega_values", 11>,  // values
  I32EnumAttrCase<"omega_lr", 12>,      // and lr gates of the update,
  I32EnumAttrCase<"omega_pos", 13>,     // its next slot (i32)
  I32EnumAttrCase<"omega_fill", 14>,    // and its fill (i32)
  I32EnumAttrCase<"m3_pending", 15>,    // m3: the slow momentum's pending gradient sum for level `of`
  I32EnumAttrCase<"m3_o2", 16>,         // m3: NS(M2), used until the slow level fires again
  I32EnumAttrCase<"gate_lr", 17>,       // the pending chunk's lr gate of level `of`'s update
  I32EnumAttrCase<"gate_retain", 18>,   // its retain gate
  I32EnumAttrCase<"gate_momentum_decay", 19>, // its momentum_decay gate
  I32EnumAttrCase<"history", 20>        // the last inputs of short convolution `index` of the step
]>;

// An entry point of a compiled model (#nl.entry_point).
def NL_EntryKind : NL_Enum<"EntryKind", "what an entry point of a compiled model runs", [
  I32EnumAttrCase<"step", 0>,  // one token: the model's step, then the fires
  I32EnumAttrCase<"flush", 1>, // the fires of the end of a call (tail flush)
  I32EnumAttrCase<"chunk", 2>  // `tokens` tokens at once (nl.chunk_step)
]>;

#endif // NL_ENUMS_TD
