//===- titans_row.h - One row of the hand-fused Titans-linear step -*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The peer the compiled W1/W7 code is measured against: one row i of a
// head's memory M and momentum S, updated and read in a single pass.
//   pred = M_i . k; e = theta (pred - v_i); S_i = eta S_i - e k;
//   M_i = keep M_i + S_i; returns M_i . q
//
//===----------------------------------------------------------------------===//

#ifndef NLC_BENCH_TITANS_ROW_H
#define NLC_BENCH_TITANS_ROW_H

inline float titansRow(float *m, float *s, const float *k, const float *q,
                       float v, float theta, float eta, float keep, int d) {
  float pred = 0.f;
#pragma omp simd reduction(+ : pred)
  for (int j = 0; j < d; ++j)
    pred += m[j] * k[j];
  float e = theta * (pred - v), acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int j = 0; j < d; ++j) {
    s[j] = eta * s[j] - e * k[j];
    m[j] = keep * m[j] + s[j];
    acc += m[j] * q[j];
  }
  return acc;
}

#endif // NLC_BENCH_TITANS_ROW_H
