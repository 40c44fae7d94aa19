// Per-point statistics of a sweep and the one number format of its outputs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace vcpusim::tools {

struct MetricStats {
  std::size_t n = 0;
  double mean = 0;
  double ci95 = 0;  // half-width of the 95% confidence interval of the mean (Student t)
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};

// Nearest-rank percentiles, as sim::Samples; `values` need not be sorted. Empty -> n == 0.
MetricStats describe_samples(std::vector<double> values);

struct Proportion {
  double p = 0, lo = 0, hi = 0;  // estimate and Wilson score 95% interval
};
Proportion wilson95(std::size_t successes, std::size_t trials);

// Two-sided 97.5% quantile of Student's t with `dof` degrees of freedom (dof >= 1).
double student_t975(std::size_t dof);

// Locale-independent, platform-independent text of a number: integers exactly, others with six
// significant digits in the shortest form (std::to_chars), "nan"/"inf" spelled out.
std::string format_number(double v);

}  // namespace vcpusim::tools
