// What a guest with RCU workloads has: guest objects, RCU with its grace-period kthread, SRCU
// domains (one per `domain` number, plus the mmu notifiers' own), and the mm's notifier list.
// Built on first use, so a scenario without RCU workloads runs exactly as before.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "guest/guest_objects.hpp"
#include "guest/guest_params.hpp"
#include "guest/mmu_notifier.hpp"
#include "guest/rcu.hpp"
#include "guest/srcu.hpp"
#include "sim/checks/check_set.hpp"

namespace vcpusim::guest {

class RcuSystem {
 public:
  // Reports rcu_reader_spans_gp, rcu_stall and use_after_free where `checks` enables them.
  RcuSystem(cpu::Machine& machine, GuestScheduler& sched, const GuestParams& params,
            const sim::CheckSet& checks);
  void collect_metrics(sim::Metrics& out) const;

  Rcu& rcu() { return rcu_; }
  Srcu& srcu(int domain);
  GuestObjects& objects() { return objects_; }
  MmuNotifierList& mmu_notifiers();

 private:
  cpu::Machine& machine_;
  GuestScheduler& sched_;
  const GuestParams& params_;
  GuestObjects objects_;
  Rcu rcu_;
  std::map<int, std::unique_ptr<Srcu>> domains_;
  std::unique_ptr<Srcu> mm_srcu_;
  std::unique_ptr<MmuNotifierList> mmu_;
};

}  // namespace vcpusim::guest
