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

#ifdef __cplusplus
} // extern "C"
#endif

#endif // NLRT_NLRT_H
