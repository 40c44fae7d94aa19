// The timekeeping model's laws, stated once: the model (timekeeping.cpp) computes with them, the
// scenario's NTP range check (tools/scenario.cpp) and the sweep's closed form
// (tools/sweep_model.cpp) predict with them, and tests/timekeeping_laws_test.cpp measures the
// model against them. Integer arithmetic throughout (mult, steps, counts); the ppm parameter is
// the one real input, rounded once into a step.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "guest/timekeeping_params.hpp"
#include "sim/time.hpp"

namespace vcpusim::guest::tk_law {

// The clocksource mult at `tsc_hz`: cycles * mult >> shift is nanoseconds, rounded to nearest.
inline std::int64_t initial_mult(std::int64_t tsc_hz, std::int64_t shift) {
  using u128 = unsigned __int128;
  const auto freq = static_cast<u128>(tsc_hz);
  return static_cast<std::int64_t>(((static_cast<u128>(1000000000) << shift) + freq / 2) / freq);
}

// The size of one NTP adjustment in mult units: mult_steps, else ppm parts per million of the
// initial mult, rounded, at least 1.
inline std::int64_t ntp_step(const NtpParams& ntp, std::int64_t initial_mult) {
  if (ntp.mult_steps.value != 0) return ntp.mult_steps.value;
  return std::max<std::int64_t>(
      1, std::llround(static_cast<double>(initial_mult) * ntp.ppm.value / 1e6));
}

// Whether timekeeping update number `update` (counted from 1) adjusts mult: every
// every_ticks-th does.
inline bool ntp_adjusts(std::uint64_t update, std::int64_t every_ticks) {
  return update % static_cast<std::uint64_t>(every_ticks) == 0;
}

// The change of mult made by adjustment number `n` (counted from 0): down lowers it, up raises it,
// alternating lowers it and then raises it back; none leaves it.
inline std::int64_t ntp_adjustment(NtpDirection d, std::int64_t n, std::int64_t step) {
  switch (d) {
    case NtpDirection::kNone:
      return 0;
    case NtpDirection::kUp:
      return step;
    case NtpDirection::kDown:
      return -step;
    case NtpDirection::kAlternating:
      return n % 2 == 1 ? step : -step;
  }
  return 0;
}

// Every direction's adjustments repeat with this period ...
inline constexpr std::int64_t kNtpPeriod = 2;
// ... of which this many lower mult.
inline std::int64_t lowering_per_period(NtpDirection d) {
  std::int64_t lowering = 0;
  for (std::int64_t n = 0; n < kNtpPeriod; ++n) lowering += ntp_adjustment(d, n, 1) < 0 ? 1 : 0;
  return lowering;
}

// At most how many adjustments a run of `duration` makes: an update per tick (one more for the
// tick at the start), one adjustment per every_ticks updates (one more for the rounding).
inline std::int64_t most_adjustments(sim::Tick duration, std::int64_t hz, std::int64_t every_ticks) {
  const std::int64_t ticks = duration / (sim::kSecond / hz) + 1;
  return ticks / every_ticks + 1;
}

// The lowest and highest mult within `adjustments` adjustments of `step` from `mult0`, wide enough
// for any scenario's parameters.
struct MultRange {
  __int128 lowest;
  __int128 highest;
};
inline MultRange mult_range(NtpDirection d, std::int64_t mult0, std::int64_t step,
                            std::int64_t adjustments) {
  const __int128 m = mult0, all = static_cast<__int128>(step) * adjustments;
  switch (d) {
    case NtpDirection::kNone:
      break;
    case NtpDirection::kUp:
      return {m, m + all};
    case NtpDirection::kDown:
      return {m - all, m};
    case NtpDirection::kAlternating:
      return {adjustments > 0 ? m - step : m, m};
  }
  return {m, m};
}

}  // namespace vcpusim::guest::tk_law
