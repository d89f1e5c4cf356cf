//===- ThreadTeam.cpp - Threads of ours, started once and reused ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "ThreadTeam.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <unistd.h>

using namespace nlrt;

namespace {
/// The stack a thread of ours has (0: one we did not create, whose stack
/// we assume holds kCallerStack bytes of frames).
thread_local size_t ownStack = 0;
} // namespace

size_t ThreadTeam::ownStackOfThisThread() { return ownStack; }

ThreadTeam::ThreadTeam(size_t frameBytes) : frames(frameBytes) {
  size_t need = frameBytes + kStackSlack;
  long page = ::sysconf(_SC_PAGESIZE);
  stack = std::max<size_t>(need, PTHREAD_STACK_MIN);
  if (page > 0)
    stack = (stack + page - 1) / page * page;
}

ThreadTeam::~ThreadTeam() {
  {
    std::lock_guard<std::mutex> g(lock);
    stopping = true;
  }
  wake.notify_all();
  for (pthread_t id : threads)
    pthread_join(id, nullptr);
}

bool ThreadTeam::callerCanWork() const {
  return frames <= (ownStack ? ownStack - kStackSlack : kCallerStack);
}

struct ThreadTeam::Helper {
  ThreadTeam *team;
  int slot;
  /// The run count when it was started: it works on the runs after.
  uint64_t seen;
};

void *ThreadTeam::helperMain(void *arg) {
  Helper *h = static_cast<Helper *>(arg);
  ownStack = h->team->stack;
  h->team->helperLoop(*h);
  return nullptr;
}

void ThreadTeam::helperLoop(const Helper &h) {
  uint64_t seen = h.seen;
  std::unique_lock<std::mutex> g(lock);
  for (;;) {
    wake.wait(g, [&] { return stopping || generation != seen; });
    if (stopping)
      return;
    seen = generation;
    if (static_cast<size_t>(h.slot) > wanted)
      continue; // not needed by this run
    g.unlock();
    drain(h.slot);
    g.lock();
    if (--remaining == 0)
      done.notify_all();
  }
}

bool ThreadTeam::startHelpers(size_t n, std::string *why) {
  while (threads.size() < n) {
    auto helper = std::make_unique<Helper>(
        Helper{this, static_cast<int>(threads.size() + 1), generation});
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) {
      *why = std::strerror(rc);
      return false;
    }
    pthread_t id;
    rc = pthread_attr_setstacksize(&attr, stack);
    if (rc == 0)
      rc = pthread_create(&id, &attr, helperMain, helper.get());
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      *why = "cannot start a thread with a " + std::to_string(stack) +
             "-byte stack for this model's steps (stack_bytes " +
             std::to_string(frames) + "): " + std::strerror(rc);
      return false;
    }
    threads.push_back(id);
    starts.push_back(std::move(helper));
  }
  return true;
}

void ThreadTeam::drain(int slot) {
  for (int64_t p; (p = next.fetch_add(1)) < parts;)
    (*current)(p, slot);
}

bool ThreadTeam::run(int64_t n, const Work &work, std::string *error) {
  if (n <= 0)
    return true;
  bool here = callerCanWork();
  size_t want = static_cast<size_t>(n - (here ? 1 : 0));
  if (threads.size() < want) {
    std::string why;
    if (!startHelpers(want, &why) && threads.empty() && !here) {
      *error = why;
      return false;
    }
  }
  size_t use = std::min(want, threads.size());
  if (use == 0) { // this thread alone: no one to wake
    for (int64_t p = 0; p < n; ++p)
      work(p, 0);
    return true;
  }
  {
    std::lock_guard<std::mutex> g(lock);
    current = &work;
    parts = n;
    next.store(0);
    wanted = use;
    remaining = use;
    ++generation;
  }
  wake.notify_all();
  if (here)
    drain(0);
  std::unique_lock<std::mutex> g(lock);
  done.wait(g, [&] { return remaining == 0; });
  current = nullptr;
  return true;
}
