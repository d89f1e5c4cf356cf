//===- w7.cpp - Benchmark W7: decode, one token at a time for B states ----===//
//
// Part of nlc, the Nested Learning Compiler.
//
// W7 of docs/performance anchors: serving. B streams (B * 8 heads of the W1
// Titans-linear memory, bench/models/w1.nl) each take one token per call,
// for `steps` calls; the time per call is what a decoder waits. nlc's
// compiled model (through the nlrt C API, the states kept in the session)
// runs against a hand-fused C++ loop of the same step over the same states,
// after checking that both agree. Medians of `runs` runs of all the steps;
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

/// One token for every stream and step: [steps, B, 3 H d + 3 H].
std::vector<float> makeTokens(int d, int batch, int steps) {
  int hd = kHeads * d, width = 3 * hd + 3 * kHeads;
  std::vector<float> x(static_cast<size_t>(steps) * batch * width);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (size_t r = 0; r < x.size() / width; ++r) {
    float *row = &x[r * width];
    for (int i = 0; i < 3 * hd; ++i)
      row[i] = normal(rng);
    for (int h = 0; h < kHeads; ++h) {
      float n = 0;
      for (int j = 0; j < d; ++j)
        n += row[h * d + j] * row[h * d + j];
      for (int j = 0; j < d; ++j)
        row[h * d + j] /= std::sqrt(n);
      row[3 * hd + h] = 0.1f * unit(rng);
      row[3 * hd + kHeads + h] = 0.5f + 0.5f * unit(rng);
      row[3 * hd + 2 * kHeads + h] = 0.9f + 0.1f * unit(rng);
    }
  }
  return x;
}

/// The hand-fused step of every (stream, head) state, split over threads.
struct Fused {
  int d, batch;
  std::vector<float> M, S; // [B * H, d, d]
  Fused(int d, int batch)
      : d(d), batch(batch), M(static_cast<size_t>(batch) * kHeads * d * d),
        S(M.size()) {}
  void step(const float *x, float *out, int threads) {
    int hd = kHeads * d, width = 3 * hd + 3 * kHeads;
    auto work = [&](int s0, int s1) {
      for (int s = s0; s < s1; ++s) {
        int b = s / kHeads, h = s % kHeads;
        const float *row = x + static_cast<size_t>(b) * width;
        const float *k = row + h * d, *v = row + hd + h * d,
                    *q = row + 2 * hd + h * d;
        float theta = row[3 * hd + h], eta = row[3 * hd + kHeads + h],
              keep = row[3 * hd + 2 * kHeads + h];
        float *o = out + static_cast<size_t>(b) * hd + h * d;
        for (int i = 0; i < d; ++i) {
          size_t row = (static_cast<size_t>(s) * d + i) * d;
          o[i] = titansRow(&M[row], &S[row], k, q, v[i], theta, eta, keep, d);
        }
      }
    };
    int states = batch * kHeads;
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w)
      pool.emplace_back(work, states * w / threads,
                        states * (w + 1) / threads);
    work(0, states / threads);
    for (auto &t : pool)
      t.join();
  }
};

double seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.so D [STEPS] [RUNS] [RESULTS]\n",
                 argv[0]);
    return 2;
  }
  int d = std::atoi(argv[2]);
  int steps = argc > 3 ? std::atoi(argv[3]) : 256;
  int runs = argc > 4 ? std::atoi(argv[4]) : 5;
  const char *results = argc > 5 ? argv[5] : nullptr;
  int hd = kHeads * d, width = 3 * hd + 3 * kHeads;
  char err[512];
  nlrt_model_t *model = nlrt_model_load(argv[1], err, sizeof err);
  if (!model) {
    std::fprintf(stderr, "w7: %s\n", err);
    return 1;
  }
  FILE *jsonl = results ? std::fopen(results, "a") : nullptr;
  for (int batch : {1, 4, 32}) {
    std::vector<float> x = makeTokens(d, batch, steps);
    std::vector<float> y(static_cast<size_t>(batch) * hd), ref(y.size());
    struct Row {
      const char *impl;
      int threads;
      std::vector<double> times;
    };
    std::vector<Row> rows = {{"nlc", 1, {}}, {"nlc", 2, {}},
                             {"fused_cpp", 1, {}}, {"fused_cpp", 2, {}}};
    double worst = 0, scale = 0;
    for (int r = 0; r < runs; ++r) {
      for (Row &row : rows) {
        bool isNlc = row.impl[0] == 'n';
        nlrt_session_t *s =
            isNlc ? nlrt_session_create(model, batch, 0, err, sizeof err)
                  : nullptr;
        if (isNlc && !s) {
          std::fprintf(stderr, "w7: %s\n", err);
          return 1;
        }
        Fused fused(d, batch);
        double total = 0;
        for (int t = 0; t < steps; ++t) {
          const float *xt = &x[static_cast<size_t>(t) * batch * width];
          auto a = std::chrono::steady_clock::now();
          if (isNlc) {
            if (nlrt_session_run(s, xt, 1, y.data(), row.threads, err,
                                 sizeof err) != 0) {
              std::fprintf(stderr, "w7: %s\n", err);
              return 1;
            }
          } else {
            fused.step(xt, ref.data(), row.threads);
          }
          total += seconds(a);
        }
        row.times.push_back(total / steps);
        if (isNlc)
          nlrt_session_destroy(s);
      }
      // The last step's outputs of nlc (2 threads) and fused (2 threads).
      for (size_t i = 0; i < y.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(y[i] - ref[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(ref[i])));
      }
    }
    double rel = worst / std::max(scale, 1e-30);
    if (!(rel <= 1e-3)) {
      std::fprintf(stderr, "w7: nlc and the fused loop disagree: %.2e\n", rel);
      return 1;
    }
    auto med = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    double nlcBest = std::min(med(rows[0].times), med(rows[1].times));
    std::printf("W7 d=%d B=%d (%d states) decode, %d steps, max rel diff %.1e\n",
                d, batch, batch * kHeads, steps, rel);
    for (const Row &row : rows) {
      double t = med(row.times);
      std::printf("  %-10s %d thread(s): %8.2f us/step  %10.0f tokens/s  "
                  "nlc(best) speed-up over this %.2fx\n",
                  row.impl, row.threads, t * 1e6, batch / t, t / nlcBest);
      if (jsonl)
        std::fprintf(jsonl,
                     "{\"case\": \"W7\", \"d\": %d, \"B\": %d, \"impl\": "
                     "\"%s\", \"threads\": %d, \"median_s\": %.9f, "
                     "\"tokens_per_s\": %.1f, \"gflops\": %.3f}\n",
                     d, batch, row.impl, row.threads, t, batch / t,
                     9.0 * d * d * batch * kHeads / t / 1e9);
    }
  }
  if (jsonl)
    std::fclose(jsonl);
  nlrt_model_destroy(model);
  return 0;
}
