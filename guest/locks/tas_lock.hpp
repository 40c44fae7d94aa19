// The test-and-set lock virt_spin_lock() falls back to when the host offers no paravirt
// spinlocks (arch/x86/include/asm/qspinlock.h): spin until the word is 0, then cmpxchg it to
// locked. Unfair and queue-less, so a preempted waiter never holds up a free lock.
#pragma once
#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

class TasLock final : public Spinlock {
 public:
  TasLock(LockKit& kit, const std::string& name);
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return false; }

 private:
  cpu::Word& val_;
};

}  // namespace vcpusim::guest
