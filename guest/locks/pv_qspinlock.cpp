#include "guest/locks/pv_qspinlock.hpp"

namespace vcpusim::guest {

using Q = QspinlockVal;

PvQspinlock::PvQspinlock(LockKit& kit, const std::string& name)
    : Qspinlock(kit, name),
      hash_(kit.shared<PvHash>()),
      id_(static_cast<std::uint64_t>(val_.id) + 1),
      hash_first_(kit.params().pv_hash_order.value == PvHashOrder::kHashThenSlow) {}

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

// pv_wait_node. The kernel samples the predecessor's state every 256 loops (pv_wait_early); here
// the spin's condition reads it, so the spin ends as soon as the predecessor stops running.
void PvQspinlock::pv_wait_node(cpu::GuestCpu& cpu, Node& node, Node& prev) {
  for (;;) {
    cpu::WaitSpec spin = cpu::WaitSpec::spin();
    spin.budget = kit_.spin_budget();
    bool locked = false;
    cpu.wait(
        [&] {
          locked = cpu.load(*node.locked) != 0;
          return locked || cpu.load(*prev.state) != kRunning;
        },
        spin);
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
    cpu.store(*node.state, kRunning);
    cpu.store_field(val_, Q::kPendingMask, Q::kPending);  // no stealing while the head spins
    cpu::WaitSpec spin = cpu::WaitSpec::spin();
    spin.budget = kit_.spin_budget();
    if (cpu.wait([&] { return trylock_clear_pending(cpu); }, spin) == cpu::WakeReason::kCondition)
      break;
    cpu.store_field(val_, Q::kPendingMask, 0);
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
