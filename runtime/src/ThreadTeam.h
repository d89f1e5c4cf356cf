//===- ThreadTeam.h - Threads of ours, started once and reused --*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A team of helper threads, each with a stack sized for a model's frames
// (the manifest's stack_bytes plus slack), that a thread hands parts of its
// work to. Helpers are started when a run first needs them and then wait
// for the next run; the team joins them when it is destroyed. The thread
// that calls run() works too when its own stack holds the frames.
//
// Internal to the runtime (the CPU executor).
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_THREADTEAM_H
#define NLRT_SRC_THREADTEAM_H

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <vector>

namespace nlrt {

/// The frames a caller's thread is trusted to hold; larger ones (a step
/// with a long attention window, say) run on threads we create with a stack
/// that holds them.
constexpr size_t kCallerStack = size_t(1) << 20;
/// What a frame needs beyond the manifest's stack_bytes (spills, calls,
/// libc).
constexpr size_t kStackSlack = size_t(2) << 20;

class ThreadTeam {
public:
  /// A team whose helpers hold `frameBytes` of frames (none started yet).
  explicit ThreadTeam(size_t frameBytes);
  /// Wakes the helpers and joins them (no run may be in progress).
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam &) = delete;
  ThreadTeam &operator=(const ThreadTeam &) = delete;

  /// Part p's work, on the thread of `slot`: 0 is the caller's, 1.. the
  /// team's helpers (a slot runs on one thread at a time, and is the same
  /// helper from run to run).
  using Work = std::function<void(int64_t part, int slot)>;

  /// Runs work(p, slot) for every p in [0, parts), each once, on up to
  /// `parts` threads: this one when its stack holds the frames, and helpers
  /// (started as needed, kept for later runs). A helper that cannot be
  /// started leaves its parts to the others; false (with nothing run) only
  /// if no thread can run them at all.
  bool run(int64_t parts, const Work &work, std::string *error);

  /// Whether the calling thread's stack holds the team's frames.
  bool callerCanWork() const;
  /// The helpers started so far.
  size_t helpers() const { return threads.size(); }
  /// The stack each helper gets (bytes).
  size_t stackBytes() const { return stack; }

  /// The stack of the calling thread if the runtime created it (a helper of
  /// some team), 0 otherwise.
  static size_t ownStackOfThisThread();

private:
  struct Helper;
  static void *helperMain(void *arg);
  void helperLoop(const Helper &helper);
  /// Starts helpers until there are `n` (or one fails to start: false, with
  /// its error; those already started stay).
  bool startHelpers(size_t n, std::string *why);
  /// Takes parts until none is left.
  void drain(int slot);

  size_t frames, stack;
  std::vector<pthread_t> threads;
  std::vector<std::unique_ptr<Helper>> starts;

  std::mutex lock;
  std::condition_variable wake, done;
  /// Counts runs; a helper works on a run when it sees a new value and its
  /// slot is among the run's first `wanted`.
  uint64_t generation = 0;
  size_t wanted = 0, remaining = 0;
  bool stopping = false;
  // The current run (valid while remaining > 0 or the caller drains).
  const Work *current = nullptr;
  int64_t parts = 0;
  std::atomic<int64_t> next{0};
};

} // namespace nlrt

#endif // NLRT_SRC_THREADTEAM_H
