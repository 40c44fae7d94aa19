// The timekeeping model's laws, stated once: the model (timekeeping.cpp) computes with them, the
// scenario's NTP range check (tools/run/scenario.cpp) and the sweep's closed form
// (tools/sweep/sweep_model.cpp) predict with them, and tests/timekeeping_laws_test.cpp measures the
// model against them. Integer arithmetic throughout (mult, steps, counts, picosecond costs); the
// ppm parameter is the one real input, rounded once into a step.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu/params.hpp"
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
inline std::int64_t most_adjustments(sim::Tick duration, std::int64_t hz,
                                     std::int64_t every_ticks) {
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

// --- What an update and a read take (timekeeping.cpp, seqcount.hpp, clock_base.cpp), with every
// line they touch in the accessing CPU's cache (a reader holding the vDSO line adds a transfer to
// the writer's stores on it) and naive NMI readers (the other NMI variants add steps to tk_core's
// write section). ---

// One seqcount write_begin or write_end: a load and a store (smp_wmb costs nothing on x86).
inline sim::Tick seq_write(const cpu::CostParams& c) {
  return c.load.value + c.store.value;
}

// ClockWords::store: a clock's five words.
inline sim::Tick clock_words_store(const cpu::CostParams& c) {
  return 5 * c.store.value;
}

// From c0, the update's clock read, until the vDSO sequence turns odd and vDSO readers stop
// reading the old line: the vCPU preempted inside this window publishes the new line late
// (seed 001). accumulate and ntp_adjust, then shadow and reanchor open tk_core's write section
// (legacy opened it before c0) and split-publish runs all of it (the copy, the words, the end),
// then the vDSO's write_begin.
inline sim::Tick vdso_publish_window(TkVariant v, const TimekeepingCosts& t,
                                     const cpu::CostParams& c) {
  sim::Tick window = t.accumulate.value + t.ntp_adjust.value;
  if (v == TkVariant::kShadow || v == TkVariant::kReanchor) window += seq_write(c);
  if (v == TkVariant::kSplitPublish)
    window += 2 * seq_write(c) + t.copy.value + clock_words_store(c);
  return window + seq_write(c);
}

// How long the vDSO sequence stays odd (vDSO readers wait): reanchor reads the clock again, then
// the vsyscall work, the five words and write_end.
inline sim::Tick vdso_odd_time(TkVariant v, const TimekeepingCosts& t, const cpu::CostParams& c) {
  const sim::Tick reread = v == TkVariant::kReanchor ? c.rdtsc.value : 0;
  return reread + t.vsyscall.value + clock_words_store(c) + seq_write(c);
}

// One vDSO read (do_hres): read_begin's load, the five words, rdtsc, the multiply and shift, and
// read_retry's load.
inline sim::Tick vdso_read(const TimekeepingCosts& t, const cpu::CostParams& c) {
  return 7 * c.load.value + c.rdtsc.value + t.read_compute.value;
}

}  // namespace vcpusim::guest::tk_law
