// The queued spinlock (kernel/locking/qspinlock.c): one word with a locked byte, a pending bit
// and an MCS tail (CPU + 1 and the nesting index of its per-CPU node). Uncontended: cmpxchg
// 0 -> locked. The second contender sets pending and spins on the locked byte; later ones queue
// on their own per-CPU node, link behind the previous tail and spin on their node; the queue head
// waits for locked and pending to clear, takes the lock and hands the head on. One steal: a
// trylock after the node is set up. The paravirt hooks (pv_*) are empty here; PvQspinlock fills
// them in.
#pragma once
#include <array>

#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

struct QspinlockVal {
  static constexpr std::uint64_t kLockedMask = 0xff;
  static constexpr std::uint64_t kLocked = 1;
  static constexpr std::uint64_t kSlow = 3;  // _Q_SLOW_VAL: a pv waiter halted, unlock must kick
  static constexpr std::uint64_t kPendingMask = 0xff00;
  static constexpr std::uint64_t kPending = 0x100;
  static constexpr std::uint64_t kLockedPendingMask = 0xffff;
  static constexpr int kTailShift = 16;
  static constexpr std::uint64_t kTailMask = 0xffffffffULL << kTailShift;
  static constexpr int kMaxNodes = 4;  // task, softirq, hardirq, NMI
  static std::uint64_t encode_tail(int cpu, int idx) {
    return ((static_cast<std::uint64_t>(cpu) + 1) << (kTailShift + 2)) |
           (static_cast<std::uint64_t>(idx) << kTailShift);
  }
  static int tail_cpu(std::uint64_t v) { return static_cast<int>((v >> (kTailShift + 2))) - 1; }
  static int tail_idx(std::uint64_t v) { return static_cast<int>((v >> kTailShift) & 3); }
};

// The per-CPU qnodes: struct mcs_spinlock plus the pv fields, two nodes per cacheline.
struct Qnodes {
  explicit Qnodes(LockKit& kit);
  struct Node {
    cpu::Word* locked;
    cpu::Word* next;         // the successor's tail code, 0 for none
    cpu::Word* cpu;          // pv_node.cpu
    cpu::Word* state;        // pv_node.state
    std::uint64_t tail = 0;  // its tail code: how the lock word and the pv hash name it
  };
  struct PerCpu {
    int count = 0;  // nesting depth: a per-CPU variable only its own CPU touches
    std::array<Node, QspinlockVal::kMaxNodes> nodes;
  };
  std::vector<PerCpu> cpus;
  Node& by_tail(std::uint64_t tail) {
    return cpus[static_cast<std::size_t>(QspinlockVal::tail_cpu(tail))]
        .nodes[static_cast<std::size_t>(QspinlockVal::tail_idx(tail))];
  }
};

class Qspinlock : public Spinlock {
 public:
  Qspinlock(LockKit& kit, const std::string& name);
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return true; }

 protected:
  using Node = Qnodes::Node;
  virtual bool pv() const { return false; }
  virtual void pv_init_node(cpu::GuestCpu&, Node&) {}
  virtual void pv_wait_node(cpu::GuestCpu&, Node&, Node&) {}
  virtual void pv_kick_node(cpu::GuestCpu&, Node&) {}
  // Returns the lock word when it took the lock itself, else 0.
  virtual std::uint64_t pv_wait_head_or_lock(cpu::GuestCpu&, Node&) { return 0; }
  bool trylock(cpu::GuestCpu& cpu);
  // The trylock once the node is set up (queued_spin_trylock in queue()); pv eras replace it.
  virtual bool queue_trylock(cpu::GuestCpu& cpu) { return trylock(cpu); }

  LockKit& kit_;
  Qnodes& qnodes_;
  cpu::Word& val_;

 private:
  void slowpath(cpu::GuestCpu& cpu, std::uint64_t val);
  void queue(cpu::GuestCpu& cpu);
};

}  // namespace vcpusim::guest
