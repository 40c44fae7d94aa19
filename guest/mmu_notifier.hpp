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
#include "sim/metrics.hpp"

namespace vcpusim::guest {

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
  void collect_metrics(sim::Metrics& out) const;

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
  std::uint64_t invalidations_ = 0;
  std::uint64_t methods_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t registered_ = 0;
  std::uint64_t unregistered_ = 0;
  sim::Samples walk_ns_;
  sim::Samples unregister_ns_;
};

}  // namespace vcpusim::guest
