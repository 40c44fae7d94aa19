// The 2013 paravirt ticket lock (arch/x86/include/asm/spinlock.h and arch/x86/kernel/kvm.c of
// Linux 3.12): tickets advance by 2 and bit 0 of the tail is TICKET_SLOWPATH_FLAG. A waiter spins
// SPIN_THRESHOLD loops, then records the ticket it wants in its per-CPU klock_waiting, sets the
// slow-path flag, re-checks and halts; an unlocker that sees the flag kicks the vCPU whose
// recorded ticket is the new head.
#pragma once
#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

// Per-CPU klock_waiting {lock, want} and the waiting_cpus mask, shared by all pv ticket locks.
struct KlockWaiting {
  explicit KlockWaiting(LockKit& kit);
  struct PerCpu {
    cpu::Word* lock;  // lock id + 1, 0 when not waiting
    cpu::Word* want;
  };
  std::vector<PerCpu> cpus;
  std::vector<cpu::Word*> mask;  // waiting_cpus, 64 CPUs per word
  cpu::Word& mask_word(int cpu) { return *mask[static_cast<std::size_t>(cpu / 64)]; }
  static std::uint64_t bit(int cpu) { return 1ULL << (cpu % 64); }
};

class PvTicketLock final : public Spinlock {
 public:
  PvTicketLock(LockKit& kit, const std::string& name);
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return true; }

  static constexpr std::uint64_t kInc = 2;
  static constexpr std::uint64_t kSlowpathFlag = 1;  // in the tail

 private:
  void lock_spinning(cpu::GuestCpu& cpu, std::uint64_t want);
  void unlock_kick(cpu::GuestCpu& cpu, std::uint64_t ticket);

  LockKit& kit_;
  KlockWaiting& waiting_;
  cpu::Word& tickets_;
  std::uint64_t id_;  // what klock_waiting.lock holds for this lock
};

}  // namespace vcpusim::guest
