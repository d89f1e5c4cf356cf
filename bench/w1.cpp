//===- w1.cpp - Benchmark W1: Titans-linear, exact per-token recurrence ---===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Times nlc's compiled code for W1 (bench/models/w1.nl) against a
// hand-fused C++ loop of the same recurrence (the peer the compiled code
// must reach), in one process, after checking that both agree:
//   pred = M k; S = eta S - theta (pred - v) k^T; M = keep M + S; out = M q
// per head and token, H = 8 heads, fp32. Prints medians of `runs` runs and
// appends JSON lines to build/bench/results.jsonl.
//
//===----------------------------------------------------------------------===//

#include "titans_row.h"

#include "nlrt/nlrt.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace {

constexpr int kHeads = 8;

struct Inputs {
  int d, tokens;
  std::vector<float> x; // [T, 3 H d + 3 H] as the nlc model takes it
};

Inputs makeInputs(int d, int tokens) {
  Inputs in{d, tokens, {}};
  int hd = kHeads * d, width = 3 * hd + 3 * kHeads;
  in.x.resize(static_cast<size_t>(tokens) * width);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (int t = 0; t < tokens; ++t) {
    float *row = &in.x[static_cast<size_t>(t) * width];
    for (int i = 0; i < 3 * hd; ++i)
      row[i] = normal(rng);
    for (int h = 0; h < kHeads; ++h) { // unit keys per head
      float n = 0;
      for (int j = 0; j < d; ++j)
        n += row[h * d + j] * row[h * d + j];
      n = 1.f / std::sqrt(n);
      for (int j = 0; j < d; ++j)
        row[h * d + j] *= n;
    }
    for (int h = 0; h < kHeads; ++h) {
      row[3 * hd + h] = 0.1f * unit(rng);                     // theta
      row[3 * hd + kHeads + h] = 0.5f + 0.5f * unit(rng);     // eta
      row[3 * hd + 2 * kHeads + h] = 0.9f + 0.1f * unit(rng); // keep
    }
  }
  return in;
}

/// The hand-fused loop: per head, time innermost, one pass per row.
void fused(const Inputs &in, std::vector<float> &out, int threads) {
  int d = in.d, hd = kHeads * d, width = 3 * hd + 3 * kHeads;
  out.assign(static_cast<size_t>(in.tokens) * hd, 0.f);
  auto work = [&](int h0, int h1) {
    std::vector<float> M(d * d), S(d * d);
    for (int h = h0; h < h1; ++h) {
      std::fill(M.begin(), M.end(), 0.f);
      std::fill(S.begin(), S.end(), 0.f);
      for (int t = 0; t < in.tokens; ++t) {
        const float *row = &in.x[static_cast<size_t>(t) * width];
        const float *k = row + h * d, *v = row + hd + h * d,
                    *q = row + 2 * hd + h * d;
        float theta = row[3 * hd + h], eta = row[3 * hd + kHeads + h],
              keep = row[3 * hd + 2 * kHeads + h];
        float *o = &out[static_cast<size_t>(t) * hd + h * d];
        for (int i = 0; i < d; ++i)
          o[i] =
              titansRow(&M[i * d], &S[i * d], k, q, v[i], theta, eta, keep, d);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w)
    pool.emplace_back(work, kHeads * w / threads, kHeads * (w + 1) / threads);
  work(0, kHeads / threads);
  for (auto &th : pool)
    th.join();
}

template <typename Fn> double median(int runs, Fn fn) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - a)
            .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: %s MODEL.so D [TOKENS] [RUNS] [RESULTS] [OMP_MODEL.so]\n"
        "  OMP_MODEL.so: the model compiled with --cpu-parallel, "
        "timed with 2 threads\n",
        argv[0]);
    return 2;
  }
  int d = std::atoi(argv[2]);
  int tokens = argc > 3 ? std::atoi(argv[3]) : 2048;
  int runs = argc > 4 ? std::atoi(argv[4]) : 5;
  const char *results = argc > 5 ? argv[5] : nullptr;
  const char *ompPath = argc > 6 ? argv[6] : nullptr;
  Inputs in = makeInputs(d, tokens);
  int hd = kHeads * d;

  char err[512];
  nlrt_model_t *model = nlrt_model_load(argv[1], err, sizeof err);
  if (!model) {
    std::fprintf(stderr, "w1: %s\n", err);
    return 1;
  }
  nlrt_model_t *ompModel =
      ompPath ? nlrt_model_load(ompPath, err, sizeof err) : nullptr;
  if (ompPath && !ompModel) {
    std::fprintf(stderr, "w1: %s\n", err);
    return 1;
  }
  std::vector<float> y(static_cast<size_t>(tokens) * hd), ref;
  auto runNlc = [&](nlrt_model_t *m, int nlcThreads) {
    nlrt_session_t *s = nlrt_session_create(m, 1, 0, err, sizeof err);
    if (!s || nlrt_session_run(s, in.x.data(), tokens, y.data(), nlcThreads,
                               err, sizeof err) != 0) {
      std::fprintf(stderr, "w1: %s\n", err);
      std::exit(1);
    }
    nlrt_session_destroy(s);
  };

  // Check before timing.
  runNlc(model, 1);
  fused(in, ref, 1);
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    maxDiff = std::max(maxDiff, static_cast<double>(std::fabs(y[i] - ref[i])));
    maxRef = std::max(maxRef, static_cast<double>(std::fabs(ref[i])));
  }
  double rel = maxDiff / std::max(maxRef, 1e-30);
  if (!(rel <= 1e-4)) {
    std::fprintf(stderr, "w1: d=%d: nlc and the fused loop disagree (%.3g)\n",
                 d, rel);
    return 1;
  }

  double tNlc = median(runs, [&] { runNlc(model, 1); });
  // The threaded runs must agree too before they are timed.
  std::vector<float> ySerial = y;
  auto agrees = [&](nlrt_model_t *m, const char *what) {
    runNlc(m, 2);
    double diff = 0;
    for (size_t i = 0; i < y.size(); ++i)
      diff = std::max(diff, static_cast<double>(std::fabs(y[i] - ySerial[i])));
    if (diff / std::max(maxRef, 1e-30) <= 1e-4)
      return true;
    std::fprintf(stderr, "w1: d=%d: %s disagrees\n", d, what);
    return false;
  };
  // The default build on 2 threads: its heads on threads of their own (the
  // step of one head, nl-split-heads).
  if (!agrees(model, "the 2-thread run"))
    return 1;
  double tNlc2 = median(runs, [&] { runNlc(model, 2); });
  double tOmp = 0;
  if (ompModel) {
    if (!agrees(ompModel, "the --cpu-parallel build"))
      return 1;
    tOmp = median(runs, [&] { runNlc(ompModel, 2); });
  }
  double tFused1 = median(runs, [&] { fused(in, ref, 1); });
  double tFused2 = median(runs, [&] { fused(in, ref, 2); });
  double th = static_cast<double>(tokens) * kHeads;
  double flops = 9.0 * d * d * th;
  std::printf("W1 d=%-4d T=%d H=%d  max rel diff %.2e\n", d, tokens, kHeads,
              rel);
  struct Row {
    const char *impl;
    double seconds;
    int threads;
  } rows[] = {{"nlc", tNlc, 1},
              {"nlc_heads", tNlc2, 2},
              {"nlc_omp", tOmp, 2},
              {"fused_cpp", tFused1, 1},
              {"fused_cpp", tFused2, 2}};
  FILE *jsonl = results ? std::fopen(results, "a") : nullptr;
  for (const Row &r : rows) {
    if (r.seconds <= 0)
      continue; // not measured (no OMP_MODEL)
    std::printf("  %-10s %d thread(s): %9.0f token-heads/s  %6.2f GFLOP/s  "
                "nlc speed-up over this %.2fx\n",
                r.impl, r.threads, th / r.seconds, flops / r.seconds / 1e9,
                r.seconds / tNlc);
    if (jsonl)
      std::fprintf(jsonl,
                   "{\"case\": \"W1\", \"d\": %d, \"impl\": \"%s\", "
                   "\"threads\": %d, \"tokens_per_s\": %.1f, "
                   "\"token_heads_per_s\": %.1f, \"gflops\": %.3f, "
                   "\"median_s\": %.6f}\n",
                   d, r.impl, r.threads, tokens / r.seconds, th / r.seconds,
                   flops / r.seconds / 1e9, r.seconds);
  }
  if (jsonl)
    std::fclose(jsonl);
  nlrt_model_destroy(model);
  if (ompModel)
    nlrt_model_destroy(ompModel);
  return 0;
}
