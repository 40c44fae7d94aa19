#include "guest/timekeeping.hpp"

#include "guest/timekeeping_laws.hpp"
#include "guest/window_sites.hpp"

namespace vcpusim::guest {

Timekeeping::Timekeeping(cpu::Machine& machine, const TimekeepingParams& params,
                         const TimekeepingCosts& costs)
    : machine_(machine),
      params_(params),
      costs_(costs),
      component_(machine.kernel().components().add("timekeeping", "timekeeping")),
      variant_(params.variant.value),
      direction_(params.ntp.direction.value),
      tk_seq_(machine.memory().word("tk_core.seq")),
      vdso_seq_(machine.memory().word("vdso.seq")),
      tk_(make_clock_words(machine.memory(), "tk_core.timekeeper", tk_seq_.word().line)),
      vdso_(make_clock_words(machine.memory(), "vdso.data", vdso_seq_.word().line)),
      nmi_(machine, params.nmi_variant.value, tk_seq_, tk_, costs.read_compute.value) {
  tk_seq_.set_writer(static_cast<int>(params.cpu.value));
  const auto shift = static_cast<std::uint64_t>(params.shift.value);
  const auto hz = static_cast<std::uint64_t>(params.hz.value);
  const auto freq = static_cast<std::uint64_t>(machine.tsc_frequency());
  initial_mult_ = static_cast<std::uint64_t>(
      tk_law::initial_mult(machine.tsc_frequency(), params.shift.value));
  shadow_ = ClockBase{0, initial_mult_, shift, 0, 0};
  cycle_interval_ = freq / hz;
  xtime_interval_ = cycle_interval_ * initial_mult_;
  tick_period_ = sim::kSecond / static_cast<sim::Tick>(hz);
  tk_.init(machine.memory(), shadow_);
  vdso_.init(machine.memory(), shadow_);
  nmi_.init(shadow_);
  xtime_remainder_ = tk_law::xtime_remainder(params.hz.value, params.shift.value,
                                             static_cast<std::int64_t>(cycle_interval_),
                                             static_cast<std::int64_t>(initial_mult_));
  ntp_tick_ = tk_law::ntp_interval(params.hz.value, params.shift.value)
              << tk_law::ntp_error_shift(params.shift.value);
  machine.declare_metrics(metrics_);
}

void Timekeeping::collect_metrics(sim::Metrics& out) const {
  out.set(metrics_.updates, updates());
  out.set(metrics_.mult_initial, initial_mult());
  out.set(metrics_.mult_final, current_mult());
  out.set(metrics_.mult_sum, mult_sum());
  out.set(metrics_.ntp_error_max, static_cast<std::int64_t>(ntp_error_max_abs()));
}

void Timekeeping::install(sim::MonotonicTimeCheck* monotonic) {
  cpu::Vcpu& v = machine_.vcpu(static_cast<int>(params_.cpu.value));
  v.start_periodic_timer(tick_period_);
  if (monotonic)
    monotonic->add_context([this](sim::Tick earlier_end, sim::Tick later_end, sim::Json& d) {
      add_prediction(earlier_end, later_end, d);
    });
}

// A scripted study moves mult by fixed steps; otherwise the kernel's NTP does.
std::int64_t Timekeeping::ntp_adjustment(sim::Tick c0_time) {
  if (direction_ != NtpDirection::kNone) return scripted_adjustment();
  return timekeeping_adjust(c0_time);
}

std::int64_t Timekeeping::scripted_adjustment() {
  const NtpParams& ntp = params_.ntp;
  if (!tk_law::ntp_adjusts(updates_, ntp.every_ticks.value)) return 0;
  const std::int64_t step = tk_law::ntp_step(ntp, static_cast<std::int64_t>(initial_mult_));
  return tk_law::ntp_adjustment(direction_, adjustments_++, step);
}

// kernel/time/timekeeping.c timekeeping_adjust(). The adjtimex calls of the schedule that are
// due by this update change the tick length (ntp_update_frequency() applies a new frequency at
// once); a new tick length gives mult directly, otherwise mult keeps its value without the last
// +1; then +1 while the clock is behind the NTP time (ntp_error > 0).
std::int64_t Timekeeping::timekeeping_adjust(sim::Tick c0_time) {
  const auto& schedule = params_.ntp.schedule.value;
  while (next_step_ < schedule.size() && schedule[next_step_].at <= c0_time)
    freq_ = schedule[next_step_++].freq;
  const __int128 tick = tk_law::ntp_tick_length(params_.hz.value, freq_);
  std::int64_t mult = static_cast<std::int64_t>(shadow_.mult) - ntp_err_mult_;
  if (tick != ntp_tick_) {
    ntp_tick_ = tick;
    mult = tk_law::mult_for_tick(tick, params_.shift.value, xtime_remainder_,
                                 static_cast<std::int64_t>(cycle_interval_));
  }
  ntp_err_mult_ = ntp_error_ > 0 ? 1 : 0;
  mult += ntp_err_mult_;
  return mult - static_cast<std::int64_t>(shadow_.mult);
}

// logarithmic_accumulation(), all whole intervals at once: the clock advances xtime_interval per
// interval, NTP time the tick length; ntp_error keeps their difference.
void Timekeeping::accumulate(std::uint64_t c0) {
  const std::uint64_t k = (c0 - shadow_.cycle_last) / cycle_interval_;
  shadow_.cycle_last += k * cycle_interval_;
  i128 nsec = static_cast<i128>(shadow_.nsec) + static_cast<i128>(k) * xtime_interval_;
  normalize_shifted(shadow_.sec, nsec, shadow_.shift);
  shadow_.nsec = static_cast<std::uint64_t>(nsec);
  if (direction_ == NtpDirection::kNone)
    ntp_error_ += tk_law::ntp_error_growth(ntp_tick_, xtime_interval_, xtime_remainder_,
                                           params_.shift.value, k);
}

void Timekeeping::apply_adjustment(std::int64_t adj, std::uint64_t anchor) {
  change_mult_at(shadow_, adj, anchor);
  xtime_interval_ = static_cast<std::uint64_t>(static_cast<i128>(xtime_interval_) +
                                               static_cast<i128>(adj) * cycle_interval_);
}

void Timekeeping::update_vsyscall(cpu::GuestCpu& cpu) {
  vdso_seq_.write_begin(cpu);
  cpu.compute(costs_.vsyscall.value);
  vdso_.store(cpu, shadow_);
  vdso_seq_.write_end(cpu);
  last_change_.vdso_published = cpu.now();
}

// tk_core's write section with the NMI-safe variant's steps around it (naive: none).
void Timekeeping::begin_tk_write(cpu::GuestCpu& cpu) {
  nmi_.before_write_begin(cpu);
  tk_seq_.write_begin(cpu);
  nmi_.after_write_begin(cpu);
}

void Timekeeping::close_tk_write(cpu::GuestCpu& cpu) {
  nmi_.before_write_end(cpu);
  tk_seq_.write_end(cpu);
  nmi_.after_write_end(cpu);
}

void Timekeeping::end_tk_write(cpu::GuestCpu& cpu) {
  close_tk_write(cpu);
  last_change_.ktime_published = cpu.now();
}

// timekeeping_update(): the readers' copy, and the fast timekeeper for NMI readers.
void Timekeeping::publish(cpu::GuestCpu& cpu) {
  cpu.compute(costs_.copy.value);
  tk_.store(cpu, shadow_);
  nmi_.published(cpu, shadow_);
}

// update_wall_time() -> timekeeping_advance(), in the order of the chosen variant.
void Timekeeping::update_wall_time(cpu::GuestCpu& cpu) {
  sim::Kernel& k = machine_.kernel();
  const bool flags = cpu.local_irq_save();  // raw_spin_lock_irqsave(&tk_core.lock)
  if (variant_ == TkVariant::kLegacy) begin_tk_write(cpu);
  const std::uint64_t c0 = cpu.rdtsc();
  const sim::Tick c0_time = cpu.now();
  if (c0 - shadow_.cycle_last < cycle_interval_) {
    if (variant_ == TkVariant::kLegacy) close_tk_write(cpu);
    cpu.local_irq_restore(flags);
    return;
  }
  ++updates_;
  const cpu::WindowScope update(cpu, window::kTkUpdate);
  // Trace-only: the update's span starts at this read (guest/trace_lanes.hpp).
  k.recorder().note(c0_time, component_, "tk.read", static_cast<std::int64_t>(c0));
  cpu.compute(costs_.accumulate.value);
  accumulate(c0);
  cpu.compute(costs_.ntp_adjust.value);
  const std::int64_t adj = ntp_adjustment(c0_time);
  last_change_ =
      Update{c0_time, std::nullopt, std::nullopt, static_cast<std::int64_t>(shadow_.mult),
             static_cast<std::int64_t>(shadow_.mult) + adj};
  if (adj != 0) apply_adjustment(adj, c0);
  mult_sum_ += static_cast<std::int64_t>(shadow_.mult);
  const __int128 error_abs = ntp_error_ < 0 ? -ntp_error_ : ntp_error_;
  if (error_abs > ntp_error_max_abs_) ntp_error_max_abs_ = error_abs;
  k.recorder().record(k.now(), component_, "tk.update", static_cast<std::int64_t>(c0), adj);

  if (variant_ == TkVariant::kLegacy) {
    update_vsyscall(cpu);
    publish(cpu);
    end_tk_write(cpu);
  } else if (variant_ == TkVariant::kShadow) {
    begin_tk_write(cpu);
    update_vsyscall(cpu);
    publish(cpu);
    end_tk_write(cpu);
  } else if (variant_ == TkVariant::kSplitPublish) {
    begin_tk_write(cpu);
    publish(cpu);
    end_tk_write(cpu);
    update_vsyscall(cpu);
  } else {  // reanchor: both readers blocked before the clock is read again
    begin_tk_write(cpu);
    vdso_seq_.write_begin(cpu);
    const std::uint64_t c1 = cpu.rdtsc();
    if (adj != 0) {
      apply_adjustment(-adj, c0);  // undo the anchor at c0 ...
      apply_adjustment(adj, c1);   // ... and anchor the new line where it is published
    }
    cpu.compute(costs_.vsyscall.value);
    vdso_.store(cpu, shadow_);
    vdso_seq_.write_end(cpu);
    last_change_.vdso_published = cpu.now();
    publish(cpu);
    end_tk_write(cpu);
  }
  if (adj != 0) changes_.push_back(last_change_);
  k.recorder().record(k.now(), component_, "tk.published", static_cast<std::int64_t>(shadow_.mult));
  cpu.local_irq_restore(flags);
}

void Timekeeping::add_prediction(sim::Tick earlier_end, sim::Tick later_end,
                                 sim::Json& details) const {
  const bool vdso = details.value("clock", "") == "vdso";
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    const auto& published = vdso ? it->vdso_published : it->ktime_published;
    if (!published || *published > later_end) continue;
    const tk_law::StepPrediction p = tk_law::predict_step(
        *published - it->c0_time, earlier_end - it->c0_time, later_end - earlier_end,
        it->mult_old, it->mult_new, static_cast<std::int64_t>(initial_mult_));
    details["publish_delay_ns"] = static_cast<std::int64_t>(tk_law::round_ns(*published - it->c0_time));
    details["mult_old"] = it->mult_old;
    details["mult_new"] = it->mult_new;
    details["read_spacing_ns"] = tk_law::round_ns(later_end - earlier_end);
    details["publish_delay_term_ns"] = tk_law::round_ns(p.publish_delay_term);
    details["predicted_step_ns"] = tk_law::round_ns(p.at_reads);
    return;
  }
}

}  // namespace vcpusim::guest

namespace vcpusim::guest {

std::int64_t Timekeeping::nmi_read(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  return nmi_.naive() ? ktime_get(cpu, retries) : nmi_.read(cpu, retries);
}

// Both readers: read the base under the seqcount, then the counter; retry while the sequence
// was odd or changed.
std::int64_t Timekeeping::read_clock(cpu::GuestCpu& cpu, Seqcount& seq, ClockWords& words,
                                     std::uint64_t& retries) {
  for (;;) {
    const std::uint64_t start = seq.read_begin(cpu);
    const ClockBase base = words.load(cpu);
    const std::uint64_t cycles = cpu.rdtsc();
    cpu.compute(costs_.read_compute.value);
    const std::int64_t ns = base.read_ns(cycles);
    if (!seq.read_retry(cpu, start)) return ns;
    ++retries;
  }
}

// ktime_get(): the kernel's readers go through tk_core.seq.
std::int64_t Timekeeping::ktime_get(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  return read_clock(cpu, tk_seq_, tk_, retries);
}

std::vector<const cpu::Word*> Timekeeping::reader_words(bool vdso) {
  Seqcount& seq = vdso ? vdso_seq_ : tk_seq_;
  const ClockWords& w = vdso ? vdso_ : tk_;
  return {&seq.word(), w.cycle_last, w.mult, w.shift, w.sec, w.nsec};
}

// do_hres(): the vDSO looks only at its data page and the page's own seqcount.
std::int64_t Timekeeping::vdso_clock_gettime(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  return read_clock(cpu, vdso_seq_, vdso_, retries);
}

}  // namespace vcpusim::guest
