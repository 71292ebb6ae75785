// median_micros.h: the timing the micro-benchmarks share: µs per call, the median of `repeats`
// timings of `calls` calls each, after a tenth as many calls to warm up.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

template <typename Call>
double medianMicros(Call call, int repeats, int calls) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    for (int i = 0; i < calls / 10; ++i) call();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) call();
    t.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
        calls);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
