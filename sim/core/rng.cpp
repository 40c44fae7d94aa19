#include "sim/core/rng.hpp"

namespace vcpusim::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  for (auto& s : s_) s = splitmix64(x);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t v;
  do v = next();
  while (v >= limit);
  return v % bound;
}

// Von Neumann's exponential generator, integers only, so a duration is the same on every machine
// (libm's log differs between builds). Draw U1 > U2 > ... while the run keeps descending; an odd
// run length accepts U1 (density e^-u on [0, 1)), an even one adds 1 to the integer part and
// tries again. The result k + U1 is exactly Exp(1), scaled by the mean and rounded to nearest.
std::int64_t Rng::exponential(std::int64_t mean) {
  if (mean <= 0) return 0;
  std::uint64_t k = 0;
  for (;;) {
    const std::uint64_t u = next();
    std::uint64_t prev = u;
    bool odd = true;
    for (std::uint64_t v = next(); v < prev; v = next()) {
      prev = v;
      odd = !odd;
    }
    if (odd) {
      using u128 = unsigned __int128;
      const u128 frac = (static_cast<u128>(u) * static_cast<u128>(mean) + (u128{1} << 63)) >> 64;
      return static_cast<std::int64_t>(k * static_cast<std::uint64_t>(mean) +
                                       static_cast<std::uint64_t>(frac));
    }
    ++k;
  }
}

}  // namespace vcpusim::sim
