//===- ClockTest.cpp - Unit tests for nlrt::Clock -------------------------===//
//
// Firing patterns, tail policies, run-time control, the streaming contract
// (save/load between pieces == one long run), state validation and the
// hyper-period.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Clock.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace nlrt;

namespace {

constexpr int64_t kInf = LevelTiming::kInfinite;
constexpr int64_t kFrozen = LevelTiming::kFrozen;

LevelTiming level(std::string name, int64_t period,
                  TailPolicy tail = TailPolicy::Carry) {
  return LevelTiming{std::move(name), period, tail};
}

/// Creates a clock, failing the calling test (with the error) if it cannot.
std::optional<Clock> make(std::vector<LevelTiming> levels) {
  std::string error;
  std::optional<Clock> clock = Clock::create(std::move(levels), &error);
  EXPECT_TRUE(clock.has_value()) << error;
  return clock;
}

/// Error message of a create() that must fail.
std::string createError(std::vector<LevelTiming> levels) {
  std::string error;
  std::optional<Clock> clock = Clock::create(std::move(levels), &error);
  EXPECT_FALSE(clock.has_value());
  EXPECT_FALSE(error.empty());
  return error;
}

/// Ticks `n` tokens and returns the fired lists, one per token.
std::vector<std::vector<size_t>> run(Clock &clock, int64_t n) {
  std::vector<std::vector<size_t>> fired;
  for (int64_t i = 0; i < n; ++i)
    fired.push_back(clock.tick());
  return fired;
}

/// Independent re-implementation of the state checksum documented in
/// Clock.h (FNV-1a over 8 little-endian bytes per word).
void resign(std::vector<int64_t> &state) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i + 1 < state.size(); ++i) {
    uint64_t word = static_cast<uint64_t>(state[i]);
    for (int byte = 0; byte < 8; ++byte) {
      hash ^= (word >> (8 * byte)) & 0xff;
      hash *= 0x100000001b3ULL;
    }
  }
  state.back() = static_cast<int64_t>(hash);
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

TEST(ClockTest, FiringPatternMatchesModulo) {
  const std::vector<int64_t> periods = {1, 4, 16};
  std::optional<Clock> clock =
      make({level("fast", 1), level("mid", 4), level("slow", 16)});
  ASSERT_TRUE(clock);
  ASSERT_EQ(clock->numLevels(), 3u);
  for (int64_t t = 1; t <= 64; ++t) {
    std::vector<size_t> expected;
    for (size_t i = 0; i < periods.size(); ++i)
      if (t % periods[i] == 0)
        expected.push_back(i);
    EXPECT_EQ(clock->tick(), expected) << "after token " << t;
    EXPECT_EQ(clock->time(), t);
    for (size_t i = 0; i < periods.size(); ++i) {
      EXPECT_EQ(clock->pending(i), t % periods[i]) << "level " << i;
      EXPECT_EQ(clock->updates(i), t / periods[i]) << "level " << i;
    }
  }
  EXPECT_EQ(clock->updates(0), 64);
  EXPECT_EQ(clock->updates(1), 16);
  EXPECT_EQ(clock->updates(2), 4);
  // Token 64 closes every chunk: nothing left for the tail policies.
  EXPECT_TRUE(clock->endOfCall().empty());
}

TEST(ClockTest, InfiniteActsAsPeriodOne) {
  std::optional<Clock> clock = make({level("kv", kInf, TailPolicy::Flush),
                                     level("one", 1), level("three", 3)});
  ASSERT_TRUE(clock);
  for (int64_t t = 1; t <= 30; ++t) {
    std::vector<size_t> fired = clock->tick();
    std::vector<size_t> expected = {0, 1};
    if (t % 3 == 0)
      expected.push_back(2);
    EXPECT_EQ(fired, expected) << "after token " << t;
    EXPECT_EQ(clock->pending(0), 0);
  }
  EXPECT_EQ(clock->updates(0), 30);
  EXPECT_EQ(clock->updates(0), clock->updates(1));
  // An inf level never has a partial chunk, so Flush has nothing to do.
  EXPECT_TRUE(clock->endOfCall().empty());
  EXPECT_EQ(clock->updates(0), 30);
}

TEST(ClockTest, StaticFrozenNeverFires) {
  std::optional<Clock> clock = make(
      {level("a", 2), level("ice", kFrozen, TailPolicy::Flush), level("b", 5)});
  ASSERT_TRUE(clock);
  EXPECT_TRUE(clock->frozen(1));
  EXPECT_FALSE(clock->frozen(0));
  clock->unfreeze(1); // A statically frozen level cannot be unfrozen.
  EXPECT_TRUE(clock->frozen(1));
  for (int64_t t = 1; t <= 100; ++t) {
    for (size_t fired : clock->tick())
      EXPECT_NE(fired, 1u) << "after token " << t;
    EXPECT_EQ(clock->pending(1), 0);
    if (t % 7 == 0) {
      for (size_t fired : clock->endOfCall())
        EXPECT_NE(fired, 1u);
    }
  }
  EXPECT_EQ(clock->updates(1), 0);
  EXPECT_EQ(clock->updates(0), 50);
  EXPECT_EQ(clock->updates(2), 20);
}

TEST(ClockTest, StreamingContractWithCarry) {
  const std::vector<LevelTiming> levels = {
      level("kv", kInf),    level("titans", 1), level("c3", 3),
      level("c4", 4),       level("c7", 7),     level("c16", 16),
      level("ice", kFrozen)};
  const int64_t total = 500;

  // Reference: the whole sequence in one call.
  std::optional<Clock> whole = make(levels);
  ASSERT_TRUE(whole);
  std::vector<std::vector<size_t>> expected = run(*whole, total);
  EXPECT_TRUE(whole->endOfCall().empty());
  const std::vector<int64_t> expectedState = whole->saveState();

  std::mt19937_64 rng(0x5eed);
  std::uniform_int_distribution<int64_t> pieceSize(0, 40);
  for (int split = 0; split < 8; ++split) {
    SCOPED_TRACE("split " + std::to_string(split));
    std::vector<std::vector<size_t>> fired;
    std::vector<int64_t> saved;
    int64_t pieces = 0;
    while (static_cast<int64_t>(fired.size()) < total) {
      int64_t size =
          std::min(pieceSize(rng), total - static_cast<int64_t>(fired.size()));
      // Each piece runs on a fresh clock restored from the checkpoint.
      std::optional<Clock> clock = make(levels);
      ASSERT_TRUE(clock);
      std::string error;
      if (!saved.empty()) {
        ASSERT_TRUE(clock->loadState(saved, &error)) << error;
      }
      EXPECT_EQ(clock->time(), static_cast<int64_t>(fired.size()));
      for (const std::vector<size_t> &step : run(*clock, size))
        fired.push_back(step);
      EXPECT_TRUE(clock->endOfCall().empty()); // Carry never fires here.
      saved = clock->saveState();
      ++pieces;
    }
    EXPECT_GT(pieces, 10);
    EXPECT_EQ(fired, expected);
    EXPECT_EQ(saved, expectedState);
  }
}

TEST(ClockTest, CarryKeepsPartialTail) {
  std::optional<Clock> clock = make({level("c16", 16, TailPolicy::Carry)});
  ASSERT_TRUE(clock);
  run(*clock, 20);
  EXPECT_TRUE(clock->endOfCall().empty());
  EXPECT_EQ(clock->pending(0), 4);
  EXPECT_EQ(clock->updates(0), 1);
  // The chunk continues: the next firing is at token 32.
  for (int64_t t = 21; t <= 48; ++t)
    EXPECT_EQ(!clock->tick().empty(), t % 16 == 0) << "after token " << t;
}

TEST(ClockTest, FlushFiresPartialTailAndRestartsPhase) {
  std::optional<Clock> clock = make({level("c16", 16, TailPolicy::Flush)});
  ASSERT_TRUE(clock);
  std::vector<std::vector<size_t>> fired = run(*clock, 20);
  for (int64_t t = 1; t <= 20; ++t)
    EXPECT_EQ(!fired[t - 1].empty(), t == 16) << "after token " << t;
  EXPECT_EQ(clock->pending(0), 4);
  EXPECT_EQ(clock->endOfCall(), std::vector<size_t>{0});
  EXPECT_EQ(clock->pending(0), 0);
  EXPECT_EQ(clock->updates(0), 2);
  EXPECT_EQ(clock->time(), 20);
  // Nothing pending any more: a second end of call does nothing.
  EXPECT_TRUE(clock->endOfCall().empty());
  EXPECT_EQ(clock->updates(0), 2);
  // The next chunk starts at token 21: it fires after token 36, not 32.
  for (int64_t t = 21; t <= 52; ++t)
    EXPECT_EQ(!clock->tick().empty(), t == 36 || t == 52)
        << "after token " << t;
}

TEST(ClockTest, DropDiscardsPartialTailAndRestartsPhase) {
  std::optional<Clock> clock = make({level("c16", 16, TailPolicy::Drop)});
  ASSERT_TRUE(clock);
  run(*clock, 20);
  EXPECT_TRUE(clock->endOfCall().empty());
  EXPECT_EQ(clock->pending(0), 0);
  EXPECT_EQ(clock->updates(0), 1);
  for (int64_t t = 21; t <= 52; ++t)
    EXPECT_EQ(!clock->tick().empty(), t == 36 || t == 52)
        << "after token " << t;
  EXPECT_EQ(clock->updates(0), 3);
}

TEST(ClockTest, MixedTailPoliciesInOneCall) {
  std::optional<Clock> clock = make({level("carry", 16, TailPolicy::Carry),
                                     level("flush", 16, TailPolicy::Flush),
                                     level("drop", 16, TailPolicy::Drop),
                                     level("one", 1, TailPolicy::Flush),
                                     level("flush5", 5, TailPolicy::Flush)});
  ASSERT_TRUE(clock);
  run(*clock, 20); // flush5 has just fired: nothing pending.
  EXPECT_EQ(clock->endOfCall(), std::vector<size_t>{1});
  EXPECT_EQ(clock->pending(0), 4);
  EXPECT_EQ(clock->pending(1), 0);
  EXPECT_EQ(clock->pending(2), 0);
  run(*clock, 3);
  EXPECT_EQ(clock->endOfCall(), (std::vector<size_t>{1, 4}));
  EXPECT_EQ(clock->pending(0), 7);
  EXPECT_EQ(clock->updates(4), 5);
}

TEST(ClockTest, RuntimeFreezeAndUnfreeze) {
  std::optional<Clock> clock =
      make({level("c4", 4, TailPolicy::Flush), level("one", 1)});
  ASSERT_TRUE(clock);
  run(*clock, 2);
  clock->freeze(0);
  EXPECT_TRUE(clock->frozen(0));
  EXPECT_FALSE(clock->frozen(1));
  for (const std::vector<size_t> &fired : run(*clock, 10))
    EXPECT_EQ(fired, std::vector<size_t>{1});
  EXPECT_EQ(clock->time(), 12);
  EXPECT_EQ(clock->pending(0), 2); // Kept, not accumulated.
  EXPECT_EQ(clock->updates(0), 0);
  // Frozen levels are skipped by the tail policies.
  EXPECT_TRUE(clock->endOfCall().empty());
  EXPECT_EQ(clock->pending(0), 2);
  clock->unfreeze(0);
  EXPECT_FALSE(clock->frozen(0));
  EXPECT_EQ(clock->tick(), std::vector<size_t>{1});
  EXPECT_EQ(clock->tick(), (std::vector<size_t>{0, 1})); // 2 + 2 tokens.
  EXPECT_EQ(clock->updates(0), 1);
  EXPECT_EQ(clock->time(), 14);
  run(*clock, 1);
  EXPECT_EQ(clock->endOfCall(), std::vector<size_t>{0});
}

TEST(ClockTest, ResetRestartsPhase) {
  std::optional<Clock> clock = make({level("c4", 4), level("kv", kInf)});
  ASSERT_TRUE(clock);
  run(*clock, 4);
  run(*clock, 3);
  clock->reset(0);
  EXPECT_EQ(clock->pending(0), 0);
  EXPECT_EQ(clock->time(), 7);
  EXPECT_EQ(clock->updates(0), 1);
  // Without the reset, c4 would fire after token 8; now its chunk is tokens
  // 8..11.
  std::vector<std::vector<size_t>> fired = run(*clock, 4);
  EXPECT_EQ(fired[0], std::vector<size_t>{1});
  EXPECT_EQ(fired[2], std::vector<size_t>{1});
  EXPECT_EQ(fired[3], (std::vector<size_t>{0, 1}));
  clock->reset(1); // No-op on an inf level.
  EXPECT_EQ(clock->pending(1), 0);
  // Reset keeps the frozen flag.
  run(*clock, 2);
  clock->freeze(0);
  clock->reset(0);
  EXPECT_TRUE(clock->frozen(0));
  EXPECT_EQ(clock->pending(0), 0);
}

TEST(ClockTest, SaveLoadRoundTrip) {
  const std::vector<LevelTiming> levels = {
      level("c4", 4, TailPolicy::Flush), level("c16", 16, TailPolicy::Drop),
      level("kv", kInf), level("ice", kFrozen)};
  std::optional<Clock> a = make(levels);
  ASSERT_TRUE(a);
  run(*a, 23);
  a->freeze(1);
  run(*a, 5);
  std::vector<int64_t> state = a->saveState();
  ASSERT_EQ(state.size(), 6u + 4u * levels.size());
  EXPECT_EQ(state[0], Clock::kStateMagic);
  EXPECT_EQ(state[1], Clock::kStateVersion);
  EXPECT_EQ(state[2], 4);
  EXPECT_EQ(state[3], a->fingerprint());
  EXPECT_EQ(state[4], 28);

  std::optional<Clock> b = make(levels);
  ASSERT_TRUE(b);
  std::string error;
  ASSERT_TRUE(b->loadState(state, &error)) << error;
  EXPECT_EQ(b->saveState(), state);
  EXPECT_EQ(b->time(), 28);
  EXPECT_TRUE(b->frozen(1));
  EXPECT_EQ(b->pending(1), 7);
  EXPECT_EQ(b->pending(0), 0);
  EXPECT_EQ(b->updates(0), 7);
  // Both continue identically, tail policies included.
  for (int piece = 0; piece < 5; ++piece) {
    if (piece == 2) {
      a->unfreeze(1);
      b->unfreeze(1);
    }
    EXPECT_EQ(run(*a, 9), run(*b, 9));
    EXPECT_EQ(a->endOfCall(), b->endOfCall());
  }
  EXPECT_EQ(a->saveState(), b->saveState());
}

TEST(ClockTest, LoadRejectsStateOfDifferentClock) {
  std::optional<Clock> source =
      make({level("a", 1), level("b", 4), level("c", 16)});
  ASSERT_TRUE(source);
  run(*source, 5);
  const std::vector<int64_t> state = source->saveState();

  std::string error;
  std::optional<Clock> otherPeriod =
      make({level("a", 1), level("b", 4), level("c", 8)});
  ASSERT_TRUE(otherPeriod);
  EXPECT_FALSE(otherPeriod->loadState(state, &error));
  EXPECT_TRUE(contains(error, "different clock")) << error;
  EXPECT_TRUE(contains(error, "period 16")) << error;
  EXPECT_EQ(otherPeriod->time(), 0); // Unchanged.

  std::optional<Clock> fewer = make({level("a", 1), level("b", 4)});
  ASSERT_TRUE(fewer);
  EXPECT_FALSE(fewer->loadState(state, &error));
  EXPECT_TRUE(contains(error, "3 levels")) << error;

  std::optional<Clock> renamed =
      make({level("a", 1), level("b", 4), level("z", 16)});
  ASSERT_TRUE(renamed);
  EXPECT_NE(renamed->fingerprint(), source->fingerprint());
  EXPECT_FALSE(renamed->loadState(state, &error));
  EXPECT_TRUE(contains(error, "fingerprint")) << error;
  EXPECT_EQ(renamed->time(), 0);

  // Same structure, other tail policies: the state is compatible.
  std::optional<Clock> sameShape =
      make({level("a", 1), level("b", 4, TailPolicy::Flush), level("c", 16)});
  ASSERT_TRUE(sameShape);
  EXPECT_EQ(sameShape->fingerprint(), source->fingerprint());
  EXPECT_TRUE(sameShape->loadState(state, &error)) << error;
}

TEST(ClockTest, LoadRejectsTruncatedOrCorruptedState) {
  const std::vector<LevelTiming> levels = {level("a", 4), level("b", 16),
                                           level("ice", kFrozen)};
  std::optional<Clock> source = make(levels);
  ASSERT_TRUE(source);
  run(*source, 21);
  const std::vector<int64_t> good = source->saveState();
  std::optional<Clock> clock = make(levels);
  ASSERT_TRUE(clock);
  run(*clock, 2);
  const std::vector<int64_t> before = clock->saveState();

  auto rejects = [&](std::vector<int64_t> state, const std::string &part) {
    std::string error;
    EXPECT_FALSE(clock->loadState(state, &error));
    EXPECT_TRUE(contains(error, part)) << "got: " << error;
    EXPECT_EQ(clock->saveState(), before) << "failed load changed the clock";
  };

  rejects({}, "truncated");
  rejects(std::vector<int64_t>(good.begin(), good.end() - 1), "truncated");
  rejects(std::vector<int64_t>(good.begin(), good.begin() + 7), "truncated");
  std::vector<int64_t> longer = good;
  longer.push_back(0);
  rejects(longer, "trailing data");

  std::vector<int64_t> state = good;
  state[0] ^= 1;
  rejects(state, "bad tag");
  state = good;
  state[1] = 99;
  rejects(state, "version 99");

  // Any flipped word is caught by the checksum.
  for (size_t i = 3; i < good.size(); ++i) {
    state = good;
    state[i] ^= int64_t(1) << (i % 60);
    rejects(state, "checksum");
  }

  // Inconsistent values with a valid checksum are caught by the range checks.
  // Level words start at 5: period, pending, updates, frozen.
  state = good;
  state[5 + 1] = 4; // Pending == period of level a.
  resign(state);
  rejects(state, "pending count 4");
  state = good;
  state[5 + 4 + 2] = 22; // More updates than tokens.
  resign(state);
  rejects(state, "update count 22");
  state = good;
  state[5 + 3] = 2;
  resign(state);
  rejects(state, "frozen flag 2");
  state = good;
  state[5 + 8 + 3] = 0; // Statically frozen level saved as unfrozen.
  resign(state);
  rejects(state, "statically frozen");
  state = good;
  state[4] = -1;
  resign(state);
  rejects(state, "negative time");

  // The checksum helper of this test matches the runtime's: good reloads.
  state = good;
  resign(state);
  EXPECT_EQ(state, good);
  std::string error;
  EXPECT_TRUE(clock->loadState(good, &error)) << error;
  EXPECT_EQ(clock->time(), 21);
}

TEST(ClockTest, CreateRejectsInvalidLevels) {
  EXPECT_TRUE(contains(createError({level("a", 4), level("b", 0)}),
                       "level 1 ('b'): invalid period 0"));
  EXPECT_TRUE(contains(createError({level("a", -3)}), "invalid period -3"));
  EXPECT_TRUE(
      contains(createError({level("a", std::numeric_limits<int64_t>::min())}),
               "invalid period"));
  EXPECT_TRUE(contains(createError({level("a", 4), level("a", 16)}),
                       "duplicate level name"));
  EXPECT_TRUE(contains(createError({level("", 4)}), "empty name"));
  EXPECT_TRUE(contains(createError({level("a", 4, static_cast<TailPolicy>(7))}),
                       "invalid tail policy 7"));
  // A null error pointer is fine.
  EXPECT_FALSE(Clock::create({level("a", 0)}, nullptr).has_value());

  // Sentinels, huge periods and an empty level list are accepted.
  EXPECT_TRUE(make({level("kv", kInf), level("ice", kFrozen),
                    level("big", std::numeric_limits<int64_t>::max())}));
  std::optional<Clock> empty = make({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->tick().empty());
  EXPECT_EQ(empty->time(), 1);
}

TEST(ClockTest, TailPolicyNames) {
  EXPECT_STREQ(tailPolicyName(TailPolicy::Carry), "carry");
  EXPECT_STREQ(tailPolicyName(TailPolicy::Flush), "flush");
  EXPECT_STREQ(tailPolicyName(TailPolicy::Drop), "drop");
  EXPECT_STREQ(tailPolicyName(static_cast<TailPolicy>(9)), "invalid");
}

TEST(ClockTest, HyperPeriod) {
  std::string error;
  EXPECT_EQ(Clock::hyperPeriod({level("a", 1), level("b", 16), level("c", 256)},
                               &error),
            256);
  EXPECT_EQ(
      Clock::hyperPeriod({level("a", 3), level("b", 4), level("c", 5)}, &error),
      60);
  EXPECT_EQ(Clock::hyperPeriod({level("kv", kInf), level("a", 6),
                                level("ice", kFrozen), level("b", 4)},
                               &error),
            12);
  EXPECT_EQ(Clock::hyperPeriod({level("kv", kInf)}, &error), 1);
  EXPECT_EQ(Clock::hyperPeriod({level("ice", kFrozen)}, &error), 1);
  EXPECT_EQ(Clock::hyperPeriod({}, &error), 1);
  EXPECT_TRUE(error.empty()) << error;

  // Large coprime periods: two primes fit, a third overflows.
  const int64_t p = 1000000007, q = 998244353, r = 1000000009;
  EXPECT_EQ(Clock::hyperPeriod({level("p", p), level("q", q)}, &error), p * q);
  EXPECT_EQ(
      Clock::hyperPeriod({level("p", p), level("q", q), level("r", r)}, &error),
      0);
  EXPECT_TRUE(contains(error, "overflow")) << error;
  EXPECT_TRUE(contains(error, "'r'")) << error;
  error.clear();
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Clock::hyperPeriod({level("m", max), level("n", max - 1)}, &error),
            0);
  EXPECT_TRUE(contains(error, "overflow")) << error;
  // Not coprime: the lcm fits even though the product does not.
  EXPECT_EQ(Clock::hyperPeriod({level("m", max), level("n", max)}, nullptr),
            max);
  EXPECT_EQ(Clock::hyperPeriod(
                {level("a", int64_t(1) << 62), level("b", int64_t(1) << 61)},
                nullptr),
            int64_t(1) << 62);

  error.clear();
  EXPECT_EQ(Clock::hyperPeriod({level("a", 4), level("b", 0)}, &error), 0);
  EXPECT_TRUE(contains(error, "invalid period 0")) << error;
}

TEST(ClockTest, HyperPeriodRealignsCarryLevels) {
  const std::vector<LevelTiming> levels = {level("c3", 3), level("c4", 4),
                                           level("c10", 10), level("kv", kInf),
                                           level("ice", kFrozen)};
  std::string error;
  int64_t hyper = Clock::hyperPeriod(levels, &error);
  ASSERT_EQ(hyper, 60) << error;
  std::optional<Clock> clock = make(levels);
  ASSERT_TRUE(clock);
  std::vector<std::vector<size_t>> first = run(*clock, hyper);
  // Every live level is at a chunk boundary, all of them fire together...
  EXPECT_EQ(first.back(), (std::vector<size_t>{0, 1, 2, 3}));
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(clock->pending(i), 0);
  // ...and the schedule repeats.
  EXPECT_EQ(run(*clock, hyper), first);
}

} // namespace
