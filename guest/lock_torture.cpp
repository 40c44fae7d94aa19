#include "guest/lock_torture.hpp"

#include <algorithm>

#include "guest/locks/lock_registry.hpp"
#include "guest/trace_kinds.hpp"
#include "guest/window_sites.hpp"

namespace vcpusim::guest {

LockTorture::LockTorture(cpu::Machine& machine, const LockParams& params,
                         sim::MutualExclusionCheck* mutex)
    : machine_(machine), kit_(machine, params), mutex_(mutex) {
  locks_.resize(static_cast<std::size_t>(params.count.value));
  for (std::size_t i = 0; i < locks_.size(); ++i)
    locks_[i].lock =
        params.algorithms().at(params.kind.value).make(kit_, "lock" + std::to_string(i));
  machine.hypervisor().add_preempt_observer([this](int v) { preempted(v); });
  machine.declare_metrics(metrics_);
}

sim::Tick LockTorture::draw(sim::Rng& rng, sim::Tick mean, bool exponential) {
  return exponential ? rng.exponential(mean) : mean;
}

void LockTorture::run(cpu::GuestCpu& cpu, const WorkloadParams& p) {
  sim::Rng rng = machine_.decisions().guest_stream("lock_torture.vcpu" + std::to_string(cpu.id()) +
                                                   ".ctx" + std::to_string(cpu.current_context()));
  std::vector<int> mine;
  for (std::int64_t l : p.locks.value) mine.push_back(static_cast<int>(l));
  if (mine.empty())
    for (std::size_t l = 0; l < locks_.size(); ++l) mine.push_back(static_cast<int>(l));
  const bool exp = p.hold_dist.value == HoldDist::kExponential;
  const bool irqs_off = p.irqs.value == IrqState::kOff;
  for (std::int64_t n = 0; p.count.value == 0 || n < p.count.value; ++n) {
    const int index = mine[static_cast<std::size_t>(rng.below(mine.size()))];
    const bool flags = irqs_off ? cpu.local_irq_save() : true;
    acquire(cpu, index);
    sim::Tick hold = draw(rng, p.hold.value, exp);
    if (p.long_hold.value > 0 &&
        rng.below(static_cast<std::uint64_t>(p.long_hold_every.value)) == 0)
      hold = p.long_hold.value;
    if (hold > 0) cpu.compute(hold);
    release(cpu, index);
    if (irqs_off) cpu.local_irq_restore(flags);
    const sim::Tick think = draw(rng, p.think.value, exp);
    // The user-mode part (a task back in user space between system calls) ends the think time,
    // so every lock operation runs in kernel mode.
    const sim::Tick user = think * p.user_percent.value / 100;
    if (think - user > 0) cpu.compute(think - user);
    if (user > 0) {
      cpu.set_user_mode(true);
      cpu.compute(user);
      cpu.set_user_mode(false);
    }
  }
  for (;;) cpu.halt();
}

void LockTorture::acquire(cpu::GuestCpu& cpu, int index) {
  Stats& s = locks_[static_cast<std::size_t>(index)];
  const sim::Tick start = cpu.now();
  const sim::Tick halted = cpu.halted_time();
  const cpu::Vcpu::Counters before = cpu.counters();
  s.waiters.push_back(cpu.id());
  const int label = s.lock->label_id();
  cpu.trace("spin.begin", label, s.holder);
  const int token = cpu.begin_wait({s.lock->name(), s.holder, sim::Needs::kProgress, false});
  s.lock->lock(cpu);
  cpu.end_wait(token);
  cpu.trace("spin.end", label);
  s.waiters.erase(std::find(s.waiters.begin(), s.waiters.end(), cpu.id()));
  if (mutex_) mutex_->acquired(index, s.lock->name(), cpu.id(), cpu.now());
  s.holder = cpu.id();
  cpu.trace(trace_kind::kLockAcquire, label);
  cpu.window(window::kLockCritical, s.lock->label_word(), true);
  ++s.acquisitions;
  const sim::Tick waited = cpu.now() - start;
  const sim::Tick in_halt = cpu.halted_time() - halted;
  s.wait_ns.add(waited / sim::kNanosecond);
  s.halted += in_halt;
  s.spin += waited - in_halt;
  s.halts += cpu.counters().halts - before.halts;
  s.ple_exits += cpu.counters().ple_exits - before.ple_exits;
}

void LockTorture::release(cpu::GuestCpu& cpu, int index) {
  Stats& s = locks_[static_cast<std::size_t>(index)];
  if (mutex_) mutex_->released(index, cpu.id());
  s.holder = -1;
  cpu.trace(trace_kind::kLockRelease, s.lock->label_id());
  const std::uint64_t kicks = cpu.counters().kicks_sent;
  s.lock->unlock(cpu);
  cpu.window(window::kLockCritical, s.lock->label_word(), false);
  s.kicks += cpu.counters().kicks_sent - kicks;
  check_waiter_preemption(index);
}

bool LockTorture::vcpu_preempted(int v) {
  return machine_.vcpu(v).state() == cpu::ThreadState::kRunnable;
}

void LockTorture::check_waiter_preemption(int index) {
  Stats& s = locks_[static_cast<std::size_t>(index)];
  if (s.holder >= 0 || s.waiters.empty()) return;
  const bool stalled = s.lock->fair() ? vcpu_preempted(s.waiters.front())
                                      : std::all_of(s.waiters.begin(), s.waiters.end(),
                                                    [this](int v) { return vcpu_preempted(v); });
  if (!stalled) return;
  ++s.waiter_preemptions;
  sim::Kernel& k = machine_.kernel();
  k.recorder().note(k.now(), machine_.vcpu(s.waiters.front()).component(),
                    trace_kind::kLockWaiterPreempted, s.lock->label_id(),
                    static_cast<std::int64_t>(s.waiters.size()));
}

void LockTorture::preempted(int v) {
  sim::Kernel& k = machine_.kernel();
  for (std::size_t i = 0; i < locks_.size(); ++i) {
    Stats& s = locks_[i];
    if (s.holder == v && !s.waiters.empty()) {
      ++s.holder_preemptions;
      k.recorder().note(k.now(), machine_.vcpu(v).component(), trace_kind::kLockHolderPreempted,
                        s.lock->label_id(), static_cast<std::int64_t>(s.waiters.size()));
    } else if (s.holder < 0 && !s.waiters.empty() &&
               (s.lock->fair()
                    ? s.waiters.front() == v
                    : std::find(s.waiters.begin(), s.waiters.end(), v) != s.waiters.end())) {
      check_waiter_preemption(static_cast<int>(i));
    }
  }
}

std::uint64_t LockTorture::transfers(const Stats& s) const {
  std::uint64_t n = 0;
  for (int line : s.lock->lines()) n += machine_.memory().line_transfers(line);
  return n;
}

void LockTorture::collect_metrics(sim::Metrics& out, sim::Tick end) const {
  const LockTortureMetrics& m = metrics_;
  std::uint64_t acquisitions = 0, lhp = 0, lwp = 0, kicks = 0, halts = 0, ple = 0, own = 0;
  sim::Tick spin = 0, halted = 0;
  sim::Samples all_waits;
  const double seconds = static_cast<double>(end) / static_cast<double>(sim::kSecond);
  auto per_second = [seconds](std::uint64_t n) {
    return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
  };
  for (std::size_t i = 0; i < locks_.size(); ++i) {
    const Stats& s = locks_[i];
    const std::vector<std::string> l = {std::to_string(i)};  // the lock is "lock<i>"
    out.set(m.acquisitions.lock, l, s.acquisitions);
    out.set(m.acquisitions_per_s.lock, l, per_second(s.acquisitions));
    out.set_summary(m.wait_ns.lock, l, s.wait_ns);
    out.set(m.spin_ns.lock, l, s.spin / sim::kNanosecond);
    out.set(m.halted_ns.lock, l, s.halted / sim::kNanosecond);
    out.set(m.holder_preemptions.lock, l, s.holder_preemptions);
    out.set(m.waiter_preemptions.lock, l, s.waiter_preemptions);
    out.set(m.kicks.lock, l, s.kicks);
    out.set(m.halts.lock, l, s.halts);
    out.set(m.ple_exits.lock, l, s.ple_exits);
    const std::uint64_t t = transfers(s);
    out.set(m.transfers.lock, l, t);
    acquisitions += s.acquisitions;
    lhp += s.holder_preemptions;
    lwp += s.waiter_preemptions;
    kicks += s.kicks;
    halts += s.halts;
    ple += s.ple_exits;
    own += t;
    spin += s.spin;
    halted += s.halted;
    all_waits.merge(s.wait_ns);
  }
  std::uint64_t shared = 0;
  for (int line : kit_.shared_lines()) shared += machine_.memory().line_transfers(line);
  out.set(m.kind, kit_.params().kind.value);
  out.set(m.acquisitions.all, acquisitions);
  out.set(m.acquisitions_per_s.all, per_second(acquisitions));
  out.set_summary(m.wait_ns.all, all_waits);
  out.set(m.spin_ns.all, spin / sim::kNanosecond);
  out.set(m.halted_ns.all, halted / sim::kNanosecond);
  out.set(m.holder_preemptions.all, lhp);
  out.set(m.waiter_preemptions.all, lwp);
  out.set(m.kicks.all, kicks);
  out.set(m.halts.all, halts);
  out.set(m.ple_exits.all, ple);
  out.set(m.transfers.all, own + shared);
  std::optional<Spinlock::Steals> steals;
  for (const Stats& s : locks_)
    if (const auto st = s.lock->steals()) {
      if (!steals) steals = Spinlock::Steals{};
      steals->total += st->total;
      steals->while_head_halted += st->while_head_halted;
    }
  if (steals) {
    out.set(m.steals, steals->total);
    out.set(m.steals_while_head_halted, steals->while_head_halted);
  }
  out.set(m.transfers_per_acquisition,
          acquisitions > 0 ? static_cast<double>(own + shared) / static_cast<double>(acquisitions)
                           : 0.0);
}

}  // namespace vcpusim::guest
