#include "guest/locks/pv_qspinlock.hpp"

#include <algorithm>

#include "guest/trace_kinds.hpp"
#include "guest/window_sites.hpp"

namespace vcpusim::guest {

using Q = QspinlockVal;

PvQspinlock::PvQspinlock(LockKit& kit, const std::string& name)
    : Qspinlock(kit, name),
      hash_(kit.shared<PvHash>()),
      id_(static_cast<std::uint64_t>(val_.id) + 1),
      hash_first_(kit.params().pv_hash_order.value == PvHashOrder::kHashThenSlow),
      era_(kit.params().era.value) {}

std::optional<Spinlock::Steals> PvQspinlock::steals() const {
  if (era_ == LockEra::k2015) return std::nullopt;
  return steals_;
}

bool PvQspinlock::steal_attempt(cpu::GuestCpu& cpu, std::uint64_t val) {
  if (val & Q::kLockedPendingMask) return false;
  const std::uint64_t old = cpu.rmw(val_, [](std::uint64_t v) {  // cmpxchg(&l->locked, 0, 1)
    return (v & Q::kLockedMask) == 0 ? v | Q::kLocked : v;
  });
  if (old & Q::kLockedMask) return false;
  if (old & Q::kTailMask) {  // past a queue
    ++steals_.total;
    if (head_halted_) {
      ++steals_.while_head_halted;
      cpu.trace(trace_kind::kLockStealPastHaltedHead, label_id(), 0);
    }
  }
  return true;
}

// queued_spin_trylock() in queue(), by era. 2015: the native trylock (the whole word 0, so never
// past a queue). 2016, pv_queued_spin_steal_lock() (v4.5-rc1, 1c4941fd53af "Allow limited lock
// stealing"): one cmpxchg on the locked byte when locked and pending are clear, whatever the
// tail. current, pv_hybrid_queued_unfair_trylock() (11752adb "Implement hybrid PV queued/unfair
// locks"): keep trying while there is a queue and its head is not spinning (pending clear); give
// up and queue once the queue is empty or the head spins.
bool PvQspinlock::queue_trylock(cpu::GuestCpu& cpu) {
  if (era_ == LockEra::k2015) return trylock(cpu);
  if (era_ == LockEra::k2016) return steal_attempt(cpu, cpu.load(val_));
  bool stolen = false;
  cpu.wait(
      [&] {
        const std::uint64_t val = cpu.load(val_);
        stolen = steal_attempt(cpu, val);
        return stolen || !(val & Q::kTailMask) || (val & Q::kPendingMask);
      },
      cpu::WaitSpec::spin());
  return stolen;
}

std::uint64_t PvQspinlock::node_id(const Node& node) const {
  return node.tail;
}

bool PvQspinlock::owed_head_wakeup(cpu::Peek& peek) {
  return (peek(val_) & Q::kLockedMask) == 0;
}

bool PvQspinlock::owed_node_wakeup(cpu::Peek& peek, Node& node) {
  return peek(*node.locked) != 0 && owed_head_wakeup(peek);
}

void PvQspinlock::pv_init_node(cpu::GuestCpu& cpu, Node& node) {
  cpu.store(*node.cpu, static_cast<std::uint64_t>(cpu.id()));
  cpu.store(*node.state, kRunning);
}

// The spin of pv_wait_node up to SPIN_THRESHOLD loops, ending early when the predecessor is not
// running. Era 2015 reads its state in the spin's condition, so the spin ends as soon as it
// stops running. 2016 and current sample it as pv_wait_early() does (cd0272fab785 "Queue node
// adaptive spinning", v4.5-rc1): when the loop count is a multiple of 256 (PV_PREV_CHECK_MASK),
// the first loop included.
void PvQspinlock::spin_then_early(cpu::GuestCpu& cpu, Node& node, Node& prev, bool& locked) {
  cpu::WaitSpec spin = cpu::WaitSpec::spin();
  if (era_ == LockEra::k2015) {
    spin.budget = kit_.spin_budget();
    cpu.wait(
        [&] {
          locked = cpu.load(*node.locked) != 0;
          return locked || cpu.load(*prev.state) != kRunning;
        },
        spin);
    return;
  }
  constexpr std::int64_t kCheckEvery = 256;
  for (std::int64_t loops = kit_.params().spin_threshold.value; loops > 0;
       loops -= kCheckEvery) {
    locked = cpu.load(*node.locked) != 0;
    if (locked || cpu.load(*prev.state) != kRunning) return;
    spin.budget = std::min(loops, kCheckEvery) * kit_.params().relax.value;
    cpu.wait(
        [&] {
          locked = cpu.load(*node.locked) != 0;
          return locked;
        },
        spin);
    if (locked) return;
  }
}

// pv_wait_node.
void PvQspinlock::pv_wait_node(cpu::GuestCpu& cpu, Node& node, Node& prev) {
  for (;;) {
    bool locked = false;
    spin_then_early(cpu, node, prev, locked);
    if (locked) return;
    cpu.store(*node.state, kHalted);  // smp_store_mb
    cpu.smp_mb();
    if (!cpu.load(*node.locked))
      cpu.pv_wait(*node.state, kHalted, ~0ULL, name(),
                  [this, &node](cpu::Peek& peek) { return owed_node_wakeup(peek, node); });
    // If pv_kick_node() made us hashed, keep that: the head path must not hash us again.
    cpu.cmpxchg(*node.state, kHalted, kRunning);
    if (cpu.load(*node.locked)) return;
  }
}

// pv_kick_node: we hold the lock and just made `node` the queue head. If it is halted, let the
// unlock kick it: mark it hashed, set _Q_SLOW_VAL and hash it (no unlock can race: we hold it).
void PvQspinlock::pv_kick_node(cpu::GuestCpu& cpu, Node& node) {
  if (cpu.cmpxchg(*node.state, kHalted, kHashed) != kHalted) return;
  head_halted_ = true;  // the new head sleeps until our unlock kicks it and it runs again
  cpu.store_field(val_, Q::kLockedMask, Q::kSlow);
  hash_.insert(cpu, id_, node_id(node));
}

bool PvQspinlock::trylock_clear_pending(cpu::GuestCpu& cpu) {
  if (cpu.load(val_) & Q::kLockedMask) return false;
  const std::uint64_t old = cpu.rmw(val_, [](std::uint64_t v) {  // cmpxchg on locked_pending
    return (v & Q::kLockedPendingMask) == Q::kPending ? (v & ~Q::kLockedPendingMask) | Q::kLocked
                                                      : v;
  });
  return (old & Q::kLockedPendingMask) == Q::kPending;
}

std::uint64_t PvQspinlock::xchg_locked(cpu::GuestCpu& cpu, std::uint64_t byte) {
  return cpu.rmw(val_, [byte](std::uint64_t v) { return (v & ~Q::kLockedMask) | byte; }) &
         Q::kLockedMask;
}

// pv_wait_head_or_lock: returns the lock word once we hold the lock.
std::uint64_t PvQspinlock::pv_wait_head_or_lock(cpu::GuestCpu& cpu, Node& node) {
  bool hashed = cpu.load(*node.state) == kHashed;  // pv_kick_node already did it for us
  int entry = -1;
  for (;;) {
    head_halted_ = false;
    cpu.store(*node.state, kRunning);
    cpu.store_field(val_, Q::kPendingMask, Q::kPending);  // no stealing while the head spins
    cpu::WaitSpec spin = cpu::WaitSpec::spin();
    spin.budget = kit_.spin_budget();
    if (cpu.wait([&] { return trylock_clear_pending(cpu); }, spin) == cpu::WakeReason::kCondition)
      break;
    cpu.store_field(val_, Q::kPendingMask, 0);
    cpu::WindowScope slowpath(cpu, window::kPvWaitHead, &val_);
    if (!hashed) {
      hashed = true;
      if (hash_first_) {
        entry = hash_.insert(cpu, id_, node_id(node));
        if (xchg_locked(cpu, Q::kSlow) == 0) {  // it was free: ours after all
          cpu.store_field(val_, Q::kLockedMask, Q::kLocked);
          hash_.clear(cpu, entry);
          break;
        }
      } else {  // seed 003's broken order: _Q_SLOW_VAL visible before the entry exists
        if (xchg_locked(cpu, Q::kSlow) == 0) {
          cpu.store_field(val_, Q::kLockedMask, Q::kLocked);
          break;
        }
        entry = hash_.insert(cpu, id_, node_id(node));
      }
    }
    cpu.store(*node.state, kHashed);
    head_halted_ = true;
    cpu.pv_wait(val_, Q::kSlow, Q::kLockedMask, name(),
                [this](cpu::Peek& peek) { return owed_head_wakeup(peek); });
  }
  return cpu.load(val_) | Q::kLocked;
}

// __pv_queued_spin_unlock.
void PvQspinlock::unlock(cpu::GuestCpu& cpu) {
  const std::uint64_t locked = cpu.rmw(val_, [](std::uint64_t v) {
    return (v & Q::kLockedMask) == Q::kLocked ? v & ~Q::kLockedMask : v;
  }) & Q::kLockedMask;
  if (locked != Q::kLocked) unlock_slowpath(cpu, locked);
}

// __pv_queued_spin_unlock_slowpath: find the halted head through the hash, release, kick.
void PvQspinlock::unlock_slowpath(cpu::GuestCpu& cpu, std::uint64_t locked) {
  const cpu::WindowScope slowpath(cpu, window::kPvUnlockSlowpath, &val_);
  const auto fail = [&](const std::string& what) {
    sim::Violation v;
    v.check = kHashLookup;
    v.time = cpu.now();
    v.cpus = {cpu.id()};
    v.message = "vCPU" + std::to_string(cpu.id()) + " unlocking " + name() + ": " + what;
    v.details = {{"lock", name()}, {"locked", locked}, {"bucket", hash_.bucket_of(id_)}};
    cpu.violations().report(std::move(v));
    cpu.store_field(val_, Q::kLockedMask, 0);  // the kernel BUG()s here; the model goes on
  };
  if (locked != Q::kSlow) return fail("the locked byte is neither locked nor _Q_SLOW_VAL");
  cpu.smp_rmb();
  const std::optional<std::uint64_t> node_code = hash_.remove(cpu, id_);
  if (!node_code) return fail("_Q_SLOW_VAL is set but the hash table has no entry for the lock");
  // The head stored the entry's lock and not yet its node: the kernel follows a NULL pv_node.
  const std::int64_t node_cpu = Q::tail_cpu(*node_code);
  if (node_cpu < 0 || node_cpu >= static_cast<std::int64_t>(qnodes_.cpus.size()))
    return fail("the hash entry for the lock has no node yet (a NULL pv_node)");
  cpu.store_field(val_, Q::kLockedMask, 0);
  cpu.pv_kick(static_cast<int>(cpu.load(*qnodes_.by_tail(*node_code).cpu)));
}

}  // namespace vcpusim::guest
