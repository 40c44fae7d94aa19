#include "tools/sweep/sweep_stats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/rng.hpp"

namespace vcpusim::tools {

double student_t975(std::size_t dof) {
  // Exact table to 30 degrees of freedom, then the Cornish-Fisher expansion around 1.959964.
  static const double kTable[] = {
      12.7062, 4.30265, 3.18245, 2.77645, 2.57058, 2.44691, 2.36462, 2.30600, 2.26216, 2.22814,
      2.20099, 2.17881, 2.16037, 2.14479, 2.13145, 2.11991, 2.10982, 2.10092, 2.09302, 2.08596,
      2.07961, 2.07387, 2.06866, 2.06390, 2.05954, 2.05553, 2.05183, 2.04841, 2.04523, 2.04227};
  if (dof == 0) return 0;
  if (dof <= 30) return kTable[dof - 1];
  const double z = 1.959964;
  const double n = static_cast<double>(dof);
  return z + (z * z * z + z) / (4 * n) +
         (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n);
}

const char* const kMeanIntervalMethod = "percentile-bootstrap-2000";

void bootstrap_mean95(const std::vector<double>& values, std::uint64_t seed, double& lo,
                      double& hi) {
  lo = hi = values.empty() ? 0 : values.front();
  if (values.size() < 2 ||
      std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); }))
    return;
  const std::uint64_t n = values.size();
  std::vector<double> means(kBootstrapResamples);
  sim::Rng rng(seed, 0);  // the simulator's own generator: the same draws on every platform
  for (double& m : means) {
    double sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += values[rng.below(n)];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  auto rank = [&means](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(means.size())));
    return means[std::min(means.size(), std::max<std::size_t>(r, 1)) - 1];
  };
  lo = rank(0.025);
  hi = rank(0.975);
}

MetricStats describe_samples(std::vector<double> values, std::uint64_t seed) {
  MetricStats s;
  s.n = values.size();
  if (s.n == 0) return s;
  bootstrap_mean95(values, seed, s.lo95, s.hi95);
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  if (s.n > 1 && values.front() != values.back()) {  // equal values: exactly 0, no rounding noise
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    const double sd = std::sqrt(ss / static_cast<double>(s.n - 1));
    s.ci95 = student_t975(s.n - 1) * sd / std::sqrt(static_cast<double>(s.n));
  }
  auto rank = [&values](double q) {
    const auto r = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::min(values.size(), std::max<std::size_t>(r, 1)) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = values.back();
  return s;
}

Proportion wilson95(std::size_t successes, std::size_t trials) {
  Proportion r;
  if (trials == 0) return r;
  const double z = 1.959964;
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double denom = 1 + z * z / n;
  const double centre = (p + z * z / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom;
  r.p = p;
  r.lo = std::max(0.0, centre - half);
  r.hi = std::min(1.0, centre + half);
  return r;
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0) return "0";  // also -0
  if (std::fabs(v) < 1e15 && v == std::trunc(v))
    return std::to_string(static_cast<std::int64_t>(v));
  // Decimals for six significant digits: 5 - the exponent of the leading digit, at least 0.
  const int exponent = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  const int decimals = std::max(0, 5 - exponent);
  char buf[400];  // a double's integer digits (309 at most) and the decimals (at most 329)
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  std::string out(buf, res.ptr);
  if (out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  return out == "-0" ? "0" : out;
}

}  // namespace vcpusim::tools
