#include "sim/core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "sim/core/decision.hpp"

using namespace vcpusim::sim;

TEST(Rng, SameSeedAndStreamRepeat) {
  Rng a(42, 3), b(42, 3), c(42, 4), d(43, 3);
  for (int i = 0; i < 100; ++i) {
    const auto va = a.next();
    EXPECT_EQ(va, b.next());
    EXPECT_NE(va, c.next());
    EXPECT_NE(va, d.next());
  }
}

TEST(Rng, BelowStaysInRangeAndCoversIt) {
  Rng r(1, 1);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto v = r.below(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST(Rng, ExponentialHasTheRequestedMean) {
  Rng r(9, 2);
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(r.exponential(1000000));
  // Standard error of the mean is mean/sqrt(n) ~ 0.22%; allow 5 standard errors.
  EXPECT_NEAR(sum / n, 1000000.0, 1000000.0 * 5 / std::sqrt(n));
}

// Integer arithmetic only: these exact values must come out on every machine and libm.
TEST(Rng, ExponentialDrawsArePinned) {
  Rng r(7, 1);
  const std::int64_t expected[] = {255667, 2472614, 779415, 295888, 1429866, 1325820};
  for (std::int64_t e : expected) EXPECT_EQ(r.exponential(1000000), e);
}

// Exp(mean): P(X > mean) = 1/e and the variance is mean^2, within 5 standard errors.
TEST(Rng, ExponentialHasTheExponentialShape) {
  Rng r(11, 4);
  const int n = 200000;
  const double mean = 1000000;
  int above = 0;
  double sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = static_cast<double>(r.exponential(1000000));
    above += x > mean;
    sq += (x - mean) * (x - mean);
  }
  const double p = std::exp(-1.0);
  EXPECT_NEAR(static_cast<double>(above) / n, p, 5 * std::sqrt(p * (1 - p) / n));
  // The variance of (X - mean)^2 is 8 mean^4 for an exponential.
  EXPECT_NEAR(sq / n, mean * mean, 5 * std::sqrt(8.0 / n) * mean * mean);
}

TEST(DecisionSource, StreamsPerComponentAreIndependent) {
  Components comps;
  comps.add("c0", "test");
  comps.add("c1", "test");
  comps.add("c2", "test");
  RandomDecisionSource a(5, comps), b(5, comps);
  b.keep_log(true);
  // Interleaving another component's draws must not change this component's sequence.
  const auto a1 = a.exponential(0, 1, "x", 1000);
  b.exponential(0, 2, "y", 1000);
  const auto b1 = b.exponential(0, 1, "x", 1000);
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(b.log().size(), 2u);
  EXPECT_EQ(b.log()[1].component, 1);
  EXPECT_EQ(b.count(), 2u);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_TRUE(a.log().empty()) << "the log is kept only when asked";
}
