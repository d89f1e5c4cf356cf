//===- CApi.cpp - Plain-C API of the nlc runtime --------------------------===//
//
// extern "C" wrappers over nlrt::Clock. Every entry point catches everything:
// no exception crosses the C ABI.
//
//===----------------------------------------------------------------------===//

#include "nlrt/nlrt.h"

#include "nlrt/Clock.h"

#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

static_assert(NLRT_PERIOD_INFINITE == nlrt::LevelTiming::kInfinite,
              "C and C++ inf sentinels differ");
static_assert(NLRT_PERIOD_FROZEN == nlrt::LevelTiming::kFrozen,
              "C and C++ frozen sentinels differ");
static_assert(NLRT_TAIL_CARRY == static_cast<int>(nlrt::TailPolicy::Carry) &&
                  NLRT_TAIL_FLUSH ==
                      static_cast<int>(nlrt::TailPolicy::Flush) &&
                  NLRT_TAIL_DROP == static_cast<int>(nlrt::TailPolicy::Drop),
              "C and C++ tail policies differ");

struct nlrt_clock {
  nlrt::Clock clock;
};

namespace {

/// Copies `message` into the caller's buffer, truncated and NUL-terminated.
void writeError(char *err, size_t errlen, const std::string &message) {
  if (!err || errlen == 0)
    return;
  size_t length = message.size() < errlen - 1 ? message.size() : errlen - 1;
  std::memcpy(err, message.data(), length);
  err[length] = '\0';
}

/// Runs `body`, turning any exception into `fallback`.
template <typename T, typename Fn> T guarded(T fallback, Fn &&body) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
  try {
    return body();
  } catch (...) {
    return fallback;
  }
#else
  (void)fallback;
  return body();
#endif
}

/// Writes the fired flags of `levels` into `fired` (if non-null).
int64_t report(const std::vector<size_t> &levels, size_t numLevels,
               uint8_t *fired) {
  if (fired) {
    std::memset(fired, 0, numLevels);
    for (size_t level : levels)
      fired[level] = 1;
  }
  return static_cast<int64_t>(levels.size());
}

} // namespace

extern "C" nlrt_clock_t *nlrt_clock_create(const int64_t *periods,
                                           const int *tails, size_t n,
                                           char *err, size_t errlen) {
  writeError(err, errlen, "");
  auto body = [&]() -> nlrt_clock_t * {
    if (n > 0 && !periods) {
      writeError(err, errlen, "periods is NULL but n = " + std::to_string(n));
      return nullptr;
    }
    std::vector<nlrt::LevelTiming> levels(n);
    for (size_t i = 0; i < n; ++i) {
      levels[i].name = "level" + std::to_string(i);
      levels[i].period = periods[i];
      levels[i].tail = tails ? static_cast<nlrt::TailPolicy>(tails[i])
                             : nlrt::TailPolicy::Carry;
    }
    std::string error;
    std::optional<nlrt::Clock> clock =
        nlrt::Clock::create(std::move(levels), &error);
    if (!clock) {
      writeError(err, errlen, error);
      return nullptr;
    }
    return new nlrt_clock{std::move(*clock)};
  };
  nlrt_clock_t *clk = guarded<nlrt_clock_t *>(nullptr, body);
  if (!clk && err && errlen > 0 && err[0] == '\0')
    writeError(err, errlen, "out of memory");
  return clk;
}

extern "C" void nlrt_clock_destroy(nlrt_clock_t *clk) { delete clk; }

extern "C" size_t nlrt_clock_num_levels(const nlrt_clock_t *clk) {
  return clk ? clk->clock.numLevels() : 0;
}

extern "C" int64_t nlrt_clock_tick(nlrt_clock_t *clk, uint8_t *fired) {
  if (!clk)
    return -1;
  return guarded<int64_t>(-1, [&] {
    return report(clk->clock.tick(), clk->clock.numLevels(), fired);
  });
}

extern "C" int64_t nlrt_clock_end_of_call(nlrt_clock_t *clk, uint8_t *fired) {
  if (!clk)
    return -1;
  return guarded<int64_t>(-1, [&] {
    return report(clk->clock.endOfCall(), clk->clock.numLevels(), fired);
  });
}

extern "C" int64_t nlrt_clock_time(const nlrt_clock_t *clk) {
  return clk ? clk->clock.time() : -1;
}
