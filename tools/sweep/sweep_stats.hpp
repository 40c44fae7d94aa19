// Per-point statistics of a sweep and the one number format of its outputs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vcpusim::tools {

// The 95% interval of a metric's mean: a percentile bootstrap (kBootstrapResamples resamples of
// the runs, drawn by an RNG seeded from the runs' ids). Its bounds are means of resampled runs,
// so they stay inside the runs' own range: a non-negative metric never gets a negative bound, and
// nothing is clamped. Named by kMeanIntervalMethod in summary.csv and the plots' legends.
constexpr std::size_t kBootstrapResamples = 2000;
extern const char* const kMeanIntervalMethod;

struct MetricStats {
  std::size_t n = 0;
  double mean = 0;
  double lo95 = 0, hi95 = 0;  // the 95% interval of the mean (bootstrap_mean95)
  double ci95 = 0;  // half-width of the Student-t 95% interval of the mean (symmetric: unbounded)
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};

// Nearest-rank percentiles, as sim::Samples; `values` need not be sorted. Empty -> n == 0.
// `seed` seeds the bootstrap of lo95/hi95 (the same values and seed give the same interval).
MetricStats describe_samples(std::vector<double> values, std::uint64_t seed = 0);

// The percentile bootstrap 95% interval of the mean of `values` (in run order): 2.5% and 97.5%
// nearest-rank quantiles of kBootstrapResamples resampled means. Equal values: that value.
void bootstrap_mean95(const std::vector<double>& values, std::uint64_t seed, double& lo,
                      double& hi);

struct Proportion {
  double p = 0, lo = 0, hi = 0;  // estimate and Wilson score 95% interval
};
Proportion wilson95(std::size_t successes, std::size_t trials);

// Two-sided 97.5% quantile of Student's t with `dof` degrees of freedom (dof >= 1).
double student_t975(std::size_t dof);

// Locale-independent, platform-independent text of a number, never in exponent form (so a
// column never switches between 8854460 and 8.85446e+06): integers exactly; others in fixed
// notation rounded to six significant digits, but never to fewer than their integer digits
// (8854460.5 -> 8854461, 0.000123456789 -> 0.000123457), trailing zeros dropped;
// "nan"/"inf" spelled out.
std::string format_number(double v);

}  // namespace vcpusim::tools
