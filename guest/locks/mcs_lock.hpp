// An MCS queue lock: the example of a user-written lock (docs/locks.md).
#pragma once
#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

// One node per CPU, each on its own cacheline, shared by all MCS locks (a CPU waits on one lock
// at a time; interrupt handlers here do not take MCS locks).
struct McsNodes {
  explicit McsNodes(LockKit& kit);
  struct Node {
    cpu::Word* next;  // successor CPU + 1, 0 for none
    cpu::Word* locked;
  };
  std::vector<Node> nodes;
  Node& at(int cpu) { return nodes[static_cast<std::size_t>(cpu)]; }
};

class McsLock final : public Spinlock {
 public:
  McsLock(LockKit& kit, const std::string& name);
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return true; }

 private:
  McsNodes& nodes_;
  cpu::Word& tail_;
};

}  // namespace vcpusim::guest
