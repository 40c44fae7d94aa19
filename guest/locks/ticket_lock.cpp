#include "guest/locks/ticket_lock.hpp"

namespace vcpusim::guest {

TicketLock::TicketLock(LockKit& kit, const std::string& name)
    : Spinlock(name), tickets_(own_word(kit.machine(), "tickets")) {}

void TicketLock::lock(cpu::GuestCpu& cpu) {
  const std::uint64_t old =
      cpu.rmw(tickets_, [](std::uint64_t v) { return Tickets::add_tail(v, 1); });
  const std::uint64_t me = Tickets::tail(old);
  if (Tickets::head(old) != me)
    cpu.wait([&] { return Tickets::head(cpu.load(tickets_)) == me; }, cpu::WaitSpec::spin());
  owner_ = me;
}

// __ticket_spin_unlock: a plain increment of the head, written by the holder only.
void TicketLock::unlock(cpu::GuestCpu& cpu) {
  cpu.store_field(tickets_, Tickets::kHeadMask, (owner_ + 1) & Tickets::kHeadMask);
}

}  // namespace vcpusim::guest
