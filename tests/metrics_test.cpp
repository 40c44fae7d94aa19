// Samples are an exact histogram: the same nearest-rank summary as the sorted sample vector it
// replaced, in memory bounded by the distinct values.
#include "sim/record/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/core/rng.hpp"

namespace vcpusim::sim {
namespace {

// The definition the histogram must agree with: sort every sample, take the nearest rank.
std::map<std::string, std::int64_t> sorted_summary(std::vector<std::int64_t> v) {
  std::sort(v.begin(), v.end());
  auto rank = [&](std::size_t pct) {
    const std::size_t r = (v.size() * pct + 99) / 100;
    return v[std::max<std::size_t>(r, 1) - 1];
  };
  return {{"count", static_cast<std::int64_t>(v.size())},
          {"min", v.front()},
          {"p50", rank(50)},
          {"p99", rank(99)},
          {"max", v.back()}};
}

TEST(Samples, HistogramSummaryEqualsTheSortedSamples) {
  Rng rng(12, 0);
  for (std::uint64_t n : {1u, 2u, 3u, 99u, 100u, 101u, 1000u, 54321u}) {
    for (std::uint64_t spread : {1u, 7u, 1000u, 1u << 30}) {
      Samples s;
      std::vector<std::int64_t> v;
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto x = static_cast<std::int64_t>(rng.below(spread)) - 3;
        v.push_back(x);
        s.add(x);
      }
      EXPECT_EQ(s.summary(), sorted_summary(v)) << n << " samples below " << spread;
      EXPECT_EQ(s.count(), n);
    }
  }
  EXPECT_TRUE(Samples().summary().empty());
}

TEST(Samples, MemoryGrowsWithDistinctValuesNotWithSamples) {
  Samples s;
  for (int i = 0; i < 1000000; ++i) s.add(100 + i % 37);
  EXPECT_EQ(s.count(), 1000000u);
  EXPECT_EQ(s.distinct(), 37u);
  EXPECT_EQ(s.summary().at("p99"), 136);
}

// The histogram the report draws: bins cover every sample exactly once, in increasing order,
// four to each power of two from 4 on (exact below), and the counts add up to the samples.
TEST(Samples, HistogramBinsAreLogSpacedAndCountEverySampleOnce) {
  Samples s;
  Rng rng(7, 0);
  std::vector<std::int64_t> values;
  for (int i = 0; i < 5000; ++i) values.push_back(static_cast<std::int64_t>(rng.below(1u << 20)));
  for (std::int64_t v : {0, 1, 3, 4, 7, 8, 9, 1000}) values.push_back(v);
  for (std::int64_t v : values) s.add(v);
  const auto bins = s.histogram();
  std::int64_t total = 0, previous_hi = -1;
  for (const auto& bin : bins) {
    const std::int64_t lo = bin[0], hi = bin[1], n = bin[2];  // plain names: the lambda below uses them
    EXPECT_GT(lo, previous_hi);
    EXPECT_GE(hi, lo);
    EXPECT_GT(n, 0);
    if (lo >= 4) {  // a quarter of lo's power of two
      std::int64_t base = 1;
      while (base * 2 <= lo) base *= 2;
      EXPECT_EQ(hi - lo + 1, base / 4) << lo;
    } else {
      EXPECT_EQ(lo, hi);
    }
    const auto inside = std::count_if(values.begin(), values.end(),
                                      [&](std::int64_t v) { return v >= lo && v <= hi; });
    EXPECT_EQ(n, inside) << lo << ".." << hi;
    total += n;
    previous_hi = hi;
  }
  EXPECT_EQ(total, static_cast<std::int64_t>(values.size()));
  // 1000 falls in [896, 1023]: 512 + 3 x 128.
  const auto bin_1000 = std::find_if(bins.begin(), bins.end(),
                                     [](const Samples::Bin& b) { return b[0] <= 1000 && b[1] >= 1000; });
  ASSERT_NE(bin_1000, bins.end());
  EXPECT_EQ((*bin_1000)[0], 896);
  EXPECT_EQ((*bin_1000)[1], 1023);
}

}  // namespace
}  // namespace vcpusim::sim
