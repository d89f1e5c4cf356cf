//===- ExecutorTest.cpp - Executors and the thread pool -------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The persistent thread team of the CPU executor (runtime/src/ThreadTeam.h),
// the plans Session::run hands its executor (seen through the null
// executor), and the CPU executor's threads reused across calls.
//
//===----------------------------------------------------------------------===//

#include "Executor.h"
#include "ThreadTeam.h"
#include "ToyModelFiles.h"

#include "nlrt/Model.h"
#include "nlrt/Session.h"

#include "gtest/gtest.h"

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

using namespace nlrt;
using namespace nlrt_test;

namespace {

/// The threads of this process (/proc/self/status), -1 if unknown.
int processThreads() {
  // A sanitizer's runtime may start a thread of its own with the first
  // thread the process creates: it is there before any count is taken.
  static bool warm = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)warm;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stoi(line.substr(8));
  return -1;
}

/// The stack size of the calling thread.
size_t thisStackSize() {
  pthread_attr_t attr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
  }
  return size;
}

} // namespace

TEST(ThreadTeamTest, EveryPartOnceOnHelpersThatStay) {
  int base = processThreads();
  ThreadTeam team(0);
  EXPECT_TRUE(team.callerCanWork());
  std::map<int, pthread_t> slotThread;
  std::mutex m;
  bool sameThreads = true;
  for (int r = 0; r < 60; ++r) {
    int64_t parts = r % 3 == 0 ? 5 : r % 3 == 1 ? 2 : 1;
    std::vector<std::atomic<int>> runs(parts);
    std::string error;
    ASSERT_TRUE(team.run(
        parts,
        [&](int64_t p, int slot) {
          runs[p]++;
          std::lock_guard<std::mutex> g(m);
          auto [it, fresh] = slotThread.emplace(slot, pthread_self());
          if (!fresh && !pthread_equal(it->second, pthread_self()))
            sameThreads = false;
        },
        &error))
        << error;
    for (int64_t p = 0; p < parts; ++p)
      ASSERT_EQ(runs[p].load(), 1) << "run " << r << " part " << p;
  }
  EXPECT_TRUE(sameThreads) << "a slot ran on different threads";
  // Slot 0 is the caller; 4 helpers, started once.
  EXPECT_EQ(team.helpers(), 4u);
  EXPECT_TRUE(pthread_equal(slotThread.at(0), pthread_self()));
  if (base > 0) {
    EXPECT_EQ(processThreads(), base + 4);
  }
}

TEST(ThreadTeamTest, HelpersAreJoinedWithTheTeam) {
  int base = processThreads();
  if (base <= 0)
    GTEST_SKIP() << "no /proc/self/status";
  {
    ThreadTeam team(0);
    std::string error;
    ASSERT_TRUE(team.run(
        4, [](int64_t, int) {}, &error))
        << error;
    EXPECT_EQ(processThreads(), base + 3);
  }
  EXPECT_EQ(processThreads(), base);
}

TEST(ThreadTeamTest, LargeFramesRunOnStacksThatHoldThem) {
  // Frames of 4 MiB: more than a caller's thread is trusted with, so every
  // part runs on a helper whose stack holds them and the slack.
  constexpr size_t kFrames = size_t(4) << 20;
  ThreadTeam team(kFrames);
  EXPECT_FALSE(team.callerCanWork());
  EXPECT_GE(team.stackBytes(), kFrames + kStackSlack);
  std::atomic<int> onCaller{0}, parts{0}, smallStacks{0}, nestedHere{0};
  std::string error;
  ASSERT_TRUE(team.run(
      3,
      [&](int64_t, int slot) {
        ++parts;
        if (slot == 0)
          ++onCaller;
        if (thisStackSize() < kFrames + kStackSlack ||
            ThreadTeam::ownStackOfThisThread() != team.stackBytes())
          ++smallStacks;
        // A helper's own stack holds the frames: a team it starts lets it
        // work too.
        ThreadTeam inner(kFrames);
        if (inner.callerCanWork())
          ++nestedHere;
      },
      &error))
      << error;
  EXPECT_EQ(parts.load(), 3);
  EXPECT_EQ(onCaller.load(), 0);
  EXPECT_EQ(smallStacks.load(), 0);
  EXPECT_EQ(nestedHere.load(), 3);
  EXPECT_EQ(team.helpers(), 3u);
}

TEST(ThreadTeamTest, NoThreadMeansNothingRunsAndAClearError) {
  // Frames of 1 TiB: the caller cannot hold them and no stack that large
  // can be mapped (beyond this machine's memory).
  ThreadTeam team(size_t(1) << 40);
  std::atomic<int> ran{0};
  std::string error;
  bool ok = team.run(
      2, [&](int64_t, int) { ++ran; }, &error);
  if (ok)
    GTEST_SKIP() << "this machine started a thread with a 1 TiB stack";
  EXPECT_EQ(ran.load(), 0);
  EXPECT_NE(error.find("cannot start a thread with a "), std::string::npos)
      << error;
  EXPECT_NE(error.find("(stack_bytes 1099511627776)"), std::string::npos)
      << error;
  EXPECT_EQ(team.helpers(), 0u);
}

namespace {

/// The toy model (Inputs/ToyModel.h) with a manifest edited by `edit`;
/// only the null executor runs entry points an edit names.
struct EditedToy {
  TempDir dir;
  std::unique_ptr<Model> model;
  explicit EditedToy(
      const std::vector<std::pair<std::string, std::string>> &edits) {
    std::string json = toyManifest("");
    for (const auto &[from, to] : edits) {
      size_t at = json.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      if (at != std::string::npos)
        json.replace(at, from.size(), to);
    }
    std::error_code ec;
    std::filesystem::copy_file(binaryDir() + "/toy.so", dir.path("m.so"), ec);
    EXPECT_FALSE(ec) << ec.message();
    writeBytes(dir.path("m.json"), json);
    std::string error;
    model = Model::load(dir.path("m.so"), &error);
    EXPECT_TRUE(model) << error;
  }
};

struct Recorded {
  std::unique_ptr<Session> session;
  NullExecutor *null = nullptr;
};

Recorded nullSession(const Model &model, int64_t batch) {
  Recorded r;
  std::string error;
  r.session = Session::create(model, batch, 1, &error);
  EXPECT_TRUE(r.session) << error;
  auto null = std::make_unique<NullExecutor>();
  r.null = null.get();
  SessionTestAccess::setExecutor(*r.session, std::move(null));
  return r;
}

bool runTokens(Session &s, int64_t batch, int64_t tokens, int threads,
               int64_t outWidth2 = 1) {
  std::vector<float> x(batch * tokens * 4, 0.5f), y(batch * tokens * 4),
      e(batch * tokens * outWidth2);
  std::string error;
  bool ok = s.run(x.data(), tokens, {y.data(), e.data()}, threads, &error);
  EXPECT_TRUE(ok) << error;
  return ok;
}

std::string describe(const std::vector<RecordedCall> &calls) {
  std::string out;
  for (const RecordedCall &c : calls)
    out += "stream " + std::to_string(c.stream) +
           (c.head >= 0 ? " head " + std::to_string(c.head) : "") + ": " +
           entryKindName(c.kind) + " " + std::to_string(c.begin) + "-" +
           std::to_string(c.end) + " fire " + std::to_string(c.fire) +
           " active " + std::to_string(c.active) + "\n";
  return out;
}

RecordedCall call(int64_t stream, int64_t head, EntryKind kind, int64_t begin,
                  int64_t end, uint64_t fire, uint64_t active) {
  return {stream, head, kind, begin, end, fire, active};
}

} // namespace

TEST(SessionPlanTest, StepsAndFlushFollowTheClock) {
  // The toy model: "fast" (period 2, drop) and "slow" (period 3, flush).
  // 7 tokens of 3 streams on 2 threads: 2 workers of one thread; every
  // stream runs the step of each token with the levels that fire there
  // (fast on tokens 1, 3, 5; slow on 2, 5), then the flush of slow's
  // partial chunk (fast's is dropped, which is no call).
  EditedToy toy({});
  ASSERT_TRUE(toy.model);
  Recorded r = nullSession(*toy.model, 3);
  ASSERT_TRUE(r.session);
  ASSERT_TRUE(runTokens(*r.session, 3, 7, 2));
  ASSERT_EQ(r.null->plans.size(), 1u);
  EXPECT_EQ(r.null->plans[0].split.workers, 2);
  EXPECT_EQ(r.null->plans[0].split.team, 1);
  std::vector<RecordedCall> want;
  const uint64_t fires[7] = {0, 1, 2, 1, 0, 3, 0};
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t t = 0; t < 7; ++t)
      want.push_back(call(b, -1, EntryKind::Step, t, t + 1, fires[t], 3));
    want.push_back(call(b, -1, EntryKind::Flush, 7, 7, 2, 3));
  }
  EXPECT_EQ(describe(r.null->calls), describe(want));
  // A frozen level is not active.
  std::string error;
  ASSERT_TRUE(r.session->freezeLevel("fast", true, &error)) << error;
  r.null->calls.clear();
  ASSERT_TRUE(runTokens(*r.session, 3, 1, 2));
  ASSERT_FALSE(r.null->calls.empty());
  for (const RecordedCall &c : r.null->calls)
    EXPECT_EQ(c.active, 2u) << describe(r.null->calls);
}

TEST(SessionPlanTest, ChunksAndHeadsAcrossCalls) {
  // The same library under a manifest with chunk entries of 2 tokens and
  // 2 heads (the null executor calls none of them): "fast" every token,
  // "slow" every 4 tokens, carried. Chunks start where slow's phase is 0;
  // on 2 threads the call runs head by head (head chunk and head step), on
  // one thread through the full chunk entry and step.
  EditedToy toy(
      {{R"("dim": 4,)", R"("dim": 4, "chunk_size": 2, "head_split": 2,)"},
       {R"("flush": "nl_toy_flush"})",
        R"("flush": "nl_toy_flush", "chunk": "nl_toy_step", )"
        R"("head_step": "nl_toy_step", "head_chunk": "nl_toy_step"})"},
       {R"("outputs": [[4], [1]])", R"("outputs": [[4], [2]])"},
       {R"("period": 2, "tail": "drop")", R"("period": 1, "tail": "drop")"},
       {R"("period": 3, "tail": "flush")", R"("period": 4, "tail": "carry")"}});
  ASSERT_TRUE(toy.model);
  ASSERT_EQ(toy.model->manifest().chunkSize, 2);
  ASSERT_TRUE(toy.model->headChunk());
  Recorded r = nullSession(*toy.model, 1);
  ASSERT_TRUE(r.session);
  using K = EntryKind;
  auto perHead = [](std::vector<RecordedCall> calls) {
    std::vector<RecordedCall> out;
    for (int64_t h = 0; h < 2; ++h)
      for (RecordedCall c : calls) {
        c.head = h;
        out.push_back(c);
      }
    return out;
  };
  // Tokens 0..2: a chunk at 0 (fast fired on both), the step at 2.
  ASSERT_TRUE(runTokens(*r.session, 1, 3, 2, 2));
  EXPECT_EQ(describe(r.null->calls),
            describe(perHead({call(0, 0, K::HeadChunk, 0, 2, 1, 3),
                              call(0, 0, K::HeadStep, 2, 3, 1, 3)})));
  // Tokens 3..6: slow has 3 pending, so its chunk ends at token 3 (the
  // head step, where both fire) and a chunk starts at 4 (local 1).
  r.null->calls.clear();
  ASSERT_TRUE(runTokens(*r.session, 1, 4, 2, 2));
  EXPECT_EQ(describe(r.null->calls),
            describe(perHead({call(0, 0, K::HeadStep, 0, 1, 3, 3),
                              call(0, 0, K::HeadChunk, 1, 3, 1, 3),
                              call(0, 0, K::HeadStep, 3, 4, 1, 3)})));
  // Tokens 7..10 on one thread: the same pattern through the full entries.
  r.null->calls.clear();
  ASSERT_TRUE(runTokens(*r.session, 1, 4, 1, 2));
  EXPECT_EQ(describe(r.null->calls),
            describe({call(0, -1, K::Step, 0, 1, 3, 3),
                      call(0, -1, K::Chunk, 1, 3, 1, 3),
                      call(0, -1, K::Step, 3, 4, 1, 3)}));
  EXPECT_EQ(r.null->plans.size(), 3u);
  EXPECT_EQ(r.null->plans[1].split.headTeam, 2);
  EXPECT_EQ(r.null->plans[2].split.headTeam, 1);
}

TEST(CpuExecutorTest, ThreadsAreStartedOnceAndJoinedWithTheSession) {
  // 4 streams of the toy model on 4 threads, 12 calls: the caller and 3
  // helpers, the same 3 on every call, gone with the session; the outputs
  // and state equal a session on one thread bit for bit.
  ToyModels toy;
  std::string error;
  std::unique_ptr<Model> model = Model::load(toy.cpu, &error);
  ASSERT_TRUE(model) << error;
  int base = processThreads();
  auto one = Session::create(*model, 4, 3, &error);
  ASSERT_TRUE(one) << error;
  std::vector<float> yOne, eOne, yFour, eFour;
  {
    auto four = Session::create(*model, 4, 3, &error);
    ASSERT_TRUE(four) << error;
    int afterFirst = -1;
    for (int call = 0; call < 12; ++call) {
      int64_t tokens = 1 + call % 4;
      std::vector<float> x(4 * tokens * 4);
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = 0.01f * static_cast<float>((i * 7 + call) % 23) - 0.1f;
      std::vector<float> y1(4 * tokens * 4), e1(4 * tokens), y4(y1.size()),
          e4(e1.size());
      ASSERT_TRUE(one->run(x.data(), tokens, {y1.data(), e1.data()}, 1, &error))
          << error;
      ASSERT_TRUE(
          four->run(x.data(), tokens, {y4.data(), e4.data()}, 4, &error))
          << error;
      yOne.insert(yOne.end(), y1.begin(), y1.end());
      eOne.insert(eOne.end(), e1.begin(), e1.end());
      yFour.insert(yFour.end(), y4.begin(), y4.end());
      eFour.insert(eFour.end(), e4.begin(), e4.end());
      if (call == 0)
        afterFirst = processThreads();
    }
    if (base > 0) {
      EXPECT_EQ(afterFirst, base + 3);
      EXPECT_EQ(processThreads(), base + 3);
    }
    for (size_t j = 0; j < 4; ++j)
      EXPECT_EQ(four->stateNorm(j), one->stateNorm(j)) << j;
  }
  if (base > 0) {
    EXPECT_EQ(processThreads(), base);
  }
  EXPECT_EQ(bits(yFour), bits(yOne));
  EXPECT_EQ(bits(eFour), bits(eOne));
  bool nonZero = false;
  for (float v : yOne)
    nonZero |= v != 0.0f;
  EXPECT_TRUE(nonZero);
}
