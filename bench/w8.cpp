//===- w8.cpp - Benchmark W8: ragged sequence lengths ---------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// W8 of docs/performance anchors: six sequences of mixed lengths (1, 7, 63,
// 64, 65 and 1847 tokens: shorter than a chunk, one token, T mod C != 0)
// through DeltaNet (bench/models/w2.nl, H = 8 heads of width d, chunks of
// 64). Each sequence is its own call on a fresh state, as a server handles
// requests of different lengths:
//   nlc_chunk      the chunk form (--chunk-form=always: whole chunks as
//                  matrix products, the ragged tails token by token);
//   nlc_per_token  the same model compiled with --chunk-form=never (what
//                  nlc's cost model picks at d = 64);
//   nlc_padded     one batch of 6 streams padded to the longest sequence
//                  (what a runtime of equal-length batches has to do; the
//                  padding tokens have lr 0 and are discarded).
// Every output is checked against a float64 per-token reference of the
// delta rule (max relative error 1e-4) before it is timed. Medians of
// `runs` runs of the whole set; appends JSON lines to results.jsonl.
//
//===----------------------------------------------------------------------===//

#include "nlrt/nlrt.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace {

constexpr int kHeads = 8;
const std::vector<int> kLengths = {1, 7, 63, 64, 65, 1847};

/// Tokens of one sequence: [T, 3 H d + H] (k, v, q, lr) as w2.nl reads them.
std::vector<float> makeSequence(int d, int tokens, unsigned seed) {
  int hd = kHeads * d, width = 3 * hd + kHeads;
  std::vector<float> x(static_cast<size_t>(tokens) * width);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (int t = 0; t < tokens; ++t) {
    float *row = &x[static_cast<size_t>(t) * width];
    for (int i = 0; i < 3 * hd; ++i)
      row[i] = normal(rng);
    for (int h = 0; h < kHeads; ++h) { // unit keys per head
      float n = 0;
      for (int j = 0; j < d; ++j)
        n += row[h * d + j] * row[h * d + j];
      for (int j = 0; j < d; ++j)
        row[h * d + j] /= std::sqrt(n);
      row[3 * hd + h] = unit(rng); // lr (beta)
    }
  }
  return x;
}

/// The delta rule token by token in float64: e = S k - v; S -= lr e k^T;
/// y = S q (read after the write), per head from a zero state.
std::vector<double> reference(const std::vector<float> &x, int d, int tokens) {
  int hd = kHeads * d, width = 3 * hd + kHeads;
  std::vector<double> y(static_cast<size_t>(tokens) * hd);
  std::vector<double> S(static_cast<size_t>(kHeads) * d * d, 0.0), e(d);
  for (int t = 0; t < tokens; ++t) {
    const float *row = &x[static_cast<size_t>(t) * width];
    for (int h = 0; h < kHeads; ++h) {
      double *s = &S[static_cast<size_t>(h) * d * d];
      const float *k = row + h * d, *v = row + hd + h * d,
                  *q = row + 2 * hd + h * d;
      double lr = row[3 * hd + h];
      for (int i = 0; i < d; ++i) {
        double p = 0;
        for (int j = 0; j < d; ++j)
          p += s[i * d + j] * k[j];
        e[i] = p - v[i];
      }
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j)
          s[i * d + j] -= lr * e[i] * k[j];
      for (int i = 0; i < d; ++i) {
        double o = 0;
        for (int j = 0; j < d; ++j)
          o += s[i * d + j] * q[j];
        y[static_cast<size_t>(t) * hd + h * d + i] = o;
      }
    }
  }
  return y;
}

double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s CHUNK.so PER_TOKEN.so D [RUNS] [RESULTS]\n",
                 argv[0]);
    return 2;
  }
  int d = std::atoi(argv[3]);
  int runs = argc > 4 ? std::atoi(argv[4]) : 5;
  const char *results = argc > 5 ? argv[5] : nullptr;
  int hd = kHeads * d, width = 3 * hd + kHeads;
  char err[512];
  nlrt_model_t *models[2];
  for (int m = 0; m < 2; ++m)
    if (!(models[m] = nlrt_model_load(argv[1 + m], err, sizeof err))) {
      std::fprintf(stderr, "w8: %s\n", err);
      return 1;
    }

  int total = 0, longest = 0;
  std::vector<std::vector<float>> seqs;
  std::vector<std::vector<double>> refs;
  for (size_t i = 0; i < kLengths.size(); ++i) {
    seqs.push_back(makeSequence(d, kLengths[i], 100 + i));
    refs.push_back(reference(seqs.back(), d, kLengths[i]));
    total += kLengths[i];
    longest = std::max(longest, kLengths[i]);
  }
  // The padded batch: [6, longest, width], padding tokens with lr 0.
  std::vector<float> padded(kLengths.size() * longest * width, 0.f);
  for (size_t i = 0; i < kLengths.size(); ++i)
    std::copy(seqs[i].begin(), seqs[i].end(),
              padded.begin() + i * longest * width);

  struct Row {
    const char *impl;
    int model;
    bool pad;
    std::vector<double> times;
    double err = 0;
  };
  std::vector<Row> rows = {{"nlc_chunk", 0, false, {}},
                           {"nlc_per_token", 1, false, {}},
                           {"nlc_padded", 0, true, {}}};
  std::vector<float> y(kLengths.size() * longest * hd);
  for (int r = 0; r < runs; ++r)
    for (Row &row : rows) {
      double worst = 0, scale = 0;
      auto check = [&](const float *out, const std::vector<double> &ref) {
        for (size_t j = 0; j < ref.size(); ++j) {
          worst = std::max(worst, std::fabs(out[j] - ref[j]));
          scale = std::max(scale, std::fabs(ref[j]));
        }
      };
      double t0 = seconds();
      if (row.pad) {
        nlrt_session_t *s = nlrt_session_create(
            models[row.model], kLengths.size(), 0, err, sizeof err);
        if (!s || nlrt_session_run(s, padded.data(), longest, y.data(), 1, err,
                                   sizeof err)) {
          std::fprintf(stderr, "w8: %s\n", err);
          return 1;
        }
        nlrt_session_destroy(s);
        row.times.push_back(seconds() - t0);
        for (size_t i = 0; i < kLengths.size(); ++i)
          check(&y[i * longest * hd], refs[i]);
      } else {
        for (size_t i = 0; i < kLengths.size(); ++i) {
          nlrt_session_t *s =
              nlrt_session_create(models[row.model], 1, 0, err, sizeof err);
          if (!s || nlrt_session_run(s, seqs[i].data(), kLengths[i],
                                     y.data(), 1, err, sizeof err)) {
            std::fprintf(stderr, "w8: %s\n", err);
            return 1;
          }
          nlrt_session_destroy(s);
          double t1 = seconds();
          check(y.data(), refs[i]); // not timed
          t0 += seconds() - t1;
        }
        row.times.push_back(seconds() - t0);
      }
      row.err = std::max(row.err, worst / std::max(scale, 1e-30));
    }

  FILE *jsonl = results ? std::fopen(results, "a") : nullptr;
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double best = std::min(med(rows[0].times), med(rows[1].times));
  std::printf("W8 d=%d ragged lengths 1/7/63/64/65/1847 (%d tokens, %d "
              "heads), one call per sequence\n",
              d, total, kHeads);
  int status = 0;
  for (const Row &row : rows) {
    double t = med(row.times);
    double gflops = 6.0 * d * d * kHeads * total / t / 1e9;
    std::printf("  %-14s median %8.2f ms  %9.0f tokens/s  %6.2f GFLOP/s  "
                "max rel err %.1e  nlc(best) speed-up over this %.2fx\n",
                row.impl, t * 1e3, total / t, gflops, row.err, t / best);
    if (!(row.err <= 1e-4)) {
      std::fprintf(stderr, "w8: %s disagrees with the float64 reference\n",
                   row.impl);
      status = 1;
    }
    if (jsonl)
      std::fprintf(jsonl,
                   "{\"case\": \"W8\", \"d\": %d, \"impl\": \"%s\", "
                   "\"threads\": 1, \"median_s\": %.9f, \"min_s\": %.9f, "
                   "\"max_s\": %.9f, \"tokens_per_s\": %.1f, \"gflops\": "
                   "%.3f, \"max_rel_err_vs_ref\": %.3e}\n",
                   d, row.impl, t,
                   *std::min_element(row.times.begin(), row.times.end()),
                   *std::max_element(row.times.begin(), row.times.end()),
                   total / t, gflops, row.err);
  }
  if (jsonl)
    std::fclose(jsonl);
  for (nlrt_model_t *m : models)
    nlrt_model_destroy(m);
  return status;
}
