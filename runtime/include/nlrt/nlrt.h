//===- nlrt.h - Plain-C API of the nlc runtime --------------------*- C -*-===//
//
// A small, stable C ABI over the nlc runtime (C99 and C++). Nothing here
// throws or aborts: invalid arguments are reported through return values and
// error buffers. The time semantics are those of nlrt::Clock (nlrt/Clock.h).
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_NLRT_H
#define NLRT_NLRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Period of an `inf` level (scheduled as period 1).
#define NLRT_PERIOD_INFINITE ((int64_t)-1)
/// Period of a level that is never updated online.
#define NLRT_PERIOD_FROZEN ((int64_t)-2)

/// Tail policies (what the end of a call does with a partial chunk).
enum {
  NLRT_TAIL_CARRY = 0, ///< Keep it; the next call continues the chunk.
  NLRT_TAIL_FLUSH = 1, ///< Fire now with the partial chunk; restart phase.
  NLRT_TAIL_DROP = 2   ///< Discard it without firing; restart phase.
};

/// Opaque handle to a level clock.
typedef struct nlrt_clock nlrt_clock_t;

/// Creates a clock with `n` levels named "level0", "level1", ...; periods[i]
/// is a chunk size >= 1, NLRT_PERIOD_INFINITE or NLRT_PERIOD_FROZEN, and
/// tails[i] an NLRT_TAIL_* value (`tails` may be NULL: all carry). Returns
/// NULL on failure and, if `err` is non-NULL and `errlen` > 0, writes a
/// NUL-terminated (possibly truncated) message to it; on success `err` is set
/// to the empty string.
nlrt_clock_t *nlrt_clock_create(const int64_t *periods, const int *tails,
                                size_t n, char *err, size_t errlen);

/// Destroys a clock (NULL is accepted and ignored).
void nlrt_clock_destroy(nlrt_clock_t *clk);

/// Number of levels of `clk` (0 if `clk` is NULL).
size_t nlrt_clock_num_levels(const nlrt_clock_t *clk);

/// Advances time by one token. If `fired` is non-NULL it receives one flag
/// per level (1: the level fires after this token, 0: it does not). Returns
/// the number of levels that fire, or -1 if `clk` is NULL.
int64_t nlrt_clock_tick(nlrt_clock_t *clk, uint8_t *fired);

/// Applies the tail policies at the end of a call. `fired` (optional, one
/// flag per level) marks the levels that flush now. Returns their number, or
/// -1 if `clk` is NULL.
int64_t nlrt_clock_end_of_call(nlrt_clock_t *clk, uint8_t *fired);

/// Number of tokens seen so far, or -1 if `clk` is NULL.
int64_t nlrt_clock_time(const nlrt_clock_t *clk);

/*===--------------------------------------------------------------------===*
 * Compiled models and sessions
 *
 * A model is the shared library `nlc --emit=lib -o m.so` writes (or the PTX
 * image `nlc --target=cuda --emit=lib -o m.ptx` writes), with its manifest
 * `m.json` next to it. A session holds the state of `batch` independent
 * streams of one model, on the CPU or on a GPU. Every function returns 0 on
 *success and -1 on failure, with a message in `err` (truncated to `errlen`);
 *none throws or aborts on bad input.
 *===--------------------------------------------------------------------===*/

typedef struct nlrt_model nlrt_model_t;
typedef struct nlrt_session nlrt_session_t;

/** Loads a compiled model; NULL on failure. */
nlrt_model_t *nlrt_model_load(const char *library_path, char *err,
                              size_t errlen);
void nlrt_model_destroy(nlrt_model_t *model);
/** The width of one input token, and the number of values of output 0. */
int64_t nlrt_model_dim(const nlrt_model_t *model);
int64_t nlrt_model_output_size(const nlrt_model_t *model);
/** The number of parameters and of state tensors (the manifest's "params"
 *  and "state", in that order), and the number of values of parameter /
 *  state tensor i per stream; -1 for a NULL model or an index out of
 *  range. */
int64_t nlrt_model_num_params(const nlrt_model_t *model);
int64_t nlrt_model_num_state(const nlrt_model_t *model);
int64_t nlrt_model_param_numel(const nlrt_model_t *model, size_t i);
int64_t nlrt_model_state_numel(const nlrt_model_t *model, size_t i);
/** The manifest (JSON), owned by the model. */
const char *nlrt_model_manifest(const nlrt_model_t *model);

/** A session of `batch` streams, initialized with `seed`; NULL on failure.
 *  Runs on the CPU (a CUDA model is refused). */
nlrt_session_t *nlrt_session_create(const nlrt_model_t *model, int64_t batch,
                                    uint64_t seed, char *err, size_t errlen);
/** The same on `device`: "cpu" (also when NULL), "cuda" or "cuda:0" (the
 *  first GPU CUDA_VISIBLE_DEVICES leaves). The model must have been compiled
 *  for that device's target; without a driver or a GPU, CUDA fails with a
 *  message saying so. */
nlrt_session_t *nlrt_session_create_on(const nlrt_model_t *model, int64_t batch,
                                       uint64_t seed, const char *device,
                                       char *err, size_t errlen);
void nlrt_session_destroy(nlrt_session_t *session);
/** Parameters (and file-initialized states) from a safetensors file. */
int nlrt_session_load_params(nlrt_session_t *session, const char *path,
                             char *err, size_t errlen);
/** Runs `tokens` tokens of every stream: x is [batch, tokens, dim]; y (may
 *  be NULL) receives output 0 as [batch, tokens, output_size]. */
int nlrt_session_run(nlrt_session_t *session, const float *x, int64_t tokens,
                     float *y, int threads, char *err, size_t errlen);
/** The forward of a call, as nlrt_session_run (y may be NULL), and its
 *  backward (a CPU model compiled with nlc --backward): the gradients of
 *  L = sum over outputs o of <dys[o], output o>, from the state at the
 *  start of the call, by backpropagation through time with the manifest's
 *  checkpoints and truncation. dys: NULL (all zero) or one pointer per
 *  output, each NULL (zero) or [batch, tokens, numel of output o].
 *  dparams: NULL or one pointer per parameter (NULL entries skipped), each
 *  receiving its gradient summed over streams and tokens (numel floats).
 *  dstate: NULL or one pointer per state tensor, each receiving the
 *  cotangent of the state at the start of the call ([batch, numel]).
 *  dx: NULL or [batch, tokens, dim], the input's cotangent. */
int nlrt_session_backward(nlrt_session_t *session, const float *x,
                          int64_t tokens, const float *const *dys, float *y,
                          float *const *dparams, float *const *dstate,
                          float *dx, int threads, char *err, size_t errlen);
int nlrt_session_save_state(const nlrt_session_t *session, const char *path,
                            char *err, size_t errlen);
int nlrt_session_load_state(nlrt_session_t *session, const char *path,
                            char *err, size_t errlen);
int nlrt_session_reset_level(nlrt_session_t *session, const char *level,
                             char *err, size_t errlen);
int nlrt_session_freeze_level(nlrt_session_t *session, const char *level,
                              int frozen, char *err, size_t errlen);
/** How many times level `level` (manifest index) has fired; -1 if none. */
int64_t nlrt_session_updates(const nlrt_session_t *session, size_t level);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // NLRT_NLRT_H
