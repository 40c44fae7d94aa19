// Follows mm/mmu_notifier.c (mmu_notifier_register, mmu_notifier_unregister,
// __mmu_notifier_invalidate_range_start) and seed 004's RCU + seqlock patch, in our own words.
#include "guest/mmu_notifier.hpp"

#include "guest/window_sites.hpp"

namespace vcpusim::guest {

MmuNotifierList::MmuNotifierList(cpu::Machine& machine, GuestScheduler& sched,
                                 GuestObjects& objects, Rcu& rcu, Srcu* srcu,
                                 const MmuNotifierParams& params)
    : sched_(sched),
      objects_(objects),
      rcu_(rcu),
      srcu_(srcu),
      params_(params),
      variant_(params.variant.value),
      head_(machine.memory().word("mm.mmu_notifier_list")),
      seq_(machine.memory().word("mm.mmu_notifier_lock.seq", head_.line)),
      lock_word_(machine.memory().word("mm.mmu_notifier_lock.lock", head_.line)),
      lock_(lock_word_) {
  machine.declare_metrics(metrics_);
}

MmuNotifierList::Handle MmuNotifierList::register_notifier(cpu::GuestCpu& cpu) {
  const Handle h = objects_.allocate(cpu, "mmu_notifier", {"ops", "hlist.next"});
  objects_.store(cpu, h, kOps, 1);
  lock_.lock(cpu);
  // hlist_add_head_rcu: the node is complete before the head publishes it (no seqcount needed).
  objects_.store(cpu, h, kNext, cpu.load(head_));
  cpu.smp_wmb();
  cpu.store(head_, h);
  lock_.unlock(cpu);
  ++metrics_.registered;
  return h;
}

void MmuNotifierList::unlink(cpu::GuestCpu& cpu, Handle h) {
  const Handle next = objects_.load(cpu, h, kNext);
  Handle p = cpu.load(head_);
  if (p == h) {
    cpu.store(head_, next);
    return;
  }
  while (p != 0) {
    const Handle n = objects_.load(cpu, p, kNext);
    if (n == h) {
      objects_.store(cpu, p, kNext, next);
      return;
    }
    p = n;
  }
}

void MmuNotifierList::unregister_and_free(cpu::GuestCpu& cpu, Handle h) {
  const sim::Tick start = cpu.now();
  lock_.lock(cpu);
  const cpu::WindowScope retiring(cpu, window::kMmuNotifierUnregister, &objects_.word(h, kOps));
  const bool seqlock = variant_ == MmuNotifierVariant::kRcuSeqlock;
  if (seqlock) {  // write_seqlock: walkers sleeping in a method will restart
    cpu.store(seq_, cpu.load(seq_) + 1);
    cpu.smp_wmb();
  }
  unlink(cpu, h);
  if (seqlock) {
    cpu.smp_wmb();
    cpu.store(seq_, cpu.load(seq_) + 1);
  }
  lock_.unlock(cpu);
  if (variant_ == MmuNotifierVariant::kSrcu)
    srcu_->synchronize(cpu);
  else
    rcu_.synchronize(cpu);
  objects_.free(cpu, h, "mmu_notifier_unregister");
  ++metrics_.unregistered;
  metrics_.unregister_ns.add((cpu.now() - start) / sim::kNanosecond);
}

// An invalidate method of a driver that must wait for its device (XPMEM, GRU, RDMA): some work,
// then a sleep. It does not touch the notifier after it returns to the walk.
void MmuNotifierList::method(cpu::GuestCpu& cpu) {
  ++metrics_.methods_called;
  cpu.compute(params_.method_work.value);
  if (params_.method_sleep.value > 0) sched_.sleep_for(cpu, params_.method_sleep.value);
}

void MmuNotifierList::invalidate(cpu::GuestCpu& cpu) {
  const sim::Tick start = cpu.now();
  switch (variant_) {
    case MmuNotifierVariant::kRcu:
      walk_rcu(cpu);
      break;
    case MmuNotifierVariant::kRcuSeqlock:
      walk_rcu_seqlock(cpu);
      break;
    case MmuNotifierVariant::kSrcu:
      walk_srcu(cpu);
      break;
  }
  ++metrics_.invalidations;
  metrics_.walk_ns.add((cpu.now() - start) / sim::kNanosecond);
}

// The broken one: the method sleeps inside the RCU read section, the context switch is a
// quiescent state, and unregister's grace period can end and free the node under the walker.
void MmuNotifierList::walk_rcu(cpu::GuestCpu& cpu) {
  rcu_.read_lock(cpu);
  for (Handle h = cpu.load(head_); h != 0;) {
    const cpu::WindowScope held(cpu, window::kMmuNotifierWalk, &objects_.word(h, kOps));
    if (objects_.load(cpu, h, kOps) != 0) method(cpu);
    h = objects_.load(cpu, h, kNext);
  }
  rcu_.read_unlock(cpu);
}

// Seed 004: rcu_read_unlock around the method; after it, a moved seqcount means an unregister
// ran meanwhile and the node may be gone, so the walk restarts from the head. Readers only read.
void MmuNotifierList::walk_rcu_seqlock(cpu::GuestCpu& cpu) {
  rcu_.read_lock(cpu);
  for (;;) {
    std::uint64_t s = 0;
    cpu.spin_until([&] { return ((s = cpu.load(seq_)) & 1) == 0; });  // read_seqbegin
    cpu.smp_rmb();
    bool restarted = false;
    for (Handle h = cpu.load(head_); h != 0;) {
      const cpu::WindowScope held(cpu, window::kMmuNotifierWalk, &objects_.word(h, kOps));
      if (objects_.load(cpu, h, kOps) != 0) {
        rcu_.read_unlock(cpu);
        method(cpu);
        rcu_.read_lock(cpu);
      }
      cpu.smp_rmb();
      if (cpu.load(seq_) != s) {  // read_seqretry
        restarted = true;
        break;
      }
      h = objects_.load(cpu, h, kNext);
    }
    if (!restarted) break;
    ++metrics_.walk_restarts;
  }
  rcu_.read_unlock(cpu);
}

void MmuNotifierList::walk_srcu(cpu::GuestCpu& cpu) {
  const int idx = srcu_->read_lock(cpu);
  for (Handle h = cpu.load(head_); h != 0;) {
    const cpu::WindowScope held(cpu, window::kMmuNotifierWalk, &objects_.word(h, kOps));
    if (objects_.load(cpu, h, kOps) != 0) method(cpu);
    h = objects_.load(cpu, h, kNext);
  }
  srcu_->read_unlock(cpu, idx);
}

}  // namespace vcpusim::guest
