// An MCS lock (Mellor-Crummey & Scott 1991; the kernel's kernel/locking/mcs_spinlock.h), written
// the way a user adds a lock (docs/locks.md): a class against cpu::GuestCpu, its words made
// through the kit, one row in lock_registry.cpp. Each waiter spins on its own per-CPU node, so an
// unlock moves one cacheline to one waiter however many wait.
#include "guest/locks/mcs_lock.hpp"

namespace vcpusim::guest {

McsNodes::McsNodes(LockKit& kit) {
  cpu::Memory& mem = kit.machine().memory();
  for (int c = 0; c < kit.cpus(); ++c) {
    const int line = kit.shared_line();
    const std::string p = "mcs_node.cpu" + std::to_string(c);
    nodes.push_back(Node{&mem.word(p + ".next", line), &mem.word(p + ".locked", line)});
  }
}

McsLock::McsLock(LockKit& kit, const std::string& name)
    : Spinlock(name), nodes_(kit.shared<McsNodes>()), tail_(own_word(kit.machine(), "tail")) {}

// mcs_spin_lock: swap ourselves in as the tail, link behind the old tail, spin on our node.
void McsLock::lock(cpu::GuestCpu& cpu) {
  const std::uint64_t me = static_cast<std::uint64_t>(cpu.id()) + 1;
  McsNodes::Node& node = nodes_.at(cpu.id());
  cpu.store(*node.locked, 0);
  cpu.store(*node.next, 0);
  const std::uint64_t prev = cpu.xchg(tail_, me);
  if (prev == 0) return;
  cpu.store(*nodes_.at(static_cast<int>(prev) - 1).next, me);
  cpu.wait([&] { return cpu.load(*node.locked) != 0; }, cpu::WaitSpec::spin());
}

// mcs_spin_unlock: no successor linked yet and we are still the tail: the lock is free; else
// wait for the successor to link and pass it the lock.
void McsLock::unlock(cpu::GuestCpu& cpu) {
  const std::uint64_t me = static_cast<std::uint64_t>(cpu.id()) + 1;
  McsNodes::Node& node = nodes_.at(cpu.id());
  std::uint64_t next = cpu.load(*node.next);
  if (next == 0) {
    if (cpu.cmpxchg(tail_, me, 0) == me) return;
    cpu.wait(
        [&] {
          next = cpu.load(*node.next);
          return next != 0;
        },
        cpu::WaitSpec::spin());
  }
  cpu.store(*nodes_.at(static_cast<int>(next) - 1).locked, 1);
}

}  // namespace vcpusim::guest
