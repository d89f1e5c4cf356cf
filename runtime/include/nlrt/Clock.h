//===- Clock.h - Level clock of the nlc runtime -----------------*- C++ -*-===//
//
// The level clock decides, token by token, which levels of a nested-learning
// model apply their accumulated chunk update. It owns no math: it only counts.
//
// Time semantics (the contract the compiled kernels rely on):
//  - time() is the 1-based count of tokens seen so far; tick() advances it.
//  - A level with period C keeps a counter of the tokens in its current
//    partial chunk (pending()). Each tick adds one token to every level that
//    is not frozen; a level whose counter reaches C fires (its chunk update is
//    applied) and its counter restarts at 0. Without resets, flushes or drops
//    this is exactly "fires after token t iff t % C == 0".
//  - An `inf` level (non-parametric, e.g. an attention KV cache) is written
//    every token, so for scheduling it is a period-1 level.
//  - A frozen level (statically: period kFrozen; or at run time: freeze())
//    never fires and does not accumulate tokens. Freezing at run time keeps
//    the partial chunk, which resumes on unfreeze().
//  - Levels that fire after the same token are reported in index order.
//  - endOfCall() applies each level's TailPolicy to its partial chunk.
//
// Nothing in the public API throws (except std::bad_alloc when memory runs
// out, as for any standard container); errors are reported through a
// `std::string *error` out-parameter (which may be null). The plain-C API in
// nlrt/nlrt.h never throws at all.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_CLOCK_H
#define NLRT_CLOCK_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nlrt {

/// What happens to a level's partial chunk at the end of a call.
enum class TailPolicy : int {
  /// Keep the pending tokens; the next call continues the chunk, so feeding
  /// a sequence in pieces gives the same firings as feeding it whole.
  Carry = 0,
  /// Apply the partial chunk now, as if the chunk ended: the level fires with
  /// fewer than `period` tokens and its next chunk starts at the next token.
  Flush = 1,
  /// Discard the pending tokens' contributions; the next chunk starts at the
  /// next token. The level does not fire.
  Drop = 2,
};

/// Returns "carry", "flush" or "drop" ("invalid" for any other value).
const char *tailPolicyName(TailPolicy policy);

/// The scheduling description of one level.
struct LevelTiming {
  /// Period of an `inf` level (written every token; scheduled as period 1).
  static constexpr int64_t kInfinite = -1;
  /// Period of a level that is never updated online. Deliberately not 0, so
  /// that a zero period (a typo, an uninitialized field) is an error rather
  /// than a silently frozen level.
  static constexpr int64_t kFrozen = -2;

  /// Unique, non-empty name of the level (used in diagnostics and in the
  /// fingerprint of saved states).
  std::string name;
  /// Chunk size C >= 1 in tokens, or kInfinite, or kFrozen.
  int64_t period = 1;
  /// What endOfCall() does with the level's partial chunk.
  TailPolicy tail = TailPolicy::Carry;
};

/// The level clock: time, and per level the position in its current chunk,
/// the number of updates so far and a run-time frozen flag.
class Clock {
public:
  /// Tag and version stored in the first two words of saveState().
  static constexpr int64_t kStateMagic = 0x6E6C72742D636C6BLL; // "nlrt-clk"
  static constexpr int64_t kStateVersion = 1;

  /// Validates `levels` and builds a clock at time 0 with every chunk empty.
  /// Fails (returns std::nullopt and writes a message to *error if `error` is
  /// non-null) if a period is neither >= 1 nor one of the sentinels, a tail
  /// policy is out of range, or a name is empty or duplicated.
  static std::optional<Clock> create(std::vector<LevelTiming> levels,
                                     std::string *error);

  /// Returns the hyper-period of `levels`: the lcm of the effective periods
  /// (kInfinite counts as 1, kFrozen is ignored; 1 if nothing is left). After
  /// that many tokens every Carry level is back at a chunk boundary. Returns
  /// 0 and writes *error on an invalid period or if the lcm overflows int64.
  static int64_t hyperPeriod(const std::vector<LevelTiming> &levels,
                             std::string *error);

  /// Number of levels.
  size_t numLevels() const { return timings.size(); }
  /// The timings the clock was created from, in index order.
  const std::vector<LevelTiming> &levels() const { return timings; }

  /// Advances time by one token and returns the indices (ascending) of the
  /// levels that fire after it.
  std::vector<size_t> tick();

  /// Applies the tail policies at the end of a call and returns the indices
  /// (ascending) of the levels that fire now: Flush levels with a non-empty
  /// partial chunk (their update count grows and their phase restarts). Drop
  /// levels with a non-empty partial chunk restart their phase silently;
  /// Carry levels keep it. Frozen levels are left untouched: their policy
  /// applies at the first endOfCall() after they are unfrozen. Time does not
  /// advance.
  std::vector<size_t> endOfCall();

  /// Number of tokens seen so far.
  int64_t time() const { return now; }

  /// Number of tokens in the current partial chunk of `level` (0 for inf and
  /// statically frozen levels). Returns -1 if `level` is out of range.
  int64_t pending(size_t level) const;

  /// Number of times `level` has fired (by tick() or by a flush). Returns -1
  /// if `level` is out of range.
  int64_t updates(size_t level) const;

  /// Freezes `level`: it stops accumulating tokens and never fires, and its
  /// partial chunk is kept. Ignored if `level` is out of range.
  void freeze(size_t level);

  /// Unfreezes `level`, which resumes its partial chunk. Statically frozen
  /// levels (period kFrozen) stay frozen. Ignored if `level` is out of range.
  void unfreeze(size_t level);

  /// Whether `level` is frozen, statically or at run time (false if `level`
  /// is out of range).
  bool frozen(size_t level) const;

  /// Discards the partial chunk of `level` without firing: its next chunk
  /// starts at the next token. Time, the update count and the frozen flag are
  /// unchanged. Ignored if `level` is out of range.
  void reset(size_t level);

  /// A 64-bit fingerprint of the level structure (count, names, periods);
  /// tail policies are not part of it.
  int64_t fingerprint() const { return print; }

  /// Serializes the clock state as a flat vector of 6 + 4 * numLevels()
  /// words:
  ///   [0] kStateMagic  [1] kStateVersion  [2] numLevels()  [3] fingerprint()
  ///   [4] time()
  ///   then per level: period (as given, sentinels included), pending(),
  ///   updates(), frozen() (0 or 1)
  ///   [last] checksum: 64-bit FNV-1a over the bytes of all previous words,
  ///          each word taken as 8 little-endian bytes.
  std::vector<int64_t> saveState() const;

  /// Restores a state written by saveState() of a clock with the same level
  /// structure. On failure (wrong tag or version, truncated or corrupted
  /// vector, different levels or periods, inconsistent counters) returns
  /// false, writes a message to *error if non-null, and leaves the clock
  /// unchanged.
  bool loadState(const std::vector<int64_t> &state, std::string *error);

private:
  /// Run-time state of one level.
  struct LevelState {
    /// Effective period: >= 1, or 0 for a statically frozen level.
    int64_t period = 0;
    int64_t pending = 0;
    int64_t updates = 0;
    bool frozen = false;
  };

  explicit Clock(std::vector<LevelTiming> levels);

  std::vector<LevelTiming> timings;
  std::vector<LevelState> states;
  int64_t now = 0;
  int64_t print = 0;
};

} // namespace nlrt

#endif // NLRT_CLOCK_H
