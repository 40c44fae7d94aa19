// Follows kernel/rcu/srcutree.c (srcu_read_lock, srcu_readers_active_idx_check, srcu_flip,
// srcu_advance_state) in our own words.
#include "guest/srcu.hpp"

namespace vcpusim::guest {
namespace {
constexpr sim::Tick kRetryCheckDelay = 5 * sim::kMicrosecond;  // srcu_retry_check_delay
constexpr int kQuickChecks = 2;
}  // namespace

Srcu::Srcu(cpu::Machine& machine, GuestScheduler& sched, const RcuParams& params, std::string name)
    : sched_(sched),
      params_(params),
      name_(std::move(name)),
      idx_(machine.memory().word(name_ + ".srcu_idx")),
      gp_lock_(machine.memory().word(name_ + ".srcu_gp_mutex")),
      percpu_(static_cast<std::size_t>(machine.vcpu_count())) {
  machine.declare_metrics(metrics_);
  cpu::Memory& mem = machine.memory();
  for (int c = 0; c < machine.vcpu_count(); ++c) {
    const std::string n = name_ + ".srcu_data.vcpu" + std::to_string(c);
    const int line = mem.new_line();
    PerCpu& p = percpu_[static_cast<std::size_t>(c)];
    for (int i = 0; i < 2; ++i) {
      p.lock_count[i] = &mem.word(n + ".lock_count" + std::to_string(i), line);
      p.unlock_count[i] = &mem.word(n + ".unlock_count" + std::to_string(i), line);
    }
  }
}

int Srcu::read_lock(cpu::GuestCpu& cpu) {
  const int idx = static_cast<int>(cpu.load(idx_) & 1);
  cpu.fetch_add(*percpu_[static_cast<std::size_t>(cpu.id())].lock_count[idx], 1);  // this_cpu_inc
  cpu.smp_mb();
  return idx;
}

void Srcu::read_unlock(cpu::GuestCpu& cpu, int idx) {
  cpu.smp_mb();
  cpu.fetch_add(*percpu_[static_cast<std::size_t>(cpu.id())].unlock_count[idx], 1);
}

// srcu_readers_active_idx_check: unlocks first, so a reader that moves between the two sums is
// counted as still active rather than missed.
bool Srcu::readers_gone(cpu::GuestCpu& cpu, int idx) {
  ++scans_;
  std::uint64_t unlocks = 0, locks = 0;
  for (const PerCpu& p : percpu_) unlocks += cpu.load(*p.unlock_count[idx]);
  cpu.smp_mb();
  for (const PerCpu& p : percpu_) locks += cpu.load(*p.lock_count[idx]);
  return locks == unlocks;
}

void Srcu::wait_readers(cpu::GuestCpu& cpu, int idx) {
  for (int tries = 0; !readers_gone(cpu, idx); ++tries) {
    if (tries < kQuickChecks)
      cpu.compute(kRetryCheckDelay);  // udelay()
    else
      sched_.sleep_for(cpu, params_.srcu_interval.value);
  }
}

void Srcu::synchronize(cpu::GuestCpu& cpu) {
  const sim::Tick start = cpu.now();
  while (cpu.cmpxchg(gp_lock_, 0, 1) != 0) sched_.sleep_for(cpu, params_.srcu_interval.value);
  const int idx = static_cast<int>(cpu.load(idx_) & 1);
  wait_readers(cpu, idx ^ 1);  // SRCU_STATE_SCAN1: stragglers of the previous flip
  cpu.smp_mb();
  cpu.store(idx_, cpu.load(idx_) + 1);  // srcu_flip: new readers use the other index
  cpu.smp_mb();
  wait_readers(cpu, idx);  // SRCU_STATE_SCAN2: readers that began before the flip
  cpu.store(gp_lock_, 0);
  ++gps_;
  sync_ns_.add((cpu.now() - start) / sim::kNanosecond);
}

void Srcu::collect_metrics(sim::Metrics& out) const {
  out.set(metrics_.grace_periods, {name_}, gps_);
  out.set(metrics_.reader_scans, {name_}, scans_);
  out.set_summary(metrics_.sync_latency_ns, {name_}, sync_ns_);
}

}  // namespace vcpusim::guest
