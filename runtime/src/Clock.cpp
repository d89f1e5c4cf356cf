//===- Clock.cpp - Level clock of the nlc runtime -------------------------===//
//
// Implementation of nlrt::Clock. See Clock.h for the time semantics and the
// layout of saved states.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Clock.h"

#include <cassert>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

using namespace nlrt;

namespace {

constexpr size_t kHeaderWords = 5;   // magic, version, count, fingerprint, time
constexpr size_t kWordsPerLevel = 4; // period, pending, updates, frozen
constexpr size_t kTrailerWords = 1;  // checksum

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

/// Mixes the 8 little-endian bytes of `word` into the FNV-1a hash `hash`.
uint64_t fnvWord(uint64_t hash, uint64_t word) {
  for (int byte = 0; byte < 8; ++byte) {
    hash ^= (word >> (8 * byte)) & 0xffU;
    hash *= kFnvPrime;
  }
  return hash;
}

/// Mixes the bytes of `text` and a terminating zero byte into `hash`.
uint64_t fnvString(uint64_t hash, const std::string &text) {
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return hash * kFnvPrime; // The terminating zero byte: hash ^= 0 is a no-op.
}

/// Reinterprets a 64-bit pattern as a signed word (two's complement).
int64_t toWord(uint64_t bits) {
  if (bits <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(bits);
  return -static_cast<int64_t>(~bits) - 1;
}

/// Checksum of the first `count` words of `words`.
int64_t checksum(const std::vector<int64_t> &words, size_t count) {
  uint64_t hash = kFnvOffset;
  for (size_t i = 0; i < count; ++i)
    hash = fnvWord(hash, static_cast<uint64_t>(words[i]));
  return toWord(hash);
}

bool isValidPeriod(int64_t period) {
  return period >= 1 || period == LevelTiming::kInfinite ||
         period == LevelTiming::kFrozen;
}

bool isValidTail(TailPolicy tail) {
  return tail == TailPolicy::Carry || tail == TailPolicy::Flush ||
         tail == TailPolicy::Drop;
}

/// Effective scheduling period: 1 for inf, 0 for frozen, C otherwise.
int64_t effectivePeriod(int64_t period) {
  if (period == LevelTiming::kInfinite)
    return 1;
  if (period == LevelTiming::kFrozen)
    return 0;
  return period;
}

/// "level 2 ('cms')", for diagnostics.
std::string describe(size_t index, const std::string &name) {
  return "level " + std::to_string(index) + " ('" + name + "')";
}

std::string invalidPeriodMessage(size_t index, const LevelTiming &level) {
  return describe(index, level.name) + ": invalid period " +
         std::to_string(level.period) +
         " (expected >= 1, LevelTiming::kInfinite (-1) or "
         "LevelTiming::kFrozen (-2))";
}

void setError(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
}

bool fail(std::string *error, std::string message) {
  setError(error, "invalid clock state: " + std::move(message));
  return false;
}

} // namespace

const char *nlrt::tailPolicyName(TailPolicy policy) {
  switch (policy) {
  case TailPolicy::Carry:
    return "carry";
  case TailPolicy::Flush:
    return "flush";
  case TailPolicy::Drop:
    return "drop";
  }
  return "invalid";
}

Clock::Clock(std::vector<LevelTiming> levels) : timings(std::move(levels)) {
  uint64_t hash = fnvWord(kFnvOffset, timings.size());
  states.reserve(timings.size());
  for (const LevelTiming &level : timings) {
    LevelState state;
    state.period = effectivePeriod(level.period);
    state.frozen = state.period == 0;
    states.push_back(state);
    hash = fnvString(hash, level.name);
    hash = fnvWord(hash, static_cast<uint64_t>(level.period));
  }
  print = toWord(hash);
}

std::optional<Clock> Clock::create(std::vector<LevelTiming> levels,
                                   std::string *error) {
  std::set<std::string> names;
  for (size_t i = 0; i < levels.size(); ++i) {
    const LevelTiming &level = levels[i];
    if (level.name.empty()) {
      setError(error, "level " + std::to_string(i) + ": empty name");
      return std::nullopt;
    }
    if (!names.insert(level.name).second) {
      setError(error, describe(i, level.name) + ": duplicate level name");
      return std::nullopt;
    }
    if (!isValidPeriod(level.period)) {
      setError(error, invalidPeriodMessage(i, level));
      return std::nullopt;
    }
    if (!isValidTail(level.tail)) {
      setError(error, describe(i, level.name) + ": invalid tail policy " +
                          std::to_string(static_cast<int>(level.tail)) +
                          " (expected 0 = carry, 1 = flush, 2 = drop)");
      return std::nullopt;
    }
  }
  return Clock(std::move(levels));
}

int64_t Clock::hyperPeriod(const std::vector<LevelTiming> &levels,
                           std::string *error) {
  int64_t result = 1;
  for (size_t i = 0; i < levels.size(); ++i) {
    const LevelTiming &level = levels[i];
    if (!isValidPeriod(level.period)) {
      setError(error, invalidPeriodMessage(i, level));
      return 0;
    }
    int64_t period = effectivePeriod(level.period);
    if (period == 0)
      continue;
    int64_t factor = result / std::gcd(result, period);
    if (factor > std::numeric_limits<int64_t>::max() / period) {
      setError(error, "hyper-period overflows int64 at " +
                          describe(i, level.name) + ": lcm(" +
                          std::to_string(result) + ", " +
                          std::to_string(period) + ") > " +
                          std::to_string(std::numeric_limits<int64_t>::max()));
      return 0;
    }
    result = factor * period;
  }
  return result;
}

std::vector<size_t> Clock::tick() {
  // Allocate before changing anything, so that a failed allocation leaves
  // the clock as it was.
  std::vector<size_t> fired;
  fired.reserve(states.size());
  ++now;
  for (size_t i = 0; i < states.size(); ++i) {
    LevelState &state = states[i];
    if (state.frozen)
      continue;
    if (++state.pending == state.period) {
      state.pending = 0;
      ++state.updates;
      fired.push_back(i);
    }
  }
  return fired;
}

std::vector<size_t> Clock::endOfCall() {
  std::vector<size_t> fired;
  fired.reserve(states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    LevelState &state = states[i];
    if (state.frozen || state.pending == 0)
      continue;
    switch (timings[i].tail) {
    case TailPolicy::Carry:
      break;
    case TailPolicy::Flush:
      state.pending = 0;
      ++state.updates;
      fired.push_back(i);
      break;
    case TailPolicy::Drop:
      state.pending = 0;
      break;
    }
  }
  return fired;
}

int64_t Clock::pending(size_t level) const {
  assert(level < states.size() && "level index out of range");
  return level < states.size() ? states[level].pending : -1;
}

int64_t Clock::updates(size_t level) const {
  assert(level < states.size() && "level index out of range");
  return level < states.size() ? states[level].updates : -1;
}

void Clock::freeze(size_t level) {
  assert(level < states.size() && "level index out of range");
  if (level < states.size())
    states[level].frozen = true;
}

void Clock::unfreeze(size_t level) {
  assert(level < states.size() && "level index out of range");
  if (level < states.size() && states[level].period != 0)
    states[level].frozen = false;
}

bool Clock::frozen(size_t level) const {
  assert(level < states.size() && "level index out of range");
  return level < states.size() && states[level].frozen;
}

void Clock::reset(size_t level) {
  assert(level < states.size() && "level index out of range");
  if (level < states.size())
    states[level].pending = 0;
}

std::vector<int64_t> Clock::saveState() const {
  std::vector<int64_t> words;
  words.reserve(kHeaderWords + kWordsPerLevel * states.size() + kTrailerWords);
  words.push_back(kStateMagic);
  words.push_back(kStateVersion);
  words.push_back(static_cast<int64_t>(states.size()));
  words.push_back(print);
  words.push_back(now);
  for (size_t i = 0; i < states.size(); ++i) {
    words.push_back(timings[i].period);
    words.push_back(states[i].pending);
    words.push_back(states[i].updates);
    words.push_back(states[i].frozen ? 1 : 0);
  }
  words.push_back(checksum(words, words.size()));
  return words;
}

bool Clock::loadState(const std::vector<int64_t> &state, std::string *error) {
  const size_t expectedSize =
      kHeaderWords + kWordsPerLevel * states.size() + kTrailerWords;
  if (state.size() < kHeaderWords + kTrailerWords)
    return fail(error, "truncated: " + std::to_string(state.size()) +
                           " words, expected " + std::to_string(expectedSize));
  if (state[0] != kStateMagic)
    return fail(error, "bad tag (not a saved nlrt clock state)");
  if (state[1] != kStateVersion)
    return fail(error, "unsupported version " + std::to_string(state[1]) +
                           " (this runtime reads version " +
                           std::to_string(kStateVersion) + ")");
  if (state[2] != static_cast<int64_t>(states.size()))
    return fail(error, "saved from a different clock: state has " +
                           std::to_string(state[2]) +
                           " levels, this clock has " +
                           std::to_string(states.size()));
  if (state.size() != expectedSize)
    return fail(error,
                std::string(state.size() < expectedSize ? "truncated: "
                                                        : "trailing data: ") +
                    std::to_string(state.size()) + " words, expected " +
                    std::to_string(expectedSize));
  if (state.back() != checksum(state, state.size() - 1))
    return fail(error, "corrupted (checksum mismatch)");

  const int64_t time = state[4];
  if (time < 0)
    return fail(error, "negative time " + std::to_string(time));

  // Validate every level before changing anything.
  std::vector<LevelState> loaded = states;
  for (size_t i = 0; i < states.size(); ++i) {
    const int64_t *words = &state[kHeaderWords + kWordsPerLevel * i];
    const std::string where = describe(i, timings[i].name);
    if (words[0] != timings[i].period)
      return fail(error,
                  "saved from a different clock: " + where + " has period " +
                      std::to_string(words[0]) + " in the state, " +
                      std::to_string(timings[i].period) + " in this clock");
    LevelState &level = loaded[i];
    int64_t pendingLimit = level.period == 0 ? 1 : level.period;
    if (words[1] < 0 || words[1] >= pendingLimit || words[1] > time)
      return fail(error, where + ": pending count " + std::to_string(words[1]) +
                             " out of range for period " +
                             std::to_string(timings[i].period) + " at time " +
                             std::to_string(time));
    if (words[2] < 0 || words[2] > time)
      return fail(error, where + ": update count " + std::to_string(words[2]) +
                             " out of range at time " + std::to_string(time));
    if (words[3] != 0 && words[3] != 1)
      return fail(error, where + ": frozen flag " + std::to_string(words[3]) +
                             " is not 0 or 1");
    if (level.period == 0 && words[3] != 1)
      return fail(error, where + ": statically frozen level saved as "
                                 "unfrozen");
    level.pending = words[1];
    level.updates = words[2];
    level.frozen = words[3] == 1;
  }
  // Same per-level periods but, e.g., renamed levels.
  if (state[3] != print)
    return fail(error, "saved from a different clock: level structure "
                       "fingerprint " +
                           std::to_string(state[3]) + " does not match " +
                           std::to_string(print) +
                           " (level names or order differ)");

  states = std::move(loaded);
  now = time;
  return true;
}
