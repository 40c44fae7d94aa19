// Follows kernel/rcu/tree.c (rcu_gp_kthread, rcu_gp_init, rcu_gp_fqs, rcu_gp_cleanup,
// rcu_report_qs_rnp, rcu_note_context_switch, rcu_do_batch) in our own words.
#include "guest/rcu.hpp"

#include "guest/window_sites.hpp"
#include "sim/error.hpp"

namespace vcpusim::guest {
namespace {
// ULONG_CMP_LT on sequence numbers.
bool seq_lt(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::int64_t>(a - b) < 0;
}
}  // namespace

Rcu::Rcu(cpu::Machine& machine, GuestScheduler& sched, const RcuParams& params)
    : machine_(machine),
      sched_(sched),
      params_(params),
      monitor_(machine, params),
      gp_seq_(machine.memory().word("rcu_state.gp_seq")),
      gp_seq_needed_(machine.memory().word("rcu_state.gp_seq_needed", gp_seq_.line)),
      qsmask_(machine.memory().word("rcu_node.qsmask")),
      percpu_(static_cast<std::size_t>(machine.vcpu_count())) {
  if (machine.vcpu_count() > 64) throw sim::SimError("the RCU model supports up to 64 vCPUs");
  if (params.gp_cpu.value >= machine.vcpu_count())
    throw sim::SimError("guest.rcu.gp_cpu is not a vCPU of this VM");
  cpu::Memory& mem = machine.memory();
  for (int c = 0; c < machine.vcpu_count(); ++c) {
    PerCpu& p = pc(c);
    const std::string n = "rcu_data.vcpu" + std::to_string(c);
    const int line = mem.new_line();
    p.dynticks = &mem.word(n + ".dynticks", line, 1);
    p.cblist_len = &mem.word(n + ".cblist_len", line);
    all_cpus_ |= std::uint64_t{1} << c;
  }
  kthread_ = &sched.spawn(static_cast<int>(params.gp_cpu.value), "rcu_gp_kthread",
                          [this](cpu::GuestCpu& cpu) { gp_kthread(cpu); });
  sched.on_context_switch([this](cpu::GuestCpu& cpu) { on_switch(cpu); });
  sched.on_idle([this](cpu::GuestCpu& cpu) { on_idle(cpu); });
  sched.on_cond_resched([this](cpu::GuestCpu& cpu) { on_cond_resched(cpu); });
}

// Non-preemptible RCU: rcu_read_lock() is preempt_disable(), a per-task count and a compiler
// barrier; nothing is written to memory another CPU reads.
void Rcu::read_lock(cpu::GuestCpu& cpu) {
  if (nesting(cpu)++ == 0) {
    monitor_.reader_begin(cpu.id(), sched_.current(cpu.id()).name, cpu.now());
    cpu.window(window::kRcuRead, nullptr, true);
  }
  cpu.barrier();
}

void Rcu::read_unlock(cpu::GuestCpu& cpu) {
  cpu.barrier();
  int& n = nesting(cpu);
  if (n <= 0) throw sim::SimError("rcu_read_unlock without rcu_read_lock");
  if (--n == 0) {
    monitor_.reader_end(cpu.id(), sched_.current(cpu.id()).name, cpu.now());
    cpu.window(window::kRcuRead, nullptr, false);
  }
}

std::uint64_t Rcu::snap(cpu::GuestCpu& cpu) {
  cpu.smp_mb();
  return (cpu.load(gp_seq_) + 3) & ~std::uint64_t{1};
}

bool Rcu::done(cpu::GuestCpu& cpu, std::uint64_t s) {
  return !seq_lt(cpu.load(gp_seq_), s);
}

// call_rcu(): enqueue on this CPU's list with irqs off, then ask for the grace period it needs
// (rcu_start_this_gp) and wake the kthread if nobody asked for it yet.
void Rcu::call(cpu::GuestCpu& cpu, Callback fn) {
  PerCpu& p = pc(cpu.id());
  const bool flags = cpu.local_irq_save();
  const std::uint64_t s = snap(cpu);
  cpu.rmw(*p.cblist_len, [&](std::uint64_t) {
    p.cbs.push_back(Queued{std::move(fn), s});
    ++pending_;
    return p.cbs.size();
  });
  monitor_.callbacks_pending(pending_);
  cpu.local_irq_restore(flags);
  if (!seq_lt(cpu.load(gp_seq_needed_), s)) return;
  cpu.rmw(gp_seq_needed_, [s](std::uint64_t old) { return seq_lt(old, s) ? s : old; });
  sched_.wake_up(cpu, *kthread_);
}

void Rcu::synchronize(cpu::GuestCpu& cpu) {
  const Task* me = &sched_.current(cpu.id());
  auto& done = sync_done_[me];
  if (!done) done = std::make_unique<Completion>(machine_, sched_, "rcu.sync." + me->name);
  const sim::Tick start = cpu.now();
  Completion* c = done.get();
  call(cpu, [c](cpu::GuestCpu& on) { c->complete(on); });  // wakeme_after_rcu
  c->wait(cpu);
  monitor_.sync_latency(cpu.now() - start);
}

void Rcu::gp_kthread(cpu::GuestCpu& cpu) {
  for (;;) {
    sched_.wait_event(
        cpu, [&] { return seq_lt(cpu.load(gp_seq_), cpu.load(gp_seq_needed_)); }, sim::kForever);
    gp_init(cpu);
    // rcu_gp_fqs_loop: sleep until every CPU reported or the next scan is due.
    for (bool first = true;; first = false) {
      if (sched_.wait_event(
              cpu, [&] { return cpu.load(qsmask_) == 0; }, params_.fqs_interval.value))
        break;
      force_qs(cpu, first);
      if (cpu.load(qsmask_) == 0) break;
    }
    gp_cleanup(cpu);
  }
}

// rcu_gp_init: the sequence goes odd, then every CPU owes a quiescent state.
void Rcu::gp_init(cpu::GuestCpu& cpu) {
  const std::uint64_t s = cpu.load(gp_seq_) + 1;
  cpu.store(gp_seq_, s);
  cpu.smp_mb();
  cpu.store(qsmask_, all_cpus_);
  monitor_.gp_start((s + 1) / 2, cpu.now(), machine_.vcpu_count());
}

// rcu_gp_fqs / rcu_implicit_dynticks_qs: a CPU idle now, or idle at some point since the first
// scan, has passed through a quiescent state; report it on its behalf.
void Rcu::force_qs(cpu::GuestCpu& cpu, bool first) {
  monitor_.fqs_scan();
  const std::uint64_t mask = cpu.load(qsmask_);
  for (int c = 0; c < machine_.vcpu_count(); ++c) {
    if ((mask & (std::uint64_t{1} << c)) == 0) continue;
    PerCpu& p = pc(c);
    const std::uint64_t d = cpu.load(*p.dynticks);
    if (first) p.fqs_snap = d;
    if ((d & 1) == 0 || d != p.fqs_snap) report_qs(cpu, c, QsReason::kFqsIdle);
  }
}

// rcu_gp_cleanup: the sequence goes even; idle CPUs whose callbacks became ready are kicked
// (standing in for the scheduling-clock tick a CPU with pending callbacks keeps).
void Rcu::gp_cleanup(cpu::GuestCpu& cpu) {
  cpu.smp_mb();
  cpu.store(gp_seq_, cpu.load(gp_seq_) + 1);
  monitor_.gp_end(cpu.now());
  for (int c = 0; c < machine_.vcpu_count(); ++c) {
    if (c == cpu.id()) continue;
    PerCpu& p = pc(c);
    if (cpu.load(*p.cblist_len) != 0 && (cpu.load(*p.dynticks) & 1) == 0) cpu.send_resched(c);
  }
}

bool Rcu::report_qs(cpu::GuestCpu& cpu, int who, QsReason why) {
  const std::uint64_t bit = std::uint64_t{1} << who;
  bool last = false;
  cpu.rmw(qsmask_, [&](std::uint64_t old) {
    if ((old & bit) == 0) return old;
    monitor_.qs(who, why, cpu.now());
    last = (old & ~bit) == 0;
    return old & ~bit;
  });
  return last;
}

void Rcu::note_qs(cpu::GuestCpu& cpu, QsReason why) {
  if ((cpu.load(qsmask_) & (std::uint64_t{1} << cpu.id())) == 0) return;
  if (report_qs(cpu, cpu.id(), why)) sched_.wake_up(cpu, *kthread_);
}

// rcu_do_batch: invoke this CPU's callbacks whose grace period has ended, in order.
void Rcu::do_batch(cpu::GuestCpu& cpu) {
  PerCpu& p = pc(cpu.id());
  if (cpu.load(*p.cblist_len) == 0) return;
  const std::uint64_t now_seq = cpu.load(gp_seq_);
  for (;;) {
    Callback fn;
    cpu.rmw(*p.cblist_len, [&](std::uint64_t) {
      if (!p.cbs.empty() && !seq_lt(now_seq, p.cbs.front().snap)) {
        fn = std::move(p.cbs.front().fn);
        p.cbs.pop_front();
        --pending_;
      }
      return p.cbs.size();
    });
    if (!fn) return;
    cpu.compute(params_.callback_cost.value);
    monitor_.callback_invoked();
    fn(cpu);
  }
}

// rcu_note_context_switch: a quiescent state (even inside a read section, which a
// non-preemptible kernel forbids: the rcu mmu-notifier variant does it anyway). Leaving the idle
// task ends the extended quiescent state.
void Rcu::on_switch(cpu::GuestCpu& cpu) {
  PerCpu& p = pc(cpu.id());
  if (p.in_eqs && sched_.idle(cpu.id())) {
    p.in_eqs = false;
    cpu.fetch_add(*p.dynticks, 1);  // rcu_eqs_exit
  }
  note_qs(cpu, QsReason::kContextSwitch);
}

void Rcu::on_idle(cpu::GuestCpu& cpu) {
  do_batch(cpu);
  note_qs(cpu, QsReason::kIdle);
  PerCpu& p = pc(cpu.id());
  if (!p.in_eqs) {
    p.in_eqs = true;
    cpu.fetch_add(*p.dynticks, 1);  // rcu_eqs_enter
  }
}

// cond_resched() -> rcu_all_qs(), outside read sections only.
void Rcu::on_cond_resched(cpu::GuestCpu& cpu) {
  if (nesting(cpu) > 0) return;
  do_batch(cpu);
  note_qs(cpu, QsReason::kCondResched);
}

}  // namespace vcpusim::guest
