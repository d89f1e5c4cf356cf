//===- CApiTest.cpp - Unit tests for the nlrt C API -----------------------===//
//
// The C API must mirror nlrt::Clock exactly and report errors into the
// caller's buffer without throwing.
//
//===----------------------------------------------------------------------===//

#include "nlrt/nlrt.h"

#include "nlrt/Clock.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

/// Owns a C clock handle.
struct Handle {
  nlrt_clock_t *clk;
  explicit Handle(nlrt_clock_t *handle) : clk(handle) {}
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { nlrt_clock_destroy(clk); }
};

/// The indices whose flag is set.
std::vector<size_t> flagged(const std::vector<uint8_t> &flags) {
  std::vector<size_t> indices;
  for (size_t i = 0; i < flags.size(); ++i) {
    EXPECT_LE(flags[i], 1);
    if (flags[i])
      indices.push_back(i);
  }
  return indices;
}

TEST(CApiTest, MirrorsCppClock) {
  const std::vector<int64_t> periods = {
      1, 4, 16, NLRT_PERIOD_INFINITE, NLRT_PERIOD_FROZEN, 16, 5};
  const std::vector<int> tails = {
      NLRT_TAIL_CARRY, NLRT_TAIL_FLUSH, NLRT_TAIL_DROP, NLRT_TAIL_CARRY,
      NLRT_TAIL_FLUSH, NLRT_TAIL_CARRY, NLRT_TAIL_FLUSH};
  char err[256];
  Handle c(nlrt_clock_create(periods.data(), tails.data(), periods.size(), err,
                             sizeof(err)));
  ASSERT_NE(c.clk, nullptr) << err;
  EXPECT_STREQ(err, "");
  ASSERT_EQ(nlrt_clock_num_levels(c.clk), periods.size());

  std::vector<nlrt::LevelTiming> levels;
  for (size_t i = 0; i < periods.size(); ++i)
    levels.push_back({"level" + std::to_string(i), periods[i],
                      static_cast<nlrt::TailPolicy>(tails[i])});
  std::string error;
  std::optional<nlrt::Clock> cpp = nlrt::Clock::create(levels, &error);
  ASSERT_TRUE(cpp) << error;

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> callLength(0, 23);
  int64_t flushes = 0;
  for (int call = 0; call < 40; ++call) {
    int length = callLength(rng);
    for (int t = 0; t < length; ++t) {
      std::vector<uint8_t> fired(periods.size(), 0xAA);
      int64_t count = nlrt_clock_tick(c.clk, fired.data());
      std::vector<size_t> expected = cpp->tick();
      EXPECT_EQ(flagged(fired), expected);
      EXPECT_EQ(count, static_cast<int64_t>(expected.size()));
      EXPECT_EQ(nlrt_clock_time(c.clk), cpp->time());
    }
    std::vector<uint8_t> fired(periods.size(), 0xAA);
    int64_t count = nlrt_clock_end_of_call(c.clk, fired.data());
    std::vector<size_t> expected = cpp->endOfCall();
    EXPECT_EQ(flagged(fired), expected);
    EXPECT_EQ(count, static_cast<int64_t>(expected.size()));
    flushes += count;
  }
  EXPECT_GT(flushes, 0); // The comparison exercised the Flush path.
  EXPECT_GT(nlrt_clock_time(c.clk), 100);
}

TEST(CApiTest, NullArgumentsAreSafe) {
  EXPECT_EQ(nlrt_clock_tick(nullptr, nullptr), -1);
  EXPECT_EQ(nlrt_clock_end_of_call(nullptr, nullptr), -1);
  EXPECT_EQ(nlrt_clock_time(nullptr), -1);
  EXPECT_EQ(nlrt_clock_num_levels(nullptr), 0u);
  nlrt_clock_destroy(nullptr);

  // NULL tails means all carry; NULL fired flags are allowed.
  const int64_t periods[] = {2, 3};
  Handle c(nlrt_clock_create(periods, nullptr, 2, nullptr, 0));
  ASSERT_NE(c.clk, nullptr);
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 0);
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 1);
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 1);
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 1);
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 0);
  EXPECT_EQ(nlrt_clock_end_of_call(c.clk, nullptr), 0); // Carry.
  EXPECT_EQ(nlrt_clock_tick(c.clk, nullptr), 2);        // Token 6.
  EXPECT_EQ(nlrt_clock_time(c.clk), 6);

  // An empty clock is valid.
  Handle empty(nlrt_clock_create(nullptr, nullptr, 0, nullptr, 0));
  ASSERT_NE(empty.clk, nullptr);
  EXPECT_EQ(nlrt_clock_tick(empty.clk, nullptr), 0);
  EXPECT_EQ(nlrt_clock_time(empty.clk), 1);
}

TEST(CApiTest, CreateReportsErrors) {
  char err[256];
  const int64_t zero[] = {4, 0};
  EXPECT_EQ(nlrt_clock_create(zero, nullptr, 2, err, sizeof(err)), nullptr);
  EXPECT_NE(std::strstr(err, "level 1 ('level1'): invalid period 0"), nullptr)
      << err;

  const int64_t negative[] = {-7};
  EXPECT_EQ(nlrt_clock_create(negative, nullptr, 1, err, sizeof(err)), nullptr);
  EXPECT_NE(std::strstr(err, "invalid period -7"), nullptr) << err;

  const int64_t good[] = {4, 16};
  const int badTails[] = {NLRT_TAIL_DROP, 3};
  EXPECT_EQ(nlrt_clock_create(good, badTails, 2, err, sizeof(err)), nullptr);
  EXPECT_NE(std::strstr(err, "invalid tail policy 3"), nullptr) << err;

  EXPECT_EQ(nlrt_clock_create(nullptr, nullptr, 3, err, sizeof(err)), nullptr);
  EXPECT_NE(std::strstr(err, "NULL"), nullptr) << err;

  // A short buffer receives a truncated, NUL-terminated message; the bytes
  // after it are untouched.
  char small[12];
  std::memset(small, 'x', sizeof(small));
  EXPECT_EQ(nlrt_clock_create(zero, nullptr, 2, small, 8), nullptr);
  EXPECT_EQ(std::strlen(small), 7u);
  EXPECT_EQ(std::string(small), "level 1");
  EXPECT_EQ(small[8], 'x');

  // No buffer at all is fine too.
  EXPECT_EQ(nlrt_clock_create(zero, nullptr, 2, nullptr, 0), nullptr);
  EXPECT_EQ(nlrt_clock_create(zero, nullptr, 2, err, 0), nullptr);

  // Success clears a stale message.
  std::strcpy(err, "stale");
  Handle c(nlrt_clock_create(good, nullptr, 2, err, sizeof(err)));
  EXPECT_NE(c.clk, nullptr);
  EXPECT_STREQ(err, "");
}

} // namespace
