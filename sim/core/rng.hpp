// Own generator and distributions: std::*_distribution output is implementation-defined.
#pragma once
#include <cstdint>

namespace vcpusim::sim {

// xoshiro256** seeded through splitmix64; one independent stream per (seed, stream id).
class Rng {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream);

  std::uint64_t next();
  // Uniform in [0, bound), bound > 0, without modulo bias.
  std::uint64_t below(std::uint64_t bound);
  // Exponentially distributed integer with the given mean (>= 0), rounded to nearest; integer
  // arithmetic only.
  std::int64_t exponential(std::int64_t mean);

 private:
  std::uint64_t s_[4];
};

}  // namespace vcpusim::sim
