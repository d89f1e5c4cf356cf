//===- CallPlan.cpp - Which entry point runs which tokens -----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "CallPlan.h"

#include <algorithm>
#include <cstdio>

using namespace nlrt;

const char *nlrt::entryKindName(EntryKind kind) {
  switch (kind) {
  case EntryKind::Step:
    return "step";
  case EntryKind::Chunk:
    return "chunk";
  case EntryKind::HeadRun:
    return "head-run";
  case EntryKind::HeadStep:
    return "head-step";
  case EntryKind::HeadChunk:
    return "head-chunk";
  case EntryKind::Flush:
    return "flush";
  }
  return "?";
}

namespace {

/// [0, items) split evenly into `parts` ranges (as many as there are items
/// at most; none without items).
std::vector<std::pair<int64_t, int64_t>> evenParts(int64_t items,
                                                   int64_t parts) {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (items <= 0)
    return out;
  parts = std::max<int64_t>(1, std::min(parts, items));
  for (int64_t p = 0; p < parts; ++p)
    out.push_back({items * p / parts, items * (p + 1) / parts});
  return out;
}

} // namespace

CallPlan nlrt::planCall(CallFacts f) {
  CallPlan plan;
  int64_t tokens = std::max<int64_t>(0, f.tokens);
  plan.tokens = tokens;
  plan.streams = std::max<int64_t>(0, f.streams);
  plan.heads = f.heads;
  plan.chunkSize = f.chunkSize;
  f.fire.resize(tokens, 0);

  // Threads: as many workers as there are streams, at most; the threads
  // left over once every worker has a stream form each worker's team for
  // the parallel loops inside a step (B = 1 uses them all). With a step of
  // one head (nl-split-heads), a worker's team splits the stream's heads
  // instead, so that a head's state stays in one core's cache and the
  // threads meet once per run, not once per token.
  ThreadSplit &split = plan.split;
  split.workers = std::max<int64_t>(1, std::min<int64_t>(f.threads, f.streams));
  split.team =
      static_cast<int>(std::max<int64_t>(1, f.threads / split.workers));
  split.headTeam =
      f.hasHeadStep ? static_cast<int>(std::min<int64_t>(split.team, f.heads))
                    : 1;
  bool heads = split.headTeam > 1;
  plan.streamParts = evenParts(plan.streams, split.workers);
  if (heads)
    plan.headParts = evenParts(f.heads, split.headTeam);

  // Where chunks start: only with a chunk entry, and only where the whole
  // chunk lies in the call.
  int64_t c = f.chunkSize;
  std::vector<char> chunkAt(tokens, 0);
  if (f.hasChunk && c >= 1)
    for (int64_t t = 0;
         t < tokens && t < static_cast<int64_t>(f.chunkStarts.size()); ++t)
      chunkAt[t] = f.chunkStarts[t] && t + c <= tokens;
  // The chunk entry gets the levels that fire on any of its tokens (a
  // slower level's on the last one).
  auto chunkFires = [&](int64_t t) {
    uint64_t fires = 0;
    for (int64_t s = t; s < t + c; ++s)
      fires |= f.fire[s];
    return fires;
  };
  // A head run of [begin, end): every head runs the chunks of its heads'
  // chunk entry where they start (head-chunk mode), the head step
  // elsewhere.
  auto headRun = [&](int64_t begin, int64_t end) {
    PlanItem run{EntryKind::HeadRun, begin, end, 0, plan.headCalls.size(), 0};
    for (int64_t t = begin; t < end;) {
      if (f.hasHeadChunk && chunkAt[t]) {
        plan.headCalls.push_back(
            {EntryKind::HeadChunk, t, t + c, chunkFires(t), 0, 0});
        t += c;
      } else {
        plan.headCalls.push_back(
            {EntryKind::HeadStep, t, t + 1, f.fire[t], 0, 0});
        ++t;
      }
    }
    run.numCalls = plan.headCalls.size() - run.firstCall;
    plan.items.push_back(run);
  };

  if (f.hasHeadChunk && heads) {
    // With a chunk entry of one head, the whole call runs head by head:
    // each thread its heads' chunks and other tokens.
    if (tokens > 0)
      headRun(0, tokens);
  } else {
    for (int64_t t = 0; t < tokens;) {
      // A whole chunk of every learning level runs in one call of the chunk
      // entry; a long enough run of other tokens runs head by head when the
      // stream has threads for it; any other token runs the step.
      if (chunkAt[t]) {
        plan.items.push_back({EntryKind::Chunk, t, t + c, chunkFires(t), 0, 0});
        t += c;
        continue;
      }
      int64_t run = 0;
      while (t + run < tokens && !chunkAt[t + run])
        ++run;
      if (heads && run >= kMinHeadRun) {
        headRun(t, t + run);
        t += run;
        continue;
      }
      for (int64_t s = t; s < t + run; ++s)
        plan.items.push_back({EntryKind::Step, s, s + 1, f.fire[s], 0, 0});
      t += run;
    }
  }
  if (f.flush)
    plan.items.push_back({EntryKind::Flush, tokens, tokens, f.flush, 0, 0});
  plan.fire = std::move(f.fire);
  plan.flush = f.flush;
  return plan;
}

std::string nlrt::describePlan(const CallPlan &plan) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line,
                "tokens=%lld streams=%lld workers=%lld team=%d headTeam=%d\n",
                static_cast<long long>(plan.tokens),
                static_cast<long long>(plan.streams),
                static_cast<long long>(plan.split.workers), plan.split.team,
                plan.split.headTeam);
  out += line;
  auto item = [&](const PlanItem &i, const char *indent) {
    std::snprintf(line, sizeof line, "%s%s %lld-%lld fire=0x%llx\n", indent,
                  entryKindName(i.kind), static_cast<long long>(i.begin),
                  static_cast<long long>(i.end),
                  static_cast<unsigned long long>(i.fire));
    out += line;
  };
  for (const PlanItem &i : plan.items) {
    item(i, "");
    if (i.kind == EntryKind::HeadRun)
      for (size_t k = i.firstCall;
           k < i.firstCall + i.numCalls && k < plan.headCalls.size(); ++k)
        item(plan.headCalls[k], "  ");
  }
  return out;
}
