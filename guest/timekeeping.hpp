// Timekeeping and the vDSO (kernel/time/timekeeping.c, kernel/time/vsyscall.c,
// lib/vdso/gettimeofday.c). The timekeeping vCPU's tick runs update_wall_time(); kernel readers
// go through tk_core's seqcount, vDSO readers through the data page's own seqcount.
#pragma once
#include <cstdint>
#include <optional>

#include "cpu/machine.hpp"
#include "guest/clock_base.hpp"
#include "guest/nmi_safe_time.hpp"
#include "guest/seqcount.hpp"
#include "guest/timekeeping_params.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// mult converts clocksource cycles to ns: ns = cycles x mult >> shift.
struct TimekeepingMetrics : sim::MetricGroup {
  TimekeepingMetrics() : MetricGroup("timekeeping") {}
  sim::Metric updates{*this, "timekeeping.updates", "count",
                      "update_wall_time runs that accumulated at least one tick"};
  sim::Metric mult_initial{*this, "timekeeping.mult_initial", "ns/2^shift per cycle",
                           "the clocksource mult at boot"};
  sim::Metric mult_final{*this, "timekeeping.mult_final", "ns/2^shift per cycle",
                         "the clocksource mult at the end of the run"};
  sim::Metric mult_sum{*this, "timekeeping.mult_sum", "ns/2^shift per cycle",
                       "mult summed over the updates (their mean is this / timekeeping.updates)"};
  sim::Metric ntp_error_max{*this, "timekeeping.ntp_error_max", "ns << 32",
                            "largest |ntp_error| after an update (NTP_SCALE_SHIFT); 0 under a "
                            "scripted NTP direction"};
};

class Timekeeping {
 public:
  Timekeeping(cpu::Machine& machine, const TimekeepingParams& params,
              const TimekeepingCosts& costs);

  // Arms the tick on the timekeeping vCPU and hooks the monotonic check's context. The guest's
  // timer interrupt handler calls update_wall_time() on that vCPU when a tick is due.
  void install(sim::MonotonicTimeCheck* monotonic);
  int cpu() const { return static_cast<int>(params_.cpu.value); }
  sim::Tick tick_period() const { return tick_period_; }

  // Readers. Each returns nanoseconds; `retries` counts seqcount retries.
  std::int64_t ktime_get(cpu::GuestCpu& cpu, std::uint64_t& retries);
  std::int64_t vdso_clock_gettime(cpu::GuestCpu& cpu, std::uint64_t& retries);
  // The words a ktime_get (vdso false) or vdso_clock_gettime reads: its seqcount first, then the
  // clock words (a reader's footprint, cpu/vm/footprint.hpp).
  std::vector<const cpu::Word*> reader_words(bool vdso);
  // Time as an NMI handler reads it, by guest.timekeeping.nmi_variant (nmi_safe_time.hpp).
  std::int64_t nmi_read(cpu::GuestCpu& cpu, std::uint64_t& retries);
  const NmiSafeTime& nmi_safe() const { return nmi_; }

  // The timer interrupt handler's work on the timekeeping vCPU.
  void update_wall_time(cpu::GuestCpu& cpu);

  std::uint64_t updates() const { return updates_; }
  std::int64_t initial_mult() const { return static_cast<std::int64_t>(initial_mult_); }
  std::int64_t current_mult() const { return static_cast<std::int64_t>(shadow_.mult); }
  // The kernel's NTP state (none under a scripted direction): the accumulated error between the
  // NTP time and the clock (ns << 32), its largest magnitude after any update, and the sum of
  // mult over the updates (their mean is this / updates()).
  __int128 ntp_error() const { return ntp_error_; }
  __int128 ntp_error_max_abs() const { return ntp_error_max_abs_; }
  std::int64_t mult_sum() const { return mult_sum_; }
  void collect_metrics(sim::Metrics& out) const;

 private:
  std::int64_t read_clock(cpu::GuestCpu& cpu, Seqcount& seq, ClockWords& words,
                          std::uint64_t& retries);
  // The last update that changed mult, with when its data became visible to each reader kind.
  struct Update {
    sim::Tick c0_time = 0;
    std::optional<sim::Tick> ktime_published;
    std::optional<sim::Tick> vdso_published;
    std::int64_t mult_old = 0;
    std::int64_t mult_new = 0;
  };
  std::int64_t ntp_adjustment(sim::Tick c0_time);
  std::int64_t scripted_adjustment();
  std::int64_t timekeeping_adjust(sim::Tick c0_time);
  void accumulate(std::uint64_t c0);
  void apply_adjustment(std::int64_t adj, std::uint64_t c0);
  void update_vsyscall(cpu::GuestCpu& cpu);
  void publish(cpu::GuestCpu& cpu);
  void begin_tk_write(cpu::GuestCpu& cpu);
  void close_tk_write(cpu::GuestCpu& cpu);
  void end_tk_write(cpu::GuestCpu& cpu);
  void add_prediction(sim::Tick earlier_end, sim::Tick later_end, sim::Json& details) const;

  cpu::Machine& machine_;
  const TimekeepingParams& params_;
  const TimekeepingCosts& costs_;
  int component_;  // registered: what it records
  TkVariant variant_;
  NtpDirection direction_;
  Seqcount tk_seq_;
  Seqcount vdso_seq_;
  ClockWords tk_;
  ClockWords vdso_;
  NmiSafeTime nmi_;
  ClockBase shadow_;  // touched only by the timekeeping CPU: plain state
  std::uint64_t cycle_interval_ = 0;
  std::uint64_t xtime_interval_ = 0;
  std::uint64_t initial_mult_ = 0;
  sim::Tick tick_period_ = 0;
  std::uint64_t updates_ = 0;
  std::int64_t adjustments_ = 0;
  // The kernel's NTP (timekeeping_laws.hpp): the tick length in use (tk->ntp_tick), the
  // accumulated error, the +1 of the last adjustment (tk->ntp_err_mult), xtime_remainder, and the
  // next entry of the adjtimex schedule.
  __int128 ntp_tick_ = 0;
  __int128 ntp_error_ = 0;
  __int128 ntp_error_max_abs_ = 0;
  std::int64_t ntp_err_mult_ = 0;
  __int128 xtime_remainder_ = 0;
  std::int64_t freq_ = 0;
  std::size_t next_step_ = 0;
  std::int64_t mult_sum_ = 0;
  Update last_change_;
  std::vector<Update> changes_;
  TimekeepingMetrics metrics_;
};

}  // namespace vcpusim::guest
