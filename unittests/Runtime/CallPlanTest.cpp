//===- CallPlanTest.cpp - The runtime's call planner ----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// planCall (runtime/src/CallPlan.h) on hand-made facts: which entry point
// runs which tokens with which fire mask, and how the threads are split.
//
//===----------------------------------------------------------------------===//

#include "CallPlan.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

using namespace nlrt;

namespace {

using Items = std::vector<PlanItem>;

PlanItem step(int64_t t, uint64_t fire) {
  return {EntryKind::Step, t, t + 1, fire, 0, 0};
}
PlanItem chunk(int64_t begin, int64_t end, uint64_t fire) {
  return {EntryKind::Chunk, begin, end, fire, 0, 0};
}
PlanItem flush(int64_t tokens, uint64_t fire) {
  return {EntryKind::Flush, tokens, tokens, fire, 0, 0};
}
PlanItem headRun(int64_t begin, int64_t end, size_t first, size_t n) {
  return {EntryKind::HeadRun, begin, end, 0, first, n};
}
PlanItem headStep(int64_t t, uint64_t fire) {
  return {EntryKind::HeadStep, t, t + 1, fire, 0, 0};
}
PlanItem headChunk(int64_t begin, int64_t end, uint64_t fire) {
  return {EntryKind::HeadChunk, begin, end, fire, 0, 0};
}

/// Facts of `tokens` tokens of one stream on one thread, no fires.
CallFacts facts(int64_t tokens) {
  CallFacts f;
  f.tokens = tokens;
  f.fire.assign(tokens, 0);
  return f;
}

/// Chunk entries of size c, chunks starting at `starts`.
void withChunks(CallFacts &f, int64_t c, const std::vector<int64_t> &starts) {
  f.hasChunk = true;
  f.chunkSize = c;
  f.chunkStarts.assign(f.tokens, 0);
  for (int64_t t : starts)
    f.chunkStarts[t] = 1;
}

void withHeads(CallFacts &f, int64_t heads, int threads) {
  f.hasHeadStep = true;
  f.heads = heads;
  f.threads = threads;
}

/// The items as text (a head run's first call and count, not its calls).
std::string text(const Items &items) {
  std::string out;
  for (const PlanItem &i : items) {
    CallPlan p;
    p.items = {i};
    std::string line = describePlan(p);
    out += line.substr(line.find('\n') + 1);
    if (i.kind == EntryKind::HeadRun)
      out += "  calls " + std::to_string(i.firstCall) + "+" +
             std::to_string(i.numCalls) + "\n";
  }
  return out;
}

#define EXPECT_ITEMS(plan, ...)                                                \
  EXPECT_EQ(text((plan).items), text(Items{__VA_ARGS__}))

} // namespace

TEST(CallPlanTest, StepsOnly) {
  CallFacts f = facts(4);
  f.fire = {0, 1, 0, 3};
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, step(0, 0), step(1, 1), step(2, 0), step(3, 3));
  EXPECT_TRUE(p.headCalls.empty());
  EXPECT_EQ(p.fire, f.fire);
}

TEST(CallPlanTest, ChunkBoundariesAndTail) {
  // 20 tokens, chunks of 8 at 0 and 8; the 4 tokens after 16 are too few
  // for a chunk and run the step.
  CallFacts f = facts(20);
  withChunks(f, 8, {0, 8});
  f.fire[7] = 1;
  f.fire[15] = 1;
  f.fire[17] = 1;
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, chunk(0, 8, 1), chunk(8, 16, 1), step(16, 0), step(17, 1),
               step(18, 0), step(19, 0));
}

TEST(CallPlanTest, ChunksStartAtThePhaseAndTheTailIsShorter) {
  // A carried pending chunk: chunks of 4 start at 1 and 5; 9 and 10 run the
  // step. A start whose chunk would pass the end of the call (9) is not
  // taken, nor is one inside a chunk (2), nor any without a chunk entry.
  CallFacts f = facts(11);
  withChunks(f, 4, {1, 2, 5, 9});
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, step(0, 0), chunk(1, 5, 0), chunk(5, 9, 0), step(9, 0),
               step(10, 0));
  f.hasChunk = false;
  p = planCall(f);
  EXPECT_EQ(p.items.size(), 11u);
  for (const PlanItem &i : p.items)
    EXPECT_EQ(i.kind, EntryKind::Step);
}

TEST(CallPlanTest, ChunkFireMasksOrTheirTokens) {
  // A level of period 1 fires on every token (bit 0), one of period 4 on
  // the last token of each chunk (bit 1), one of period 8 on the eighth
  // token (bit 2): a chunk gets the OR of its tokens' masks.
  CallFacts f = facts(8);
  withChunks(f, 4, {0, 4});
  for (int64_t t = 0; t < 8; ++t)
    f.fire[t] = 1 | (t % 4 == 3 ? 2 : 0) | (t == 7 ? 4 : 0);
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, chunk(0, 4, 3), chunk(4, 8, 7));
  // A level that fires in the middle of a chunk still reaches it.
  f.fire.assign(8, 0);
  f.fire[5] = 8;
  p = planCall(f);
  EXPECT_ITEMS(p, chunk(0, 4, 0), chunk(4, 8, 8));
}

TEST(CallPlanTest, HeadRunsNeedSixteenTokensAndAHeadTeam) {
  // 15 tokens on two threads: too short, every token runs the full step.
  CallFacts f = facts(15);
  withHeads(f, 4, 2);
  CallPlan p = planCall(f);
  EXPECT_EQ(p.split.headTeam, 2);
  EXPECT_EQ(p.items.size(), 15u);
  EXPECT_TRUE(p.headCalls.empty());
  for (const PlanItem &i : p.items)
    EXPECT_EQ(i.kind, EntryKind::Step);
  // 16 tokens: one head run; its calls are the head step of every token,
  // with each token's mask.
  f = facts(16);
  withHeads(f, 4, 2);
  f.fire[3] = 2;
  p = planCall(f);
  EXPECT_ITEMS(p, headRun(0, 16, 0, 16));
  ASSERT_EQ(p.headCalls.size(), 16u);
  for (int64_t t = 0; t < 16; ++t)
    EXPECT_TRUE(p.headCalls[t] == headStep(t, t == 3 ? 2 : 0)) << t;
  EXPECT_EQ(p.headParts,
            (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 4}}));
  // One thread: no head team, no head run, however long.
  f.threads = 1;
  p = planCall(f);
  EXPECT_EQ(p.split.headTeam, 1);
  EXPECT_EQ(p.items.size(), 16u);
  EXPECT_TRUE(p.headParts.empty());
  // Two threads but no head step: no head team either.
  f.threads = 2;
  f.hasHeadStep = false;
  p = planCall(f);
  EXPECT_EQ(p.split.headTeam, 1);
  EXPECT_FALSE(p.hasHeadRuns());
}

TEST(CallPlanTest, HeadRunsBetweenChunks) {
  // Chunks of 8 at 0, 24 and 32 (and a run of 15 at 40..55 before the
  // chunk at 55): the 16 tokens between 8 and 24 run head by head, the 15
  // tokens of the shorter run the step, the 3 after the last chunk too.
  CallFacts f = facts(66);
  withChunks(f, 8, {0, 24, 32, 55});
  withHeads(f, 4, 4);
  f.fire[10] = 1;
  CallPlan p = planCall(f);
  EXPECT_EQ(p.split.headTeam, 4);
  Items want = {chunk(0, 8, 0), headRun(8, 24, 0, 16), chunk(24, 32, 0),
                chunk(32, 40, 0)};
  for (int64_t t = 40; t < 55; ++t)
    want.push_back(step(t, 0));
  want.push_back(chunk(55, 63, 0));
  for (int64_t t = 63; t < 66; ++t)
    want.push_back(step(t, 0));
  EXPECT_EQ(text(p.items), text(want));
  ASSERT_EQ(p.headCalls.size(), 16u);
  EXPECT_TRUE(p.headCalls[2] == headStep(10, 1));
}

TEST(CallPlanTest, HeadChunkModeRunsTheWholeCallHeadByHead) {
  // With a chunk entry of one head and a head team, the whole call is one
  // head run: the head chunk at every chunk start (with the chunk's OR),
  // the head step elsewhere, however short the stretches between chunks.
  CallFacts f = facts(21);
  withChunks(f, 8, {3, 11});
  withHeads(f, 4, 2);
  f.hasHeadChunk = true;
  f.fire[5] = 1;
  f.fire[18] = 2;
  f.flush = 4;
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, headRun(0, 21, 0, 7), flush(21, 4));
  std::vector<PlanItem> want = {headStep(0, 0),       headStep(1, 0),
                                headStep(2, 0),       headChunk(3, 11, 1),
                                headChunk(11, 19, 2), headStep(19, 0),
                                headStep(20, 0)};
  ASSERT_EQ(p.headCalls.size(), want.size()) << describePlan(p);
  for (size_t k = 0; k < want.size(); ++k)
    EXPECT_TRUE(p.headCalls[k] == want[k]) << k << "\n" << describePlan(p);
  // On one thread the same call runs the full chunk entry and step.
  f.threads = 1;
  p = planCall(f);
  EXPECT_ITEMS(p, step(0, 0), step(1, 0), step(2, 0), chunk(3, 11, 1),
               chunk(11, 19, 2), step(19, 0), step(20, 0), flush(21, 4));
}

TEST(CallPlanTest, MoreStreamsThanThreads) {
  // 5 streams on 2 threads: 2 workers of one thread each (2 + 3 streams);
  // no thread is left for the heads.
  CallFacts f = facts(20);
  withHeads(f, 4, 2);
  f.streams = 5;
  CallPlan p = planCall(f);
  EXPECT_EQ(p.split.workers, 2);
  EXPECT_EQ(p.split.team, 1);
  EXPECT_EQ(p.split.headTeam, 1);
  EXPECT_EQ(p.streamParts,
            (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 5}}));
  EXPECT_FALSE(p.hasHeadRuns());
  EXPECT_EQ(p.itemsOf(4).size(), 20u);
}

TEST(CallPlanTest, MoreThreadsThanStreams) {
  // 2 streams on 7 threads: a worker per stream with a team of 3, which
  // splits 4 heads 1 + 1 + 2; 2 streams on 8 threads of 2 heads: the head
  // team is as large as the heads.
  CallFacts f = facts(16);
  withHeads(f, 4, 7);
  f.streams = 2;
  CallPlan p = planCall(f);
  EXPECT_EQ(p.split.workers, 2);
  EXPECT_EQ(p.split.team, 3);
  EXPECT_EQ(p.split.headTeam, 3);
  EXPECT_EQ(p.streamParts,
            (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 2}}));
  EXPECT_EQ(p.headParts,
            (std::vector<std::pair<int64_t, int64_t>>{{0, 1}, {1, 2}, {2, 4}}));
  EXPECT_ITEMS(p, headRun(0, 16, 0, 16));
  f.heads = 2;
  f.threads = 8;
  p = planCall(f);
  EXPECT_EQ(p.split.team, 4);
  EXPECT_EQ(p.split.headTeam, 2);
  // One stream takes every thread.
  f.streams = 1;
  p = planCall(f);
  EXPECT_EQ(p.split.workers, 1);
  EXPECT_EQ(p.split.team, 8);
  // No threads asked for: one.
  f.threads = 0;
  p = planCall(f);
  EXPECT_EQ(p.split.workers, 1);
  EXPECT_EQ(p.split.team, 1);
  EXPECT_EQ(p.split.headTeam, 1);
}

TEST(CallPlanTest, ZeroTokens) {
  CallFacts f = facts(0);
  withChunks(f, 8, {});
  withHeads(f, 4, 2);
  f.hasHeadChunk = true;
  CallPlan p = planCall(f);
  EXPECT_TRUE(p.items.empty());
  EXPECT_TRUE(p.headCalls.empty());
  EXPECT_EQ(p.streamParts.size(), 1u);
  // A flush still runs (a level whose partial chunk the call ends).
  f.flush = 2;
  p = planCall(f);
  EXPECT_ITEMS(p, flush(0, 2));
}

TEST(CallPlanTest, FlushAtTheEndOfTheCall) {
  CallFacts f = facts(3);
  f.flush = 5;
  CallPlan p = planCall(f);
  EXPECT_ITEMS(p, step(0, 0), step(1, 0), step(2, 0), flush(3, 5));
  EXPECT_EQ(p.flush, 5u);
  // After a head run too.
  f = facts(17);
  withHeads(f, 2, 2);
  f.flush = 1;
  p = planCall(f);
  EXPECT_ITEMS(p, headRun(0, 17, 0, 17), flush(17, 1));
  // No flush item when nothing is flushed.
  f.flush = 0;
  p = planCall(f);
  EXPECT_ITEMS(p, headRun(0, 17, 0, 17));
}

TEST(CallPlanTest, DescribePlan) {
  CallFacts f = facts(17);
  withHeads(f, 2, 2);
  f.fire[16] = 3;
  f.flush = 1;
  std::string d = describePlan(planCall(f));
  EXPECT_NE(d.find("tokens=17 streams=1 workers=1 team=2 headTeam=2\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("head-run 0-17 fire=0x0\n  head-step 0-1 fire=0x0\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("  head-step 16-17 fire=0x3\nflush 17-17 fire=0x1\n"),
            std::string::npos)
      << d;
}
