// The timekeeping model's laws, stated once: the model (timekeeping.cpp) computes with them, the
// scenario's NTP range check (tools/run/scenario.cpp) and the sweep's closed form
// (tools/sweep/sweep_model.cpp) predict with them, and tests/timekeeping_laws_test.cpp measures the
// model against them. Integer arithmetic throughout (mult, steps, counts, NTP tick lengths and
// errors in the kernel's fixed point, picosecond costs).
#pragma once
#include <algorithm>
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

// The size of one scripted adjustment in mult units.
inline std::int64_t ntp_step(const NtpParams& ntp, std::int64_t /*initial_mult*/) {
  return ntp.mult_steps.value;
}

// --- The kernel's NTP as mainline (v6.x) has it: kernel/time/ntp.c ntp_update_frequency(),
// kernel/time/timekeeping.c tk_setup_internals(), logarithmic_accumulation(),
// timekeeping_adjust() (mult taken directly from the NTP tick length, then +1 while ntp_error is
// positive) and timekeeping_apply_adjustment(). Lengths are nanoseconds << kNtpScaleShift;
// shifted nanoseconds are nanoseconds << the clocksource shift. ---
using i128 = __int128;
inline constexpr int kNtpScaleShift = 32;                  // NTP_SCALE_SHIFT
inline constexpr std::int64_t kPpmScale = 1000LL << 16;    // PPM_SCALE: scaled ppm -> ns/s << 32
inline constexpr std::int64_t kMaxFreqNs = 500000;         // MAXFREQ: 500 ppm in ns/s
inline constexpr i128 kMaxFreqScaled = static_cast<i128>(kMaxFreqNs) << kNtpScaleShift;

// ntp_update_frequency(): the tick length for an adjtimex frequency `freq` in scaled ppm
// (ppm << 16), the frequency clamped at +-MAXFREQ as process_adjtimex_modes() clamps time_freq:
// (1 s << 32 + time_freq) / HZ (NTP_INTERVAL_FREQ is HZ without NO_HZ's tick adjustments).
inline i128 ntp_tick_length(std::int64_t hz, std::int64_t freq) {
  i128 time_freq = static_cast<i128>(freq) * kPpmScale;
  if (time_freq > kMaxFreqScaled) time_freq = kMaxFreqScaled;
  if (time_freq < -kMaxFreqScaled) time_freq = -kMaxFreqScaled;
  const i128 second_length = (static_cast<i128>(1000000000) << kNtpScaleShift) + time_freq;
  return second_length / hz;
}

// tk_setup_internals(): an NTP interval (NTP_INTERVAL_LENGTH) in shifted nanoseconds, and the
// part of it one tick's cycles at the initial mult do not cover (xtime_remainder).
inline i128 ntp_interval(std::int64_t hz, std::int64_t shift) {
  return static_cast<i128>(1000000000 / hz) << shift;
}
inline i128 xtime_remainder(std::int64_t hz, std::int64_t shift, std::int64_t cycle_interval,
                            std::int64_t initial_mult) {
  return ntp_interval(hz, shift) - static_cast<i128>(cycle_interval) * initial_mult;
}
inline int ntp_error_shift(std::int64_t shift) {
  return kNtpScaleShift - static_cast<int>(shift);
}

// timekeeping_adjust(), when the tick length changed: the mult whose tick is no longer than the
// NTP tick, (tick >> ntp_error_shift - xtime_remainder) / cycle_interval, rounded down.
inline std::int64_t mult_for_tick(i128 tick_length, std::int64_t shift, i128 remainder,
                                  std::int64_t cycle_interval) {
  return static_cast<std::int64_t>(((tick_length >> ntp_error_shift(shift)) - remainder) /
                                   cycle_interval);
}

// logarithmic_accumulation(): what `intervals` accumulated intervals add to ntp_error, the NTP
// tick length minus what the clock advanced (xtime_interval + xtime_remainder), each interval.
inline i128 ntp_error_growth(i128 tick_length, i128 xtime_interval, i128 remainder,
                             std::int64_t shift, std::uint64_t intervals) {
  return static_cast<i128>(intervals) *
         (tick_length - ((xtime_interval + remainder) << ntp_error_shift(shift)));
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

// --- The backward step a late publish shows (seed 001), in picoseconds. ---

// Nanoseconds from picoseconds, rounded to nearest (halves away from zero).
inline std::int64_t round_ns(i128 ps) {
  const i128 half = sim::kNanosecond / 2;
  return static_cast<std::int64_t>(ps >= 0 ? (ps + half) / sim::kNanosecond
                                           : -((-ps + half) / sim::kNanosecond));
}

// The update anchored the new line (mult_new) at c0 and published it `delay` later; readers kept
// the old line (mult_old) until then. The publish-delay term compares both lines at one instant:
// delay x (mult_old - mult_new) / mult_old. The two reads are apart, though: each samples the TSC
// a fixed time before it ends, so the old line was last seen `old_seen` (earlier read's end - c0)
// after c0, and the new line runs on for `spacing` (later end - earlier end) before it is read.
// Both lines run at mult / initial mult of real time (the initial mult converts cycles to
// nanoseconds exactly), so the step at the reads is
//   (old_seen x (mult_old - mult_new) - spacing x mult_new) / initial_mult.
struct StepPrediction {
  i128 publish_delay_term;  // ps
  i128 at_reads;            // ps: the prediction
};
inline StepPrediction predict_step(sim::Tick delay, sim::Tick old_seen, sim::Tick spacing,
                                   std::int64_t mult_old, std::int64_t mult_new,
                                   std::int64_t initial_mult) {
  const i128 dm = static_cast<i128>(mult_old) - mult_new;
  return {static_cast<i128>(delay) * dm / mult_old,
          (static_cast<i128>(old_seen) * dm - static_cast<i128>(spacing) * mult_new) /
              initial_mult};
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
