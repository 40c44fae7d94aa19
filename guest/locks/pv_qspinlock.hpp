// The paravirt queued spinlock (kernel/locking/qspinlock_paravirt.h, arch/x86/kernel/kvm.c): the
// qspinlock with its pv hooks. A queued waiter spins SPIN_THRESHOLD loops (or stops early when
// its predecessor is not running), marks its node halted and pv_waits; the lock holder that hands
// it the queue head while it is halted marks the node hashed, sets _Q_SLOW_VAL and hashes
// lock -> node, deferring the kick to unlock. The queue head spins with pending set, then hashes
// itself and publishes _Q_SLOW_VAL (in the order guest.locks.pv_hash_order says) and halts until
// the locked byte changes. Unlock: cmpxchg locked 1 -> 0; on _Q_SLOW_VAL, unhash, release, kick.
// guest.locks.era picks the kernel: 2015 spins on the predecessor's state continuously and steals
// only from an empty queue; 2016 (v4.5) samples the predecessor every 256 spins (pv_wait_early)
// and makes one steal attempt at queue entry (pv_queued_spin_steal_lock); current (v4.15 on)
// keeps trying while a queue exists and its head is not spinning
// (pv_hybrid_queued_unfair_trylock).
#pragma once
#include "guest/locks/pv_hash.hpp"
#include "guest/locks/qspinlock.hpp"

namespace vcpusim::guest {

class PvQspinlock final : public Qspinlock {
 public:
  static constexpr const char* kHashLookup = "hash_lookup";
  PvQspinlock(LockKit& kit, const std::string& name);
  void unlock(cpu::GuestCpu& cpu) override;
  std::optional<Steals> steals() const override;

 private:
  enum State : std::uint64_t { kRunning = 0, kHalted = 1, kHashed = 2 };
  bool pv() const override { return true; }
  bool queue_trylock(cpu::GuestCpu& cpu) override;
  // One attempt on the locked byte while locked and pending are clear; counts a steal.
  bool steal_attempt(cpu::GuestCpu& cpu, std::uint64_t val);
  void spin_then_early(cpu::GuestCpu& cpu, Node& node, Node& prev, bool& locked);
  void pv_init_node(cpu::GuestCpu& cpu, Node& node) override;
  void pv_wait_node(cpu::GuestCpu& cpu, Node& node, Node& prev) override;
  void pv_kick_node(cpu::GuestCpu& cpu, Node& node) override;
  std::uint64_t pv_wait_head_or_lock(cpu::GuestCpu& cpu, Node& node) override;
  void unlock_slowpath(cpu::GuestCpu& cpu, std::uint64_t locked);
  bool trylock_clear_pending(cpu::GuestCpu& cpu);
  // xchg on the locked byte; returns its old value.
  std::uint64_t xchg_locked(cpu::GuestCpu& cpu, std::uint64_t byte);
  std::uint64_t node_id(const Node& node) const;
  // What a halted waiter is owed a kick for: it is at the head of the queue (a queued waiter:
  // its node is locked) and the lock is free.
  bool owed_head_wakeup(cpu::Peek& peek);
  bool owed_node_wakeup(cpu::Peek& peek, Node& node);

  PvHash& hash_;
  std::uint64_t id_;  // the lock's "address" in the hash table
  bool hash_first_;
  LockEra era_;
  // Model bookkeeping for the steal metric, not guest state: the queue head is halted, either in
  // pv_wait_head_or_lock or as a node that pv_kick_node hashed (kicked at the unlock), until it
  // runs pv_wait_head_or_lock again. In that window a 2016 newcomer's steal saves the hand-off
  // its host wake-up.
  bool head_halted_ = false;
  Steals steals_;
};

}  // namespace vcpusim::guest
