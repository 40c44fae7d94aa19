// The windows guest models declare (cpu::WindowScope, cpu/run_observer.hpp): spans of kernel
// code where a host preemption may matter, named by their class and the function they follow.
// explore places preemption points in them (tools/explore/windows.hpp); docs/explore.md lists
// them.
#pragma once
#include "cpu/run_observer.hpp"

namespace vcpusim::guest::window {

// A lock held, from acquire to the release's last store (lock_torture).
inline constexpr cpu::WindowSite kLockCritical{"lock.critical", "lock_torture"};
// pvqspinlock's queue head giving up its spin: setting _Q_SLOW_VAL and hashing itself, up to
// pv_wait (kernel/locking/qspinlock_paravirt.h).
inline constexpr cpu::WindowSite kPvWaitHead{"lock.slowpath", "pv_wait_head_or_lock"};
// The unlock that found _Q_SLOW_VAL: hash lookup, release, kick.
inline constexpr cpu::WindowSite kPvUnlockSlowpath{"lock.slowpath",
                                                   "__pv_queued_spin_unlock_slowpath"};
// A seqcount write section, from the odd store to the even one (include/linux/seqlock.h).
inline constexpr cpu::WindowSite kSeqWrite{"seq.write", "write_seqcount_begin"};
// timekeeping_advance from reading the clock to publishing (kernel/time/timekeeping.c).
inline constexpr cpu::WindowSite kTkUpdate{"tk.update", "timekeeping_advance"};
// An RCU read-side critical section (rcu_read_lock .. rcu_read_unlock).
inline constexpr cpu::WindowSite kRcuRead{"rcu.read", "rcu_read_lock"};
// An invalidate's walk of the mmu notifier list holding notifier N (mn_hlist_invalidate_range_start,
// mm/mmu_notifier.c): from reading N's ops, through N's method (which may sleep), to reading N's
// next pointer. N must outlive it: the window an unregister's free races.
inline constexpr cpu::WindowSite kMmuNotifierWalk{"mmu_notifier.walk",
                                                  "mn_hlist_invalidate_range_start"};
// An unregister from unlinking notifier N to freeing it, the grace period between
// (mmu_notifier_unregister): a walk holding N meanwhile must end before the free.
inline constexpr cpu::WindowSite kMmuNotifierUnregister{"mmu_notifier.unregister",
                                                        "mmu_notifier_unregister"};

}  // namespace vcpusim::guest::window
