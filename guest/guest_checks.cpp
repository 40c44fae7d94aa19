#include "guest/guest_checks.hpp"

#include "cpu/machine.hpp"
#include "guest/guest_objects.hpp"
#include "guest/locks/pv_qspinlock.hpp"
#include "guest/rcu_monitor.hpp"
#include "guest/smp_call.hpp"

namespace vcpusim::guest {
namespace {

cpu::CheckSpec declare_check(const char* name, std::string doc) {
  cpu::CheckSpec c;
  c.name = name;
  c.doc = std::move(doc);
  return c;
}

// Per-reader episode counts and the reads behind, next to the violations.
void monotonic_metrics(const sim::MonotonicTimeCheck& monotonic, const MonotonicTimeMetrics& m,
                       sim::Metrics& metrics) {
  metrics.set(m.reads, monotonic.reads());
  metrics.set(m.backward_reads, monotonic.backward_reads());
  nlohmann::json by_reader = nlohmann::json::object();
  const auto& episodes = monotonic.episodes_by_reader();
  for (std::size_t cpu = 0; cpu < episodes.size(); ++cpu)
    if (episodes[cpu] > 0) by_reader["vCPU" + std::to_string(cpu)] = episodes[cpu];
  metrics.set(m.episodes_by_reader, by_reader);
}

}  // namespace

cpu::CheckSpec monotonic_time_check() {
  cpu::CheckSpec c =
      declare_check(sim::MonotonicTimeCheck::kName,
                    "vDSO and ktime reads never go backwards, per reader and across vCPUs "
                    "in real-time order (one violation per backward episode)");
  c.attach = [](cpu::Machine& m, sim::CheckSet& run) {
    const auto& monotonic = run.keep(sim::MonotonicTimeCheck::kName,
                                     std::make_unique<sim::MonotonicTimeCheck>(m.violations()));
    // The declarations live with the checker, for the run.
    const auto& declared = run.keep(std::string(sim::MonotonicTimeCheck::kName) + ".metrics",
                                    std::make_unique<MonotonicTimeMetrics>());
    m.declare_metrics(declared);
    run.add_metrics([&monotonic, &declared](sim::Metrics& out) {
      monotonic_metrics(monotonic, declared, out);
    });
  };
  return c;
}

// SmpCall reports it when CheckSet::enabled says so.
cpu::CheckSpec api_misuse_check() {
  return declare_check(SmpCall::kMisuse,
                       "no cross-CPU call with irqs disabled (reported by the "
                       "assert-irqs-enabled variant, which refuses the call)");
}

// The RCU monitor and guest objects report these when CheckSet::enabled says so.
cpu::CheckSpec rcu_reader_spans_gp_check() {
  return declare_check(
      RcuMonitor::kSpansGp,
      "no grace period ends while a read-side section that began before it is still "
      "open");
}

cpu::CheckSpec rcu_stall_check() {
  return declare_check(RcuMonitor::kStall, "no grace period lasts longer than rcu.stall_timeout");
}

cpu::CheckSpec use_after_free_check() {
  return declare_check(GuestObjects::kUseAfterFree, "no access to a freed guest object");
}

cpu::CheckSpec mutual_exclusion_check() {
  cpu::CheckSpec c = declare_check(sim::MutualExclusionCheck::kName,
                                   "no lock is acquired while another CPU holds it");
  c.attach = [](cpu::Machine& m, sim::CheckSet& run) {
    run.keep(sim::MutualExclusionCheck::kName,
             std::make_unique<sim::MutualExclusionCheck>(m.violations()));
  };
  return c;
}

// The pvqspinlock reports it whether or not it is enabled (the kernel BUG()s there); enabling
// it lists its count.
cpu::CheckSpec hash_lookup_check() {
  return declare_check(PvQspinlock::kHashLookup,
                       "a pvqspinlock unlock finds a valid locked byte and, on _Q_SLOW_VAL, the "
                       "halted head in the lock hash (reported even when not enabled)");
}

}  // namespace vcpusim::guest
