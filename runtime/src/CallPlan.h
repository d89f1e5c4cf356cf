//===- CallPlan.h - Which entry point runs which tokens ---------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The call planner: from the facts of one Session::run call (its tokens, the
// chunk starts and fire masks the clock gave them, which entry points the
// model has, its heads, and the threads and streams) it decides which entry
// point runs which tokens with which fire mask, and how the threads are
// split between the streams and a stream's heads. A plan holds no pointers,
// no state and no threads: an executor (Executor.h) carries it out.
//
// Internal to the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_CALLPLAN_H
#define NLRT_SRC_CALLPLAN_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nlrt {

/// What the planner knows about one call.
struct CallFacts {
  int64_t tokens = 0;
  /// Tokens per call of the chunk entries (0 without them).
  int64_t chunkSize = 0;
  /// Per token: whether a whole chunk of every learning level starts there
  /// (Session::chunkStarts); empty means none. A start whose chunk would
  /// pass the end of the call, or that lies inside a chunk already taken,
  /// is not used.
  std::vector<char> chunkStarts;
  /// Per token: the levels whose chunk the token completes.
  std::vector<uint64_t> fire;
  /// The levels the end of the call flushes (0: no flush call).
  uint64_t flush = 0;
  /// Which entry points the model has besides the step and the flush.
  bool hasChunk = false, hasHeadStep = false, hasHeadChunk = false;
  /// The heads the head entries split (Manifest::headSplit).
  int64_t heads = 0;
  /// The threads the caller gives the call, and the streams.
  int threads = 1;
  int64_t streams = 1;
};

enum class EntryKind {
  Step,      ///< the step, one token
  Chunk,     ///< the chunk entry, chunkSize tokens
  HeadRun,   ///< a run of tokens, head by head (its calls: headCalls)
  HeadStep,  ///< the step of one head, one token (inside a head run)
  HeadChunk, ///< the chunk entry of one head (inside a head run)
  Flush,     ///< the flush at the end of the call
};

/// The name of a kind ("step", "chunk", "head-run", ...), for messages and
/// tests.
const char *entryKindName(EntryKind kind);

struct PlanItem {
  EntryKind kind = EntryKind::Step;
  /// The tokens of the call, [begin, end) (a flush: [tokens, tokens)).
  int64_t begin = 0, end = 0;
  /// The fire mask the entry gets: a token's for a step, the OR of its
  /// tokens' for a chunk, the flush mask for a flush; 0 for a head run,
  /// whose calls carry their own.
  uint64_t fire = 0;
  /// A head run: its calls are headCalls[firstCall, firstCall + numCalls),
  /// which every head runs in order.
  size_t firstCall = 0, numCalls = 0;

  bool operator==(const PlanItem &o) const {
    return kind == o.kind && begin == o.begin && end == o.end &&
           fire == o.fire && firstCall == o.firstCall && numCalls == o.numCalls;
  }
};

/// How a call's threads are split.
struct ThreadSplit {
  /// Threads over the streams (each takes whole streams).
  int64_t workers = 1;
  /// The team of each worker: the threads a step's parallel loops get
  /// (Model::setThreads), threads / workers.
  int team = 1;
  /// Threads over a stream's heads in a head run (1: no head runs).
  int headTeam = 1;
};

/// A run of at least this many tokens between chunks runs head by head;
/// a shorter one does not pay for waking the head team.
constexpr int64_t kMinHeadRun = 16;

struct CallPlan {
  int64_t tokens = 0;
  int64_t streams = 0;
  int64_t heads = 0;
  int64_t chunkSize = 0;
  ThreadSplit split;
  /// The streams each worker part takes, [begin, end), split evenly; parts
  /// go to the workers in any order.
  std::vector<std::pair<int64_t, int64_t>> streamParts;
  /// The heads each part of a head team takes, [begin, end).
  std::vector<std::pair<int64_t, int64_t>> headParts;
  /// What every stream runs, in order. The clock is shared by the streams,
  /// so each stream's list is the same one, held once.
  std::vector<PlanItem> items;
  /// The calls of the head runs (HeadStep, HeadChunk), referenced by the
  /// runs' firstCall / numCalls.
  std::vector<PlanItem> headCalls;
  /// The facts' per-token fire masks and flush mask, for an executor that
  /// runs every token in one launch (CUDA).
  std::vector<uint64_t> fire;
  uint64_t flush = 0;

  /// The items stream `b` runs (the same for every stream).
  const std::vector<PlanItem> &itemsOf(int64_t) const { return items; }
  /// Whether some item is a head run (a head team is needed).
  bool hasHeadRuns() const { return !headCalls.empty(); }
};

/// Plans one call. Pure: the same facts give the same plan.
CallPlan planCall(CallFacts facts);

/// The plan as text, one item a line ("chunk 0-8 fire=0x3"; a head run
/// lists its calls indented), for tests and debugging.
std::string describePlan(const CallPlan &plan);

} // namespace nlrt

#endif // NLRT_SRC_CALLPLAN_H
