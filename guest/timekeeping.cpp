#include "guest/timekeeping.hpp"

#include <cmath>

namespace vcpusim::guest {
namespace {

using u128 = unsigned __int128;
using i128 = __int128;
constexpr std::uint64_t kNsecPerSec = 1000000000ULL;

// Keeps shifted nanoseconds within [0, 1 s) by carrying into seconds.
void normalize(std::uint64_t& sec, i128& nsec, std::uint64_t shift) {
  const i128 one_second = static_cast<i128>(kNsecPerSec) << shift;
  while (nsec >= one_second) {
    nsec -= one_second;
    ++sec;
  }
  while (nsec < 0) {
    nsec += one_second;
    --sec;
  }
}

}  // namespace

std::int64_t ClockBase::read_ns(std::uint64_t cycles) const {
  const std::uint64_t delta =
      cycles > cycle_last ? cycles - cycle_last : 0;  // clamp, as the vDSO does
  const u128 shifted = static_cast<u128>(delta) * mult + nsec;
  return static_cast<std::int64_t>(sec * kNsecPerSec +
                                   static_cast<std::uint64_t>(shifted >> shift));
}

void ClockWords::store(cpu::GuestCpu& cpu, const ClockBase& b) {
  cpu.store(*cycle_last, b.cycle_last);
  cpu.store(*mult, b.mult);
  cpu.store(*shift, b.shift);
  cpu.store(*sec, b.sec);
  cpu.store(*nsec, b.nsec);
}

ClockBase ClockWords::load(cpu::GuestCpu& cpu) {
  ClockBase b;
  b.cycle_last = cpu.load(*cycle_last);
  b.mult = cpu.load(*mult);
  b.shift = cpu.load(*shift);
  b.sec = cpu.load(*sec);
  b.nsec = cpu.load(*nsec);
  return b;
}

void ClockWords::init(const ClockBase& b) {
  cycle_last->value = b.cycle_last;
  mult->value = b.mult;
  shift->value = b.shift;
  sec->value = b.sec;
  nsec->value = b.nsec;
}

namespace {
ClockWords make_words(cpu::Memory& mem, const std::string& prefix, int line) {
  return ClockWords{&mem.word(prefix + ".cycle_last", line), &mem.word(prefix + ".mult", line),
                    &mem.word(prefix + ".shift", line), &mem.word(prefix + ".sec", line),
                    &mem.word(prefix + ".nsec", line)};
}
}  // namespace

Timekeeping::Timekeeping(cpu::Machine& machine, const TimekeepingParams& params,
                         const TimekeepingCosts& costs)
    : machine_(machine),
      params_(params),
      costs_(costs),
      tk_seq_(machine.memory().word("tk_core.seq")),
      vdso_seq_(machine.memory().word("vdso.seq")),
      tk_(make_words(machine.memory(), "tk_core.timekeeper", tk_seq_.word().line)),
      vdso_(make_words(machine.memory(), "vdso.data", vdso_seq_.word().line)) {
  const auto shift = static_cast<std::uint64_t>(params.shift.value);
  const auto hz = static_cast<std::uint64_t>(params.hz.value);
  const auto freq = static_cast<std::uint64_t>(machine.tsc_frequency());
  // mult so that cycles * mult >> shift is nanoseconds, rounded to nearest.
  initial_mult_ =
      static_cast<std::uint64_t>(((static_cast<u128>(kNsecPerSec) << shift) + freq / 2) / freq);
  shadow_ = ClockBase{0, initial_mult_, shift, 0, 0};
  cycle_interval_ = freq / hz;
  xtime_interval_ = cycle_interval_ * initial_mult_;
  tick_period_ = sim::kSecond / static_cast<sim::Tick>(hz);
  tk_.init(shadow_);
  vdso_.init(shadow_);
}

void Timekeeping::install(sim::MonotonicTimeCheck* monotonic) {
  cpu::Vcpu& v = machine_.vcpu(static_cast<int>(params_.cpu.value));
  v.set_handler(cpu::Vector::kTimer, [this](cpu::GuestCpu& cpu) { update_wall_time(cpu); });
  v.start_periodic_timer(tick_period_);
  if (monotonic)
    monotonic->add_context([this](sim::Tick now, sim::Json& d) { add_prediction(now, d); });
}

std::int64_t Timekeeping::ntp_adjustment() {
  const NtpParams& ntp = params_.ntp;
  if (ntp.direction.value == "none") return 0;
  if (updates_ % static_cast<std::uint64_t>(ntp.every_ticks.value) != 0) return 0;
  std::int64_t step = ntp.mult_steps.value;
  if (step == 0)
    step = std::max<std::int64_t>(
        1, std::llround(static_cast<double>(initial_mult_) * ntp.ppm.value / 1e6));
  const std::int64_t n = adjustments_++;
  if (ntp.direction.value == "up") return step;
  if (ntp.direction.value == "alternating" && n % 2 == 1) return step;
  return -step;
}

void Timekeeping::accumulate(std::uint64_t c0) {
  const std::uint64_t k = (c0 - shadow_.cycle_last) / cycle_interval_;
  shadow_.cycle_last += k * cycle_interval_;
  i128 nsec = static_cast<i128>(shadow_.nsec) + static_cast<i128>(k) * xtime_interval_;
  normalize(shadow_.sec, nsec, shadow_.shift);
  shadow_.nsec = static_cast<std::uint64_t>(nsec);
}

void change_mult_at(ClockBase& base, std::int64_t adj, std::uint64_t anchor) {
  const i128 remaining = static_cast<i128>(anchor - base.cycle_last);
  base.mult = static_cast<std::uint64_t>(static_cast<i128>(base.mult) + adj);
  i128 nsec = static_cast<i128>(base.nsec) - adj * remaining;
  normalize(base.sec, nsec, base.shift);
  base.nsec = static_cast<std::uint64_t>(nsec);
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

void Timekeeping::end_tk_write(cpu::GuestCpu& cpu) {
  tk_seq_.write_end(cpu);
  last_change_.ktime_published = cpu.now();
}

void Timekeeping::publish(cpu::GuestCpu& cpu) {
  cpu.compute(costs_.copy.value);
  tk_.store(cpu, shadow_);
}

// update_wall_time() -> timekeeping_advance(), in the order of the chosen variant.
void Timekeeping::update_wall_time(cpu::GuestCpu& cpu) {
  const std::string& variant = params_.variant.value;
  sim::Kernel& k = machine_.kernel();
  const bool flags = cpu.local_irq_save();  // raw_spin_lock_irqsave(&tk_core.lock)
  if (variant == "legacy") tk_seq_.write_begin(cpu);
  const std::uint64_t c0 = cpu.rdtsc();
  const sim::Tick c0_time = cpu.now();
  if (c0 - shadow_.cycle_last < cycle_interval_) {
    if (variant == "legacy") tk_seq_.write_end(cpu);
    cpu.local_irq_restore(flags);
    return;
  }
  ++updates_;
  cpu.compute(costs_.accumulate.value);
  accumulate(c0);
  cpu.compute(costs_.ntp_adjust.value);
  const std::int64_t adj = ntp_adjustment();
  last_change_ =
      Update{c0_time, std::nullopt, std::nullopt, static_cast<std::int64_t>(shadow_.mult),
             static_cast<std::int64_t>(shadow_.mult) + adj};
  if (adj != 0) apply_adjustment(adj, c0);
  k.recorder().record(k.now(), 3000, "tk.update", static_cast<std::int64_t>(c0), adj);

  if (variant == "legacy") {
    update_vsyscall(cpu);
    publish(cpu);
    end_tk_write(cpu);
  } else if (variant == "shadow") {
    tk_seq_.write_begin(cpu);
    update_vsyscall(cpu);
    publish(cpu);
    end_tk_write(cpu);
  } else if (variant == "split-publish") {
    tk_seq_.write_begin(cpu);
    publish(cpu);
    end_tk_write(cpu);
    update_vsyscall(cpu);
  } else {  // reanchor: both readers blocked before the clock is read again
    tk_seq_.write_begin(cpu);
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
  k.recorder().record(k.now(), 3000, "tk.published", static_cast<std::int64_t>(shadow_.mult));
  cpu.local_irq_restore(flags);
}

void Timekeeping::add_prediction(sim::Tick now, sim::Json& details) const {
  const bool vdso = details.value("clock", "") == "vdso";
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    const auto& published = vdso ? it->vdso_published : it->ktime_published;
    if (!published || *published > now) continue;
    const sim::Tick delay = *published - it->c0_time;
    details["publish_delay_ns"] = static_cast<std::int64_t>(delay / sim::kNanosecond);
    details["mult_old"] = it->mult_old;
    details["mult_new"] = it->mult_new;
    const double predicted = static_cast<double>(delay) / sim::kNanosecond *
                             static_cast<double>(it->mult_old - it->mult_new) /
                             static_cast<double>(it->mult_old);
    details["predicted_step_ns"] = std::llround(predicted);
    return;
  }
}

}  // namespace vcpusim::guest

namespace vcpusim::guest {

// ktime_get(): retry while tk_core.seq was odd or changed.
std::int64_t Timekeeping::ktime_get(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  for (;;) {
    const std::uint64_t seq = tk_seq_.read_begin(cpu);
    const ClockBase base = tk_.load(cpu);
    const std::uint64_t cycles = cpu.rdtsc();
    cpu.compute(costs_.read_compute.value);
    const std::int64_t ns = base.read_ns(cycles);
    if (!tk_seq_.read_retry(cpu, seq)) return ns;
    ++retries;
  }
}

// do_hres(): the vDSO looks only at its data page and the page's own seqcount.
std::int64_t Timekeeping::vdso_clock_gettime(cpu::GuestCpu& cpu, std::uint64_t& retries) {
  for (;;) {
    const std::uint64_t seq = vdso_seq_.read_begin(cpu);
    const ClockBase base = vdso_.load(cpu);
    const std::uint64_t cycles = cpu.rdtsc();
    cpu.compute(costs_.read_compute.value);
    const std::int64_t ns = base.read_ns(cycles);
    if (!vdso_seq_.read_retry(cpu, seq)) return ns;
    ++retries;
  }
}

}  // namespace vcpusim::guest
