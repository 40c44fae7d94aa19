// The ticket spinlock (arch/x86/include/asm/spinlock.h before 4.2): head and tail tickets in one
// word, take a ticket with xadd on the tail, spin until the head reaches it; unlock increments
// the head. Strictly FIFO, so a preempted next-in-line waiter stalls a free lock.
#pragma once
#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

// Field layout shared with the paravirt ticket lock: head in bits 0-15, tail in bits 16-31.
struct Tickets {
  static constexpr std::uint64_t kHeadMask = 0xffff;
  static constexpr int kTailShift = 16;
  static std::uint64_t head(std::uint64_t v) { return v & kHeadMask; }
  static std::uint64_t tail(std::uint64_t v) { return (v >> kTailShift) & kHeadMask; }
  // The word after adding `inc` to the tail, wrapping within its 16 bits.
  static std::uint64_t add_tail(std::uint64_t v, std::uint64_t inc) {
    return (v & kHeadMask) | (((tail(v) + inc) & kHeadMask) << kTailShift);
  }
};

class TicketLock final : public Spinlock {
 public:
  TicketLock(LockKit& kit, const std::string& name);
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return true; }

 private:
  cpu::Word& tickets_;
  std::uint64_t owner_ = 0;  // the holder's ticket (the holder's own knowledge)
};

}  // namespace vcpusim::guest
