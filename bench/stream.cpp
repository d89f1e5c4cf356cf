// The machine's memory bandwidth, STREAM-style: triad a = b + s c over
// arrays far larger than the caches, with 1 and 2 threads; prints the best
// of RUNS in GB/s (bytes read + written) as JSON lines, for the roofline of
// memory-bound workloads (W6).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (64u << 20);
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  const char *results = argc > 3 ? argv[3] : nullptr;
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  FILE *jsonl = results ? std::fopen(results, "a") : nullptr;
  for (int threads : {1, 2}) {
    double best = 0;
    for (int r = 0; r < runs; ++r) {
      auto start = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          size_t lo = n * t / threads, hi = n * (t + 1) / threads;
          for (size_t i = lo; i < hi; ++i)
            a[i] = b[i] + 3.0f * c[i];
        });
      for (auto &th : pool)
        th.join();
      double s = std::chrono::duration<double>(
                     std::chrono::steady_clock::now() - start)
                     .count();
      best = std::max(best, 3.0 * sizeof(float) * n / s / 1e9);
    }
    std::printf("stream triad %d thread(s): %.2f GB/s (best of %d, %zu floats)\n",
                threads, best, runs, n);
    if (jsonl)
      std::fprintf(jsonl,
                   "{\"case\": \"stream\", \"impl\": \"triad\", \"threads\": "
                   "%d, \"gbytes_per_s\": %.3f}\n",
                   threads, best);
  }
  if (jsonl)
    std::fclose(jsonl);
  return a[n / 2] == 7.0f ? 0 : 1;
}
