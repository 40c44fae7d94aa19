// Samples are an exact histogram: the same nearest-rank summary as the sorted sample vector it
// replaced, in memory bounded by the distinct values.
#include "sim/metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/rng.hpp"

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

}  // namespace
}  // namespace vcpusim::sim
