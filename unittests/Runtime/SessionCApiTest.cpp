//===- SessionCApiTest.cpp - Hostile arguments to the C API ---------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nlrt.h promises that nothing throws or aborts on bad input. Every model and
// session entry point is called with NULL pointers, negative, zero and huge
// sizes (products that overflow int64 or exceed memory), out-of-range level
// indices and bad device names: each must fail with a message (or return its
// documented sentinel) and leave the session usable.
//
//===----------------------------------------------------------------------===//

#include "ToyModelFiles.h"

#include "nlrt/nlrt.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <string>
#include <vector>

using nlrt_test::ToyModels;

namespace {

struct Err {
  char text[512];
  bool empty() const { return text[0] == '\0'; }
};

TEST(SessionCApiTest, HostileSizesAndNullPointers) {
  ToyModels toy;
  Err e;
  EXPECT_EQ(nlrt_model_load(nullptr, e.text, sizeof e.text), nullptr);
  EXPECT_FALSE(e.empty());
  nlrt_model_t *model = nlrt_model_load(toy.cpu.c_str(), e.text, sizeof e.text);
  ASSERT_NE(model, nullptr) << e.text;
  EXPECT_EQ(nlrt_model_dim(nullptr), -1);
  EXPECT_EQ(nlrt_model_output_size(nullptr), -1);
  EXPECT_EQ(nlrt_model_manifest(nullptr), nullptr);

  // Batches that are not positive, or whose state overflows int64 or does
  // not fit in memory.
  for (int64_t batch : {int64_t(0), int64_t(-1), int64_t(1) << 52,
                        int64_t(1) << 62, INT64_MAX}) {
    SCOPED_TRACE(batch);
    e.text[0] = 'x';
    EXPECT_EQ(nlrt_session_create(model, batch, 0, e.text, sizeof e.text),
              nullptr);
    EXPECT_FALSE(e.empty());
  }
  EXPECT_EQ(nlrt_session_create(nullptr, 1, 0, e.text, sizeof e.text), nullptr);
  EXPECT_EQ(nlrt_session_create_on(model, 1, 0, "tpu", e.text, sizeof e.text),
            nullptr);
  EXPECT_NE(std::string(e.text).find("unknown device"), std::string::npos);
  // A NULL or zero-length error buffer is fine.
  EXPECT_EQ(nlrt_session_create(model, 0, 0, nullptr, 0), nullptr);
  EXPECT_EQ(nlrt_session_create(model, 0, 0, e.text, 0), nullptr);

  nlrt_session_t *s = nlrt_session_create(model, 2, 7, e.text, sizeof e.text);
  ASSERT_NE(s, nullptr) << e.text;
  std::vector<float> x(2 * 3 * 4, 0.5f), y(2 * 3 * 4);
  // NULL session, NULL input with tokens, negative and huge token counts
  // (the outputs of 2^62 tokens overflow), odd thread counts.
  EXPECT_EQ(nlrt_session_run(nullptr, x.data(), 3, y.data(), 1, e.text,
                             sizeof e.text),
            -1);
  EXPECT_EQ(nlrt_session_run(s, nullptr, 3, y.data(), 1, e.text, sizeof e.text),
            -1);
  EXPECT_EQ(
      nlrt_session_run(s, x.data(), -1, y.data(), 1, e.text, sizeof e.text),
      -1);
  EXPECT_EQ(nlrt_session_run(s, x.data(), int64_t(1) << 62, nullptr, 1, e.text,
                             sizeof e.text),
            -1);
  EXPECT_FALSE(e.empty());
  EXPECT_EQ(nlrt_session_run(s, x.data(), INT64_MAX, nullptr, 1, e.text,
                             sizeof e.text),
            -1);
  for (int threads : {-5, 0, 1, 1000})
    EXPECT_EQ(nlrt_session_run(s, x.data(), 3, y.data(), threads, e.text,
                               sizeof e.text),
              0)
        << threads << ": " << e.text;
  EXPECT_EQ(nlrt_session_run(s, x.data(), 0, nullptr, 1, e.text, sizeof e.text),
            0)
      << e.text;

  // Files, levels and indices.
  for (auto fn : {nlrt_session_load_params, nlrt_session_load_state}) {
    EXPECT_EQ(fn(nullptr, "x", e.text, sizeof e.text), -1);
    EXPECT_EQ(fn(s, nullptr, e.text, sizeof e.text), -1);
    EXPECT_EQ(fn(s, "/nonexistent/file", e.text, sizeof e.text), -1);
    EXPECT_FALSE(e.empty());
  }
  EXPECT_EQ(nlrt_session_save_state(nullptr, "x", e.text, sizeof e.text), -1);
  EXPECT_EQ(nlrt_session_save_state(s, nullptr, e.text, sizeof e.text), -1);
  EXPECT_EQ(
      nlrt_session_save_state(s, "/nonexistent/dir/s", e.text, sizeof e.text),
      -1);
  EXPECT_EQ(nlrt_session_reset_level(s, nullptr, e.text, sizeof e.text), -1);
  EXPECT_EQ(nlrt_session_reset_level(s, "nope", e.text, sizeof e.text), -1);
  EXPECT_EQ(
      nlrt_session_freeze_level(nullptr, "fast", 1, e.text, sizeof e.text), -1);
  EXPECT_EQ(nlrt_session_updates(nullptr, 0), -1);
  EXPECT_EQ(nlrt_session_updates(s, 2), -1);
  EXPECT_EQ(nlrt_session_updates(s, SIZE_MAX), -1);

  // The session still works after every refusal.
  EXPECT_EQ(
      nlrt_session_run(s, x.data(), 3, y.data(), 1, e.text, sizeof e.text), 0)
      << e.text;
  EXPECT_GE(nlrt_session_updates(s, 0), 1);
  nlrt_session_destroy(s);
  nlrt_session_destroy(nullptr);
  nlrt_model_destroy(model);
  nlrt_model_destroy(nullptr);
}

TEST(SessionCApiTest, ClockRefusesBadLevels) {
  Err e;
  int64_t periods[2] = {1, 2};
  int badTails[2] = {0, 7};
  EXPECT_EQ(nlrt_clock_create(periods, badTails, 2, e.text, sizeof e.text),
            nullptr);
  EXPECT_FALSE(e.empty());
  int negative[2] = {-1, 0};
  EXPECT_EQ(nlrt_clock_create(periods, negative, 2, e.text, sizeof e.text),
            nullptr);
  EXPECT_EQ(
      nlrt_clock_create(periods, nullptr, SIZE_MAX, e.text, sizeof e.text),
      nullptr);
  EXPECT_FALSE(e.empty());
  int64_t bad[1] = {-7};
  EXPECT_EQ(nlrt_clock_create(bad, nullptr, 1, e.text, sizeof e.text), nullptr);
  EXPECT_EQ(nlrt_clock_tick(nullptr, nullptr), -1);
  EXPECT_EQ(nlrt_clock_end_of_call(nullptr, nullptr), -1);
  EXPECT_EQ(nlrt_clock_time(nullptr), -1);
  EXPECT_EQ(nlrt_clock_num_levels(nullptr), 0u);
}

} // namespace
