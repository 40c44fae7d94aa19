// An address space's mmu notifier list (mm/mmu_notifier.c, the 2008 hlist design and its
// successors): notifiers are guest objects on a singly linked RCU list; register adds at the
// head under the mm's lock; unregister unlinks (hlist_del_rcu leaves the node's next pointer for
// walkers still on it), waits for a grace period and frees. The invalidate walk calls each
// notifier's method, which may sleep. Variants (MmuNotifierVariant): `rcu` walks under
// rcu_read_lock across the sleeping method (broken); `rcu-seqlock` (seed 004) drops the RCU read
// lock around each method and restarts the walk when the list's seqcount moved, so its fast path
// only reads; `srcu` walks inside an SRCU read section and unregister waits synchronize_srcu.
#pragma once
#include <cstdint>

#include "guest/guest_objects.hpp"
#include "guest/rcu.hpp"
#include "guest/rcu_params.hpp"
#include "guest/srcu.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

struct MmuNotifierMetrics : sim::MetricGroup {
  MmuNotifierMetrics() : MetricGroup("mmu_notifier") {}
  sim::Counter invalidations{*this, "mmu_notifier.invalidations",
                             "invalidate walks completed (each calls every notifier)"};
  sim::Counter methods_called{*this, "mmu_notifier.methods_called", "notifier methods called"};
  sim::Counter walk_restarts{*this, "mmu_notifier.walk_restarts",
                             "walks restarted because the list's seqcount moved (rcu-seqlock)"};
  sim::Counter registered{*this, "mmu_notifier.registered", "notifiers registered"};
  sim::Counter unregistered{*this, "mmu_notifier.unregistered", "notifiers unregistered and freed"};
  sim::Distribution walk_ns{*this, "mmu_notifier.walk_ns", "ns", "invalidate walks, start to end"};
  sim::Distribution unregister_ns{*this, "mmu_notifier.unregister_ns", "ns",
                                  "unregister calls, including the grace period they wait"};
};

class MmuNotifierList {
 public:
  using Handle = GuestObjects::Handle;
  // Fields of a notifier object.
  static constexpr int kOps = 0;
  static constexpr int kNext = 1;

  MmuNotifierList(cpu::Machine& machine, GuestScheduler& sched, GuestObjects& objects, Rcu& rcu,
                  Srcu* srcu, const MmuNotifierParams& params);
  Handle register_notifier(cpu::GuestCpu& cpu);
  void unregister_and_free(cpu::GuestCpu& cpu, Handle h);
  // __mmu_notifier_invalidate_range_start: every notifier's method, in list order.
  void invalidate(cpu::GuestCpu& cpu);

  // The words the fast path must never write: the list head, the seqcount, the writers' lock.
  cpu::Word& head() { return head_; }
  cpu::Word& seq() { return seq_; }
  cpu::Word& lock_word() { return lock_word_; }
  void collect_metrics(sim::Metrics& out) const { metrics_.collect(out); }

 private:
  void method(cpu::GuestCpu& cpu);
  void walk_rcu(cpu::GuestCpu& cpu);
  void walk_rcu_seqlock(cpu::GuestCpu& cpu);
  void walk_srcu(cpu::GuestCpu& cpu);
  // hlist_del_rcu: the predecessor (or the head) skips `h`; `h` keeps its next pointer.
  void unlink(cpu::GuestCpu& cpu, Handle h);

  GuestScheduler& sched_;
  GuestObjects& objects_;
  Rcu& rcu_;
  Srcu* srcu_;  // the mm's SRCU domain (variant srcu only)
  const MmuNotifierParams& params_;
  MmuNotifierVariant variant_;
  cpu::Word& head_;       // mm->mmu_notifier_list
  cpu::Word& seq_;        // mm->mmu_notifier_lock's sequence (same cacheline, seed 004)
  cpu::Word& lock_word_;  // the writers' spinlock
  RawSpinlock lock_;
  MmuNotifierMetrics metrics_;
};

}  // namespace vcpusim::guest
