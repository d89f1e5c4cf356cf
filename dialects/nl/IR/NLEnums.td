//===- NLEnums.td - Enumerations of the nl dialect --------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Each enumeration names one axis of a learning rule or a level. Unknown
// names are rejected by the parser with the list of valid ones. Every value
// says what it means (NL_EnumCase's `doc`, one line): the generated
// reference (docs/dialect/NL.md) lists "`value`: meaning" for each value
// wherever the enumeration is used, in the rule's and the memory types'
// parameter tables and in the ops' attribute tables.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ENUMS_TD
#define NL_ENUMS_TD

include "mlir/IR/EnumAttr.td"
include "nl/IR/NLDialect.td"

// One value of an enumeration and what it means (one line of Markdown; no
// `|`, since it also goes into table cells).
class NL_EnumCase<string sym, int val, string meaning>
    : I32EnumAttrCase<sym, val> {
  string doc = meaning;
}

class NL_Enum<string name, string summary, list<NL_EnumCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::mlir::nl";
  let genSpecializedAttr = 0;
  // The values as a Markdown list (the description an op attribute of this
  // enum shows) and as one line (a parameter table's cell). The dialect
  // doc's own enum section (MLIR 22) prints the summary and the case table
  // only, so the meanings go where the enum is used.
  let description = !interleave(
      !foreach(c, cases, "* `" # c.str # "`: " # c.doc), "\n");
  string casesLine = !interleave(
      !foreach(c, cases, "`" # c.str # "`: " # c.doc), "; ");
}

// An enum stored as an attribute of an op; printed as a bare keyword.
class NL_OpEnum<string name, string summary, list<NL_EnumCase> cases>
    : NL_Enum<name, summary, cases> {
  let genSpecializedAttr = 1;
}

// An enum parameter of an attribute or type, documented by its values.
class NL_EnumParameter<NL_Enum info> : EnumParameter<info> {
  let summary = info.casesLine;
}

// An enum parameter that may be omitted and then takes `value`; the printer
// elides it when it equals `value`.
class NL_DefaultEnum<NL_Enum info, string value> : NL_EnumParameter<info> {
  let defaultValue = info.cppNamespace # "::" # info.className # "::" # value;
}

def NL_Objective : NL_Enum<"Objective", "inner objective of a level", [
  NL_EnumCase<"dot", 0, "`L = -⟨M k, v⟩`, gradient `-v kᵀ`: a step adds `lr v kᵀ` (Hebbian, linear attention; A18)">,
  NL_EnumCase<"l2", 1, "`L = ½‖M k - v‖²` (`‖M k - v‖²` with `l2 = full`), gradient `(M k - v) kᵀ` (the delta rule)">,
  NL_EnumCase<"lp", 2, "`L = ‖M k - v‖ₚᵖ` with exponent `p`, gradient `p sign(e) abs(e)^(p-1) kᵀ`, `e = M k - v`, unsmoothed (Moneta)">,
  NL_EnumCase<"huber", 3, "Huber loss of `e = M k - v` with threshold `huber_delta`: the l2 gradient `e kᵀ` while `‖e‖ ≤ δ` (per head), `δ sign(e) kᵀ` outside (Yaad)">,
  NL_EnumCase<"linear", 4, "`L = ⟨g, M⟩` for a given gradient g (the update's `grad`, or what a served level feeds it): optimizer levels">,
  NL_EnumCase<"oja", 5, "`L = -⟨M k, v⟩ + ½‖Mᵀ v‖²` (OjaNet, Irie 2022), gradient `v (Mᵀ v - k)ᵀ`: Hebbian with Oja's forgetting along v; the explicit-update form only">
]>;

def NL_Retention : NL_Enum<"Retention", "retention (forgetting) term", [
  NL_EnumCase<"none", 0, "nothing is forgotten: the step is added to the old state">,
  NL_EnumCase<"decay", 1, "the old state is multiplied by the update's `retain` gate (a scalar, one value per head or per key channel)">,
  NL_EnumCase<"l2_prox", 2, "a proximal term `‖M - M_prev‖²` scaled by `1/lr` (verified; the back ends do not compile it yet)">
]>;

def NL_Algorithm : NL_Enum<"Algorithm", "update algorithm", [
  NL_EnumCase<"gd", 0, "gradient descent: `M ← retain M - lr ∇L`">,
  NL_EnumCase<"momentum", 1, "`S ← decay S - lr ∇L`, `M ← retain M + S`; S is a second state (decay: `momentum_decay`) or a `via` level (decay: its `retain`; then `M ← retain M + lr S`)">,
  NL_EnumCase<"dgd", 2, "delta gradient descent, the proximal (implicit) step of the l2 objective with the step size `dgd_step` (NL Eqs 56-57)">,
  NL_EnumCase<"muon", 3, "momentum whose buffer goes through `ns_steps` Newton-Schulz iterations before it is applied: `M ← retain M + NS(S)` (`+ lr NS(S)` with a `via` level; NL Eqs 42, 52)">,
  NL_EnumCase<"adam", 4, "`m1 ← b1 m1 + c1 g`, `m2 ← b2 m2 + c2 g²` in the two `via` levels, `M ← retain M - lr m1 / (sqrt(m2) + eps)` (no bias correction)">,
  NL_EnumCase<"m3", 5, "Multi-scale Momentum Muon (NL Algorithm 1): `via` fast momentum M1, second moment V and slower momentum M2, `M ← retain M - lr (NS(M1) + slow_weight NS(M2)) / (sqrt(V) + eps)`, NS(M2) refreshed when the slow level fires">
]>;

def NL_GradPoint : NL_Enum<"GradPoint", "state at which gradients are taken", [
  NL_EnumCase<"token", 0, "at the state the level holds before this token (A9)">,
  NL_EnumCase<"chunk_start", 1, "every gradient of a chunk at the state the chunk started from (A9)">
]>;

def NL_ReadOrder : NL_Enum<"ReadOrder", "what a read in the same step sees", [
  NL_EnumCase<"before_write", 0, "`y_t = M_{t-1}(q_t)`: the state before this step's write">,
  NL_EnumCase<"after_write", 1, "`y_t = M_t(q_t)`: the state after it (on a chunked level, the chunk-start state until the chunk is applied)">,
  NL_EnumCase<"chunk_prefix", 2, "`y_t = (M_0 - Σ_{s≤t} lr_s g_s)(q_t)`: the chunk-start state minus the chunk's lr-weighted gradients so far, this token's included (TTT)">
]>;

def NL_DecayOrder : NL_Enum<"DecayOrder", "where a decay gate meets the gradient step", [
  NL_EnumCase<"decoupled", 0, "`M' = retain M - lr ∇L(M)`: the gradient at the old state (Titans)">,
  NL_EnumCase<"before_grad", 1, "`M' = retain M - lr ∇L(retain M)`: the gradient at the decayed state (Gated DeltaNet)">
]>;

def NL_L2Convention : NL_Enum<"L2Convention", "scale of the L2 objective", [
  NL_EnumCase<"half", 0, "`L = ½‖M k - v‖²`, gradient `(M k - v) kᵀ`">,
  NL_EnumCase<"full", 1, "`L = ‖M k - v‖²`, gradient `2 (M k - v) kᵀ` (Titans)">
]>;

def NL_Precond : NL_Enum<"Precond", "state preconditioner applied by the update", [
  NL_EnumCase<"none", 0, "only the objective's gradient acts">,
  NL_EnumCase<"delta", 1, "`M ← M (retain I - lr k kᵀ) - lr ∇L`, all at the old state (Hope Eq 88, A19)">
]>;

def NL_PrecondTarget : NL_Enum<"PrecondTarget",
                               "which weights of an MLP memory the preconditioner multiplies", [
  NL_EnumCase<"first_layer", 0, "the first layer's weight, whose input is the key (A21)">,
  NL_EnumCase<"every_layer", 1, "every layer's weight (refused by the back ends: the inner layers' inputs are not k; A21)">
]>;

def NL_DgdStep : NL_Enum<"DgdStep", "effective step size of delta gradient descent", [
  NL_EnumCase<"sherman_morrison", 0, "`lr' = lr / (1 + lr ‖k‖²)`, the exact proximal step (A5)">,
  NL_EnumCase<"unit_norm", 1, "`lr' = lr / (1 + lr)`, the paper's form for unit keys (A5)">,
  NL_EnumCase<"undamped", 2, "`M (I - k kᵀ) - lr (M k - v) kᵀ` (camera-ready Eq 28; A5)">
]>;

def NL_WriteMode : NL_Enum<"WriteMode", "how outer gradients see inner writes", [
  NL_EnumCase<"stop_grad", 0, "outer gradients do not flow through the level's writes (A24)">,
  NL_EnumCase<"differentiable", 1, "outer gradients flow through the writes: the model is meta-learned through its inner loop (A24)">
]>;

def NL_GradSource : NL_Enum<"GradSource", "source of a level's gradient", [
  NL_EnumCase<"local", 0, "the level's own key/value objective (A11)">,
  NL_EnumCase<"task", 1, "the task loss: a teach signal dL/dh fed as the value of a `dot` objective (NL Eq 58, A11)">
]>;

def NL_LrPlacement : NL_Enum<"LrPlacement", "where the step size enters a chunk sum", [
  NL_EnumCase<"per_token", 0, "`Σ_t lr_t ∇L_t`: each token's gradient scaled by its own lr (A10)">,
  NL_EnumCase<"per_chunk", 1, "`lr Σ_t ∇L_t`: the chunk's sum scaled once by the lr of its last token (A10)">
]>;

def NL_ChunkApply : NL_Enum<"ChunkApply", "when a chunked level's steps reach its state", [
  NL_EnumCase<"at_end", 0, "the chunk's steps are summed and applied on its last token (titans-pytorch)">,
  NL_EnumCase<"every_token", 1, "each token's step reaches the state at once (through the momentum), every gradient at the chunk-start state (Titans section 3.2; `grad_at = chunk_start`)">
]>;

def NL_Phase : NL_OpEnum<"Phase", "when a level learns", [
  NL_EnumCase<"online", 0, "the level learns inside `nl.step`, while the model serves">,
  NL_EnumCase<"offline", 1, "the level learns only in an offline phase (consolidation, pre-training) and is not updated in `nl.step`">
]>;

def NL_TailPolicy : NL_OpEnum<"TailPolicy", "partial chunk at the end of a call", [
  NL_EnumCase<"carry", 0, "the partial chunk is kept and the next call continues it, so streaming equals one long call (A12)">,
  NL_EnumCase<"flush", 1, "the partial chunk is applied at the end of the call, as a short chunk">,
  NL_EnumCase<"drop", 2, "the partial chunk is discarded">
]>;

def NL_TransferKind : NL_OpEnum<"TransferKind", "kind of knowledge transfer between levels", [
  NL_EnumCase<"parametric", 0, "`to` is conditioned on the state of `from` (its reads feed `to`'s keys, values or gates); no gradient crosses">,
  NL_EnumCase<"nonparametric", 1, "the same, from a KV-cache level">,
  NL_EnumCase<"backprop", 2, "names CMS's one gradient flow at two frequencies; no gradient crosses the edge (A13)">,
  NL_EnumCase<"init", 3, "`from` initializes `to`; with `reset`, `to`'s memory becomes a copy of `from`'s whenever `from` applies a chunk (nested CMS)">,
  NL_EnumCase<"generation", 4, "`from` generates `to`'s context or weights, through the step's dataflow">
]>;

def NL_Activation : NL_OpEnum<"Activation", "elementwise activation", [
  NL_EnumCase<"identity", 0, "`x`">,
  NL_EnumCase<"relu", 1, "`max(x, 0)`">,
  NL_EnumCase<"silu", 2, "`x sigmoid(x)`">,
  NL_EnumCase<"gelu", 3, "`x (1 + erf(x / √2)) / 2`">,
  NL_EnumCase<"gelu_tanh", 4, "`x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2`">,
  NL_EnumCase<"sigmoid", 5, "`1 / (1 + exp(-x))`">,
  NL_EnumCase<"tanh", 6, "`tanh(x)`">,
  NL_EnumCase<"softplus", 7, "`log(1 + exp(x))`, computed as `max(x, 0) + log1p(exp(-abs(x)))`">,
  NL_EnumCase<"exp", 8, "`exp(x)`">
]>;

def NL_NormKind : NL_OpEnum<"NormKind", "normalization over the last dimension", [
  NL_EnumCase<"none", 0, "no normalization">,
  NL_EnumCase<"l2", 1, "`x / max(‖x‖, eps)`">,
  NL_EnumCase<"layer", 2, "`(x - mean(x)) / sqrt(var(x) + eps) * scale + shift`">,
  NL_EnumCase<"rms", 3, "`x / sqrt(mean(x²) + eps) * scale`">
]>;

def NL_StateRole : NL_OpEnum<"StateRole", "what a bookkeeping state holds", [
  NL_EnumCase<"accumulator", 0, "the pending chunk's summed contributions (`@__acc`)">,
  NL_EnumCase<"gate", 1, "a gate of the pending chunk's last token (`@__gate.<level>.<gate>`)">,
  NL_EnumCase<"snapshot", 2, "the chunk-start state gradients are taken at (`chunk_apply = every_token`), and its flag">,
  NL_EnumCase<"window", 3, "the last tokens' keys, values or step sizes of an Omega window (`@__omega_keys`, `@__omega_values`, `@__omega_lr`), newest last">
]>;

def NL_Layout : NL_Enum<"Layout", "orientation of a matrix memory", [
  NL_EnumCase<"out_in", 0, "M is d_out × d_in and reads `y = M k` (nlc; A3)">,
  NL_EnumCase<"in_out", 1, "S is d_in × d_out and reads `y = Sᵀ k` (fla; refused by the back ends; A3)">
]>;

// What a tensor of a compiled model's ABI (#nl.abi) holds. The lowering
// finds every tensor by its kind and fields, never by its name.
def NL_ABIKind : NL_Enum<"ABIKind", "what a tensor of a compiled model holds", [
  NL_EnumCase<"param", 0, "an nl.param">,
  NL_EnumCase<"state", 1, "an nl.state (`state`; of an MLP memory, its tensor `part`)">,
  NL_EnumCase<"kv_keys", 2, "a KV cache `state`'s ring of keys">,
  NL_EnumCase<"kv_values", 3, "a KV cache `state`'s ring of values">,
  NL_EnumCase<"kv_pos", 4, "a KV cache's next slot to write (i32)">,
  NL_EnumCase<"kv_fill", 5, "how many of a KV cache's slots hold tokens (i32)">,
  NL_EnumCase<"accumulator", 6, "the gradient sum of the pending chunk (of MLP tensor `part`)">,
  NL_EnumCase<"defer_dy", 7, "an MLP level's deferred lr dy rows of weight `part`">,
  NL_EnumCase<"defer_x", 8, "the x rows matching `defer_dy`">,
  NL_EnumCase<"defer_count", 9, "the tokens in the deferred ring (i32)">,
  NL_EnumCase<"omega_keys", 10, "the Omega rule's window of the last keys">,
  NL_EnumCase<"omega_values", 11, "the Omega rule's window of the last values">,
  NL_EnumCase<"omega_lr", 12, "the Omega rule's window of the last lr gates">,
  NL_EnumCase<"omega_pos", 13, "the Omega window's next slot (i32)">,
  NL_EnumCase<"omega_fill", 14, "how many of the Omega window's slots hold tokens (i32)">,
  NL_EnumCase<"m3_pending", 15, "m3: the slow momentum's pending gradient sum for level `of`">,
  NL_EnumCase<"m3_o2", 16, "m3: NS(M2), used until the slow level fires again">,
  NL_EnumCase<"gate_lr", 17, "the pending chunk's lr gate of level `of`'s update">,
  NL_EnumCase<"gate_retain", 18, "the pending chunk's retain gate of level `of`'s update">,
  NL_EnumCase<"gate_momentum_decay", 19, "the pending chunk's momentum_decay gate of level `of`'s update">,
  NL_EnumCase<"history", 20, "the last inputs of short convolution `index` of the step">
]>;

// An entry point of a compiled model (#nl.entry_point).
def NL_EntryKind : NL_Enum<"EntryKind", "what an entry point of a compiled model runs", [
  NL_EnumCase<"step", 0, "one token: the model's step, then the fires">,
  NL_EnumCase<"flush", 1, "the fires of the end of a call (tail flush)">,
  NL_EnumCase<"chunk", 2, "`tokens` tokens at once (nl.chunk_step)">,
  NL_EnumCase<"backward", 3, "the vector-Jacobian product of one token (nl.backward_step): the step's arguments with the outputs' cotangents for its outputs, then the parameters' gradients, the states' adjoints and the input's cotangent">
]>;

#endif // NL_ENUMS_TD
