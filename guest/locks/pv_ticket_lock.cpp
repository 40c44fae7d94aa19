#include "guest/locks/pv_ticket_lock.hpp"

#include "guest/locks/ticket_lock.hpp"

namespace vcpusim::guest {

KlockWaiting::KlockWaiting(LockKit& kit) {
  cpu::Memory& mem = kit.machine().memory();
  for (int c = 0; c < kit.cpus(); ++c) {
    const int line = kit.shared_line();
    const std::string p = "klock_waiting.cpu" + std::to_string(c);
    cpus.push_back(PerCpu{&mem.word(p + ".lock", line), &mem.word(p + ".want", line)});
  }
  for (int w = 0; w * 64 < kit.cpus(); ++w)
    mask.push_back(&mem.word("waiting_cpus." + std::to_string(w), kit.shared_line()));
}

PvTicketLock::PvTicketLock(LockKit& kit, const std::string& name)
    : Spinlock(name),
      kit_(kit),
      waiting_(kit.shared<KlockWaiting>()),
      tickets_(own_word(kit.machine(), "tickets")),
      id_(static_cast<std::uint64_t>(tickets_.id) + 1) {}

// arch_spin_lock with CONFIG_PARAVIRT_SPINLOCKS (3.12).
void PvTicketLock::lock(cpu::GuestCpu& cpu) {
  const std::uint64_t old =
      cpu.rmw(tickets_, [](std::uint64_t v) { return Tickets::add_tail(v, kInc); });
  if (Tickets::head(old) == Tickets::tail(old)) return;
  const std::uint64_t want = Tickets::tail(old) & ~kSlowpathFlag;
  auto mine = [&] { return Tickets::head(cpu.load(tickets_)) == want; };
  cpu::WaitSpec spin = cpu::WaitSpec::spin();
  for (;;) {
    spin.budget = kit_.spin_budget();
    if (cpu.wait(mine, spin) == cpu::WakeReason::kCondition) return;
    lock_spinning(cpu, want);
  }
}

// kvm_lock_spinning: publish what we wait for, flag the slow path, re-check, halt.
void PvTicketLock::lock_spinning(cpu::GuestCpu& cpu, std::uint64_t want) {
  if (cpu.in_nmi()) return;
  KlockWaiting::PerCpu& w = waiting_.cpus[static_cast<std::size_t>(cpu.id())];
  const bool irqs_were_on = cpu.local_irq_save();
  cpu.store(*w.want, want);
  cpu.smp_wmb();
  cpu.store(*w.lock, id_);
  const int me = cpu.id();
  cpu.rmw(waiting_.mask_word(me), [me](std::uint64_t m) { return m | KlockWaiting::bit(me); });
  cpu.barrier();
  cpu.rmw(tickets_, [](std::uint64_t v) { return v | (kSlowpathFlag << Tickets::kTailShift); });
  if (Tickets::head(cpu.load(tickets_)) != want) {
    // safe_halt() when the caller had irqs on: an interrupt ends the halt too.
    if (irqs_were_on) cpu.local_irq_restore(true);
    cpu.halt(name(),
             [this, want](cpu::Peek& peek) { return Tickets::head(peek(tickets_)) == want; });
    if (irqs_were_on) cpu.local_irq_save();
  }
  cpu.rmw(waiting_.mask_word(me), [me](std::uint64_t m) { return m & ~KlockWaiting::bit(me); });
  cpu.store(*w.lock, 0);
  cpu.local_irq_restore(irqs_were_on);
}

// arch_spin_unlock (3.12): a locked add on the head, then the slow path if the tail is flagged.
void PvTicketLock::unlock(cpu::GuestCpu& cpu) {
  const std::uint64_t prev = cpu.load(tickets_);
  cpu.rmw(tickets_, [](std::uint64_t v) {
    return (v & ~Tickets::kHeadMask) | ((Tickets::head(v) + kInc) & Tickets::kHeadMask);
  });
  if (!(Tickets::tail(cpu.load(tickets_)) & kSlowpathFlag)) return;
  // __ticket_unlock_slowpath, on the "before" copy: clear the flag if nobody else waits.
  const std::uint64_t old =
      (prev & ~Tickets::kHeadMask) | ((Tickets::head(prev) + kInc) & Tickets::kHeadMask);
  const std::uint64_t next = old & ~(kSlowpathFlag << Tickets::kTailShift);
  if (Tickets::head(next) != Tickets::tail(next) || cpu.cmpxchg(tickets_, old, next) != old)
    unlock_kick(cpu, Tickets::head(old));
}

// kvm_unlock_kick: the waiting CPU whose klock_waiting names this lock and the new head.
void PvTicketLock::unlock_kick(cpu::GuestCpu& cpu, std::uint64_t ticket) {
  for (std::size_t m = 0; m < waiting_.mask.size(); ++m) {
    const std::uint64_t bits = cpu.load(*waiting_.mask[m]);
    for (int b = 0; b < 64; ++b) {
      if (!(bits & (1ULL << b))) continue;
      const int c = static_cast<int>(m) * 64 + b;
      KlockWaiting::PerCpu& w = waiting_.cpus[static_cast<std::size_t>(c)];
      if (cpu.load(*w.lock) == id_ && cpu.load(*w.want) == ticket) {
        cpu.pv_kick(c);
        return;
      }
    }
  }
}

}  // namespace vcpusim::guest
