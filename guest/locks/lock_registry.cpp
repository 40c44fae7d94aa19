#include "guest/locks/lock_registry.hpp"

#include "guest/locks/mcs_lock.hpp"
#include "guest/locks/pv_qspinlock.hpp"
#include "guest/locks/pv_ticket_lock.hpp"
#include "guest/locks/tas_lock.hpp"
#include "guest/locks/ticket_lock.hpp"
#include "sim/error.hpp"

namespace vcpusim::guest {

namespace {
template <class L>
std::unique_ptr<Spinlock> make(LockKit& kit, const std::string& name) {
  return std::make_unique<L>(kit, name);
}
}  // namespace

const std::vector<LockAlgorithm>& lock_algorithms() {
  static const std::vector<LockAlgorithm> table = {
      {"ticket", "FIFO ticket lock (x86 before 4.2)", make<TicketLock>},
      {"pvticket", "2013 paravirt ticket lock: spin, then record the ticket and halt; unlock kicks",
       make<PvTicketLock>},
      {"qspinlock", "queued spinlock: locked byte, pending bit, MCS queue", make<Qspinlock>},
      {"pvqspinlock",
       "paravirt queued spinlock: halting waiters, lock -> node hash, kick at unlock",
       make<PvQspinlock>},
      {"tas", "test-and-set (virt_spin_lock without pv spinlocks): unfair, no queue",
       make<TasLock>},
      {"mcs", "MCS queue lock, the user-written example (docs/locks.md)", make<McsLock>},
  };
  return table;
}

std::vector<std::string> lock_algorithm_names() {
  std::vector<std::string> names;
  for (const auto& a : lock_algorithms()) names.emplace_back(a.name);
  return names;
}

std::string lock_algorithms_doc() {
  std::string doc = "the spinlock algorithm of every lock:";
  for (const auto& a : lock_algorithms()) doc += std::string(" ") + a.name + ": " + a.doc + ";";
  doc.back() = '.';
  return doc;
}

std::unique_ptr<Spinlock> make_lock(LockKit& kit, const std::string& kind,
                                    const std::string& name) {
  for (const auto& a : lock_algorithms())
    if (kind == a.name) return a.make(kit, name);
  throw sim::SimError("unknown lock kind " + kind);
}

}  // namespace vcpusim::guest
