#include "guest/locks/qspinlock.hpp"

namespace vcpusim::guest {

using Q = QspinlockVal;

Qnodes::Qnodes(LockKit& kit) : cpus(static_cast<std::size_t>(kit.cpus())) {
  cpu::Memory& mem = kit.machine().memory();
  for (int c = 0; c < kit.cpus(); ++c) {
    int line = -1;
    for (int i = 0; i < Q::kMaxNodes; ++i) {
      if (i % 2 == 0) line = kit.shared_line();
      const std::string p = "qnode.cpu" + std::to_string(c) + "." + std::to_string(i);
      cpus[static_cast<std::size_t>(c)].nodes[static_cast<std::size_t>(i)] =
          Node{&mem.word(p + ".locked", line), &mem.word(p + ".next", line),
               &mem.word(p + ".cpu", line), &mem.word(p + ".state", line), Q::encode_tail(c, i)};
    }
  }
}

Qspinlock::Qspinlock(LockKit& kit, const std::string& name)
    : Spinlock(name),
      kit_(kit),
      qnodes_(kit.shared<Qnodes>()),
      val_(own_word(kit.machine(), "val")) {}

void Qspinlock::lock(cpu::GuestCpu& cpu) {
  const std::uint64_t val = cpu.cmpxchg(val_, 0, Q::kLocked);
  if (val != 0) slowpath(cpu, val);
}

// queued_spin_unlock: release-store 0 to the locked byte.
void Qspinlock::unlock(cpu::GuestCpu& cpu) {
  cpu.store_field(val_, Q::kLockedMask, 0);
}

bool Qspinlock::trylock(cpu::GuestCpu& cpu) {
  return cpu.load(val_) == 0 && cpu.cmpxchg(val_, 0, Q::kLocked) == 0;
}

// queued_spin_lock_slowpath up to the queue: the pending-bit path of the second contender.
void Qspinlock::slowpath(cpu::GuestCpu& cpu, std::uint64_t val) {
  if (pv()) return queue(cpu);
  if (val == Q::kPending) val = cpu.load(val_);  // a pending -> locked hand-over: one re-read
  if (val & ~Q::kLockedMask) return queue(cpu);
  val = cpu.rmw(val_, [](std::uint64_t v) { return v | Q::kPending; });
  if (val & ~Q::kLockedMask) {
    if (!(val & Q::kPendingMask)) cpu.store_field(val_, Q::kPendingMask, 0);
    return queue(cpu);
  }
  if (val & Q::kLockedMask)
    cpu.wait([&] { return (cpu.load(val_) & Q::kLockedMask) == 0; }, cpu::WaitSpec::spin());
  cpu.store_field(val_, Q::kLockedPendingMask, Q::kLocked);  // clear_pending_set_locked
}

// The MCS queue.
void Qspinlock::queue(cpu::GuestCpu& cpu) {
  Qnodes::PerCpu& mine = qnodes_.cpus[static_cast<std::size_t>(cpu.id())];
  const int idx = mine.count++;
  if (idx >= Q::kMaxNodes) {  // nested deeper than the nodes: spin on trylock
    cpu.wait([&] { return trylock(cpu); }, cpu::WaitSpec::spin());
    --mine.count;
    return;
  }
  Node& node = mine.nodes[static_cast<std::size_t>(idx)];
  const std::uint64_t tail = Q::encode_tail(cpu.id(), idx);
  cpu.store(*node.locked, 0);
  cpu.store(*node.next, 0);
  pv_init_node(cpu, node);
  if (queue_trylock(cpu)) {  // the one steal
    --mine.count;
    return;
  }
  cpu.smp_wmb();
  const std::uint64_t old =
      cpu.rmw(val_, [tail](std::uint64_t v) { return (v & ~Q::kTailMask) | tail; });  // xchg_tail
  std::uint64_t next = 0;
  if (old & Q::kTailMask) {
    Node& prev = qnodes_.by_tail(old & Q::kTailMask);
    cpu.store(*prev.next, tail);
    pv_wait_node(cpu, node, prev);
    cpu.wait([&] { return cpu.load(*node.locked) != 0; }, cpu::WaitSpec::spin());
    next = cpu.load(*node.next);
  }
  // The queue head: wait for the owner and the pending waiter to go.
  std::uint64_t val = pv_wait_head_or_lock(cpu, node);
  if (!val)
    cpu.wait(
        [&] {
          val = cpu.load(val_);
          return (val & Q::kLockedPendingMask) == 0;
        },
        cpu::WaitSpec::spin());
  const bool last = (val & Q::kTailMask) == tail;
  if (!(last && cpu.cmpxchg(val_, val, Q::kLocked) == val)) {
    cpu.store_field(val_, Q::kLockedMask, Q::kLocked);  // set_locked
    if (!next)
      cpu.wait(
          [&] {
            next = cpu.load(*node.next);
            return next != 0;
          },
          cpu::WaitSpec::spin());
    Node& successor = qnodes_.by_tail(next);
    cpu.store(*successor.locked, 1);  // arch_mcs_spin_unlock_contended
    pv_kick_node(cpu, successor);
  }
  --mine.count;
}

}  // namespace vcpusim::guest
