// Host noise (host.noise): the housekeeping a real host runs beside the vCPUs. Interrupts and
// softirqs take a pCPU from whatever runs there (HostScheduler::steal: the running vCPU stays
// runnable, so the time shows as its steal); kworkers (one per pCPU, pinned) and the VM's
// emulator threads are nice-0 host threads that need CPU time when work arrives. Every arrival
// and length is a decision of the source's own component, one kernel event per arrival: nothing
// polls, and a disabled source makes no event and no draw. Defaults and sources:
// docs/host-noise.md.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "cpu/host/host_scheduler.hpp"
#include "cpu/host/noise_params.hpp"
#include "sim/core/decision.hpp"
#include "sim/core/kernel.hpp"
#include "sim/record/metric_registry.hpp"

namespace vcpusim::cpu {

// A kworker or an emulator thread: sleeps until work arrives, runs until it is done.
class NoiseThread final : public HostThread {
 public:
  NoiseThread(int id, std::string name, std::vector<int> affinity, HostScheduler& scheduler);
  // A work item of `work` CPU time arrives (queued behind what is left).
  void add_work(Tick work);
  void on_work_done() override;

 private:
  HostScheduler& scheduler_;
};

// Per noise source (the {...} words are HostNoise::name's), emitted for the sources enabled.
struct HostNoiseMetrics : sim::MetricGroup {
  HostNoiseMetrics() : MetricGroup("host noise") {}
  sim::Metric events{*this, "host.noise.{irq,softirq,kworker,emulator}.events", "count",
                     "arrivals of that noise source, over all pCPUs"};
  sim::Metric ns{*this, "host.noise.{irq,softirq,kworker,emulator}.ns", "ns",
                 "CPU time the source's arrivals asked for (the lengths drawn)"};
};

class HostNoise {
 public:
  // Threads take ids from `first_id` on and register after every other host thread.
  HostNoise(const NoiseParams& params, sim::Kernel& kernel, HostScheduler& scheduler,
            sim::DecisionSource& decisions, int first_id);
  HostNoise(const HostNoise&) = delete;
  HostNoise& operator=(const HostNoise&) = delete;
  void start();
  // host.noise.<source>.events and .ns (the lengths drawn), per source.
  void collect_metrics(sim::Metrics& metrics) const;
  const HostNoiseMetrics& metrics() const { return metrics_; }

 private:
  enum class Kind { kIrq, kSoftirq, kKworker, kEmulator };
  struct Source {
    Kind kind;
    const NoiseSourceParams* params;
    int pcpu;              // interrupts and kworkers: the pCPU; emulator threads: -1
    int component;         // whose decisions (the thread's, or a "noise.irq.pcpuN" component)
    NoiseThread* thread;   // thread sources
    std::uint64_t events = 0;
    Tick time = 0;
  };
  static const char* name(Kind k);
  Tick period(const Source& s) const;
  void arm(Source& s, Tick from);
  void arrive(Source& s);
  Tick length(const Source& s);

  sim::Kernel& kernel_;
  HostScheduler& scheduler_;
  sim::DecisionSource& decisions_;
  std::vector<std::unique_ptr<NoiseThread>> threads_;
  std::vector<Source> sources_;
  std::vector<Tick> irq_until_;       // per pCPU: interrupts and softirqs run one after another
  std::vector<int> pcpu_component_;   // per pCPU: where interrupt noise is recorded
  HostNoiseMetrics metrics_;
};

}  // namespace vcpusim::cpu
