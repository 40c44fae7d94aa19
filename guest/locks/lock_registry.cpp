#include "guest/locks/lock_registry.hpp"

#include "guest/locks/mcs_lock.hpp"
#include "guest/locks/pv_qspinlock.hpp"
#include "guest/locks/pv_ticket_lock.hpp"
#include "guest/locks/tas_lock.hpp"
#include "guest/locks/ticket_lock.hpp"

namespace vcpusim::guest {

namespace {
template <class L>
std::unique_ptr<Spinlock> make(LockKit& kit, const std::string& name) {
  return std::make_unique<L>(kit, name);
}
}  // namespace

void add_builtin_lock_algorithms(LockRegistry& locks) {
  locks.add({"ticket", "FIFO ticket lock (x86 before 4.2)", make<TicketLock>});
  locks.add({"pvticket",
             "2013 paravirt ticket lock: spin, then record the ticket and halt; unlock kicks",
             make<PvTicketLock>});
  locks.add({"qspinlock", "queued spinlock: locked byte, pending bit, MCS queue", make<Qspinlock>});
  locks.add({"pvqspinlock",
             "paravirt queued spinlock: halting waiters, lock -> node hash, kick at unlock",
             make<PvQspinlock>});
  locks.add({"tas", "test-and-set (virt_spin_lock without pv spinlocks): unfair, no queue",
             make<TasLock>});
  locks.add({"mcs", "MCS queue lock, the user-written example (docs/locks.md)", make<McsLock>});
}

std::string lock_algorithms_doc(const LockRegistry& locks) {
  std::string doc = "the spinlock algorithm of every lock:";
  for (const auto& a : locks.entries()) doc += " " + a.name + ": " + a.doc + ";";
  doc.back() = '.';
  return doc;
}

}  // namespace vcpusim::guest
