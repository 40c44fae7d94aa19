// The simulated host and VM: pCPUs, the host scheduler, load tasks, vCPUs and guest memory,
// built from the scenario's host/vm/costs sections. Guest models attach to it.
#pragma once
#include <functional>
#include <memory>
#include <typeindex>
#include <utility>
#include <vector>

#include "cpu/ftrace/trace_load.hpp"
#include "cpu/host/cpu_bandwidth.hpp"
#include "cpu/host/host_noise.hpp"
#include "cpu/host/host_scheduler.hpp"
#include "cpu/host/load_task.hpp"
#include "cpu/params.hpp"
#include "cpu/run_observer.hpp"
#include "cpu/vm/apic.hpp"
#include "cpu/vm/ccode/race_detector.hpp"
#include "cpu/vm/guest_api.hpp"
#include "cpu/vm/hypervisor.hpp"
#include "cpu/vm/memory.hpp"
#include "cpu/vm/vcpu.hpp"
#include "sim/checks/checks.hpp"
#include "sim/checks/deadline_check.hpp"
#include "sim/checks/lock_checks.hpp"
#include "sim/checks/wait_graph.hpp"
#include "sim/core/decision.hpp"
#include "sim/core/kernel.hpp"
#include "sim/record/metric_registry.hpp"
#include "sim/record/metrics.hpp"

namespace vcpusim::cpu {

// Per-run state of a layer above (a C plugin's arena and counters, plugin/): made on first use
// from the machine, kept as long as the machine, and asked for its metrics after the run.
class MachineAttachment {
 public:
  virtual ~MachineAttachment() = default;
  virtual void collect_metrics(sim::Metrics& out) const {}
};

// What the machine itself counts: the host scheduler, each vCPU, NMIs, memory and the kernel.
struct MachineMetrics : sim::MetricGroup {
  MachineMetrics() : MetricGroup("machine") {}
  sim::Metric load_fraction{*this, "host.pcpu<N>.load_fraction", "fraction",
                            "share of the run that pCPU spent running host load tasks"};
  sim::Metric vcpu_fraction{*this, "host.pcpu<N>.vcpu_fraction", "fraction",
                            "share of the run that pCPU spent running vCPU threads"};
  sim::Metric context_switches{*this, "host.context_switches", "count",
                               "host scheduler context switches, over all pCPUs"};
  sim::Metric migrations{*this, "host.migrations", "count",
                         "host threads moved to another pCPU (load balancing, placement)"};
  sim::Metric steal_ns{*this, "vcpu<N>.steal_ns", "ns",
                       "time that vCPU was runnable but not running (steal time)"};
  sim::Metric run_ns{*this, "vcpu<N>.run_ns", "ns", "time that vCPU's thread ran on a pCPU"};
  sim::Metric user_ns{*this, "vcpu<N>.user_ns", "ns",
                      "of run_ns, the time that vCPU ran guest code in user mode"};
  sim::Metric kernel_ns{*this, "vcpu<N>.kernel_ns", "ns",
                        "of run_ns, the time in kernel mode (run_ns - user_ns)"};
  sim::Metric spin_ns{*this, "vcpu<N>.spin_ns", "ns", "time that vCPU spent spinning (spin_until)"};
  sim::Metric halted_ns{*this, "vcpu<N>.halted_ns", "ns", "time that vCPU spent halted (HLT)"};
  sim::Metric interrupts{*this, "vcpu<N>.interrupts", "count",
                         "interrupt handlers that vCPU ran (IPIs, NMIs, the tick)"};
  sim::Metric vcpu_migrations{*this, "vcpu<N>.migrations", "count",
                              "times that vCPU's thread moved to another pCPU"};
  sim::Metric fixed_point_waits{
      *this, "vcpu<N>.fixed_point_waits", "count",
      "plain loops of instrumented C code found at a fixed point and waited out as a spin "
      "(docs/c-guest-code.md; only when one was)"};
  sim::Metric nmis_taken{*this, "nmi.taken", "count",
                         "NMIs whose handler ran, over all vCPUs (only when one was)"};
  sim::Metric nmis_dropped{*this, "nmi.dropped", "count",
                           "NMIs dropped while one was already pending (only when one was taken)"};
  sim::Metric nmi_handler_ns{*this, "nmi.handler_ns", "ns",
                             "NMI handler durations, entry to exit (only when one was taken)",
                             sim::MetricShape::kSummary};
  sim::Metric cacheline_transfers{*this, "memory.cacheline_transfers", "count",
                                  "cacheline transfers between cores (the coherence model)"};
  sim::Metric cacheline_invalidations{*this, "memory.cacheline_invalidations", "count",
                                      "cacheline copies invalidated by a write"};
  sim::Metric cacheline_queued_ns{*this, "memory.cacheline_queued_ns", "ns",
                                  "time requests waited for a line's owner to answer others"};
  sim::Metric steps{*this, "sim.steps", "count",
                    "kernel events plus guest operations advanced inline (the --max-steps unit)"};
  sim::Metric decisions{*this, "sim.decisions", "count",
                        "host choices drawn from the decision source"};
};

class Machine {
 public:
  Machine(sim::Kernel& kernel, sim::DecisionSource& decisions, const HostParams& host,
          const VmParams& vm, const CostParams& costs);
  ~Machine();
  // Every metric the machine and its host-side components can emit, in listing order.
  static void declare_all_metrics(sim::MetricRegistry& registry);

  sim::Kernel& kernel() { return kernel_; }
  HostScheduler& scheduler() { return scheduler_; }
  Memory& memory() { return memory_; }
  const CostParams& costs() const { return costs_; }
  sim::DecisionSource& decisions() { return decisions_; }
  sim::Metrics& metrics() { return metrics_; }
  sim::Violations& violations() { return violations_; }

  int vcpu_count() const { return static_cast<int>(vcpus_.size()); }
  Vcpu& vcpu(int i) { return *vcpus_.at(static_cast<std::size_t>(i)); }
  std::int64_t tsc_frequency() const { return tsc_hz_; }
  Tick timer_jitter() const { return timer_jitter_; }
  bool posted_interrupts() const { return posted_; }
  bool pv_send_ipi() const { return pv_send_ipi_; }
  Apic& apic() { return apic_; }
  Hypervisor& hypervisor() { return hypervisor_; }
  // The metric groups of the components this run has, the machine's first, then in the order
  // they declared themselves: what `vcpusim metrics SCENARIO` lists. A guest model declares its
  // group when it is built; a group name already declared (one per SRCU domain) is kept once.
  void declare_metrics(const sim::MetricGroup& group);
  const std::vector<const sim::MetricGroup*>& metric_groups() const { return metric_groups_; }

  // The attachment of type T (a MachineAttachment), made as T(*this, args...) on first use.
  template <class T, class... Args>
  T& attachment(Args&&... args) {
    if (T* t = find_attachment<T>()) return *t;
    attachments_.emplace_back(typeid(T), std::make_unique<T>(*this, std::forward<Args>(args)...));
    return static_cast<T&>(*attachments_.back().second);
  }
  template <class T>
  T* find_attachment() {
    for (auto& [type, a] : attachments_)
      if (type == typeid(T)) return static_cast<T*>(a.get());
    return nullptr;
  }

  // Optional checks (null when the scenario does not enable them).
  void set_wait_graph(sim::WaitGraph* g) { waits_ = g; }
  sim::WaitGraph* wait_graph() { return waits_; }
  void set_nmi_check(sim::DeadlineCheck* c) { nmi_check_ = c; }
  sim::DeadlineCheck* nmi_check() { return nmi_check_; }
  void set_lost_wakeup_check(sim::LostWakeupCheck* c) { lost_wakeup_ = c; }
  // The data_race check (cpu/vm/ccode/race_detector.hpp), created by its CheckSpec when enabled;
  // `locator` names C code addresses in its messages (may be null).
  void enable_race_detection(const CodeLocator* locator);
  RaceDetector* races() { return races_.get(); }
  sim::LostWakeupCheck* lost_wakeup_check() { return lost_wakeup_; }
  // An NMI handler returned after `duration` (entry to exit).
  void nmi_handled(Tick duration) { nmi_handler_ns_.add(duration / sim::kNanosecond); }
  // A host latency of `base` plus, when `jitter` is set, a decision in [0, jitter] by `component`.
  Tick latency(Tick base, Tick jitter, int component, const char* what);
  // Adds a schedule's host events (explore's preemption points, injected NMIs); before run().
  void inject(const std::vector<sim::Injection>& injections);
  // Injections placed by access count only accesses to these words (by name; empty: every
  // word). Explore counts the words more than one vCPU touched: where interleavings happen.
  void count_accesses_to(const std::vector<std::string>& names);
  bool counted(const Word& w) const {
    return counted_.empty() || (static_cast<std::size_t>(w.id) < counted_.size() &&
                                counted_[static_cast<std::size_t>(w.id)]);
  }
  // Fired by a vCPU as it starts an access it was asked to stop at (Vcpu::on_access).
  void fire(const sim::Injection& injection);
  // Told of every guest access, declared window and preemption (explore; cpu/run_observer.hpp);
  // nullptr to remove. Never part of the model: it must not change what happens.
  void set_observer(RunObserver* observer) { observer_ = observer; }
  // Called as a vCPU starts an access Vcpu::hook_at_access() named (explore's fork server forks
  // there); never part of the model.
  using AccessHook = std::function<void(int vcpu, std::uint64_t access)>;
  void set_access_hook(AccessHook hook) { access_hook_ = std::move(hook); }
  const AccessHook& access_hook() const { return access_hook_; }
  RunObserver* observer() const { return observer_; }
  // Lookahead (cpu/vm/footprint.hpp): check every guest access and host request of a declared
  // task against its footprint (run --verify-footprints); off by default.
  void set_verify_footprints(bool on) { verify_footprints_ = on; }
  bool verify_footprints() const { return verify_footprints_; }
  // TSC value at simulated time t: floor(t * f / 1 s).
  std::uint64_t tsc_at(Tick t) const;

  // Starts vCPUs and load tasks, runs to `end`, then fills the host metrics.
  void run(Tick end);

 private:
  void collect_metrics(Tick end);
  void decide_lookahead();
  bool verify_footprints_ = false;
  bool access_stops_ = false;  // injections placed by access count

  sim::Kernel& kernel_;
  sim::DecisionSource& decisions_;
  const CostParams& costs_;
  std::int64_t tsc_hz_;
  Tick timer_jitter_;
  bool posted_;
  bool pv_send_ipi_;
  HostScheduler scheduler_;
  Memory memory_;
  // In creation order; before vcpus_, so they outlive the vCPUs' stacks.
  std::vector<std::pair<std::type_index, std::unique_ptr<MachineAttachment>>> attachments_;
  sim::Metrics metrics_;
  sim::Violations violations_;
  std::vector<std::unique_ptr<Vcpu>> vcpus_;
  std::vector<std::unique_ptr<LoadTask>> loads_;
  std::vector<std::unique_ptr<TraceLoadThread>> trace_loads_;  // one per pCPU of a trace load
  std::unique_ptr<HostNoise> noise_;          // host.noise.enabled
  std::unique_ptr<CpuBandwidth> bandwidth_;   // vm.cpu_max.quota set
  Apic apic_{*this};
  Hypervisor hypervisor_;
  sim::WaitGraph* waits_ = nullptr;
  sim::DeadlineCheck* nmi_check_ = nullptr;
  sim::LostWakeupCheck* lost_wakeup_ = nullptr;
  std::unique_ptr<RaceDetector> races_;
  sim::Samples nmi_handler_ns_;
  MachineMetrics machine_metrics_;
  std::vector<const sim::MetricGroup*> metric_groups_;
  RunObserver* observer_ = nullptr;
  AccessHook access_hook_;
  std::vector<bool> counted_;  // by word id; empty: every word counts
};

}  // namespace vcpusim::cpu
