#include "guest/rcu_system.hpp"

namespace vcpusim::guest {

RcuSystem::RcuSystem(cpu::Machine& machine, GuestScheduler& sched, const GuestParams& params,
                     const sim::CheckSet& checks)
    : machine_(machine),
      sched_(sched),
      params_(params),
      objects_(machine, sched),
      rcu_(machine, sched, params.rcu) {
  objects_.set_reporting(checks.enabled(GuestObjects::kUseAfterFree));
  rcu_.monitor().set_reporting(checks.enabled(RcuMonitor::kSpansGp),
                               checks.enabled(RcuMonitor::kStall));
}

Srcu& RcuSystem::srcu(int domain) {
  auto& d = domains_[domain];
  if (!d)
    d = std::make_unique<Srcu>(machine_, sched_, params_.rcu, "domain" + std::to_string(domain));
  return *d;
}

MmuNotifierList& RcuSystem::mmu_notifiers() {
  if (!mmu_) {
    if (params_.mmu_notifier.variant.value == MmuNotifierVariant::kSrcu)
      mm_srcu_ = std::make_unique<Srcu>(machine_, sched_, params_.rcu, "mmu_notifier");
    mmu_ = std::make_unique<MmuNotifierList>(machine_, sched_, objects_, rcu_, mm_srcu_.get(),
                                             params_.mmu_notifier);
    // The boot-time notifiers (a KVM VM's own, say), registered by a task that then exits.
    const auto initial = params_.mmu_notifier.initial.value;
    if (initial > 0)
      sched_.spawn(0, "mmu_notifier_boot", [this, initial](cpu::GuestCpu& cpu) {
        for (std::int64_t i = 0; i < initial; ++i) mmu_->register_notifier(cpu);
      });
  }
  return *mmu_;
}

void RcuSystem::collect_metrics(sim::Metrics& out) const {
  rcu_.monitor().collect_metrics(out, machine_.kernel().now());
  for (const auto& [n, d] : domains_) d->collect_metrics(out);
  if (mm_srcu_) mm_srcu_->collect_metrics(out);
  if (mmu_) mmu_->collect_metrics(out);
  objects_.collect_metrics(out);
}

}  // namespace vcpusim::guest
