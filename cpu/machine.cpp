#include "cpu/machine.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "sim/error.hpp"

namespace vcpusim::cpu {

Machine::Machine(sim::Kernel& kernel, sim::DecisionSource& decisions, const HostParams& host,
                 const VmParams& vm, const CostParams& costs)
    : kernel_(kernel),
      decisions_(decisions),
      costs_(costs),
      tsc_hz_(vm.tsc_frequency.value),
      timer_jitter_(vm.timer_jitter.value),
      posted_(vm.posted_interrupts.value),
      pv_send_ipi_(vm.pv_send_ipi.value),
      scheduler_(kernel, host.scheduler,
                 Topology{static_cast<int>(host.pcpus.value),
                          static_cast<int>(host.threads_per_core.value),
                          static_cast<int>(host.sockets.value)}),
      memory_(costs, Topology{static_cast<int>(host.pcpus.value),
                              static_cast<int>(host.threads_per_core.value),
                              static_cast<int>(host.sockets.value)}),
      hypervisor_(*this, vm, host.vendor.value) {
  scheduler_.set_decisions(&decisions);
  for (int i = 0; i < vm.vcpus.value; ++i) {
    const auto& pins = vm.pinning[static_cast<std::size_t>(i)];
    vcpus_.push_back(std::make_unique<Vcpu>(i, std::vector<int>(pins.begin(), pins.end()),
                                            static_cast<int>(vm.nice.value), *this));
    scheduler_.add(*vcpus_.back());
  }
  hypervisor_.create_steal_time(static_cast<int>(vm.vcpus.value));
  int id = static_cast<int>(vm.vcpus.value);
  for (std::size_t i = 0; i < host.load.size(); ++i) {
    const LoadParams& l = *host.load[i];
    const std::string name = "load" + std::to_string(i);
    if (l.kind.value != LoadKind::kTrace) {
      loads_.push_back(std::make_unique<LoadTask>(id++, name, l, kernel, scheduler_, decisions));
      scheduler_.add(*loads_.back());
      continue;
    }
    // A trace load has a thread per pCPU (loadI, or loadI.K on several), and one more per other
    // nice the recording ran there.
    for (TraceThreadPlan& plan : plan_trace_load(l, name)) {
      trace_loads_.push_back(std::make_unique<TraceLoadThread>(id++, std::move(plan), kernel,
                                                               scheduler_));
      scheduler_.add(*trace_loads_.back());
    }
  }
  // Registered after every other host thread: with both off, nothing here changes a run.
  if (host.noise.enabled.value)
    noise_ = std::make_unique<HostNoise>(host.noise, kernel, scheduler_, decisions, id);
  if (vm.cpu_max.quota.value > 0) {
    std::vector<HostThread*> vcpu_threads;
    for (auto& v : vcpus_) vcpu_threads.push_back(v.get());
    bandwidth_ = std::make_unique<CpuBandwidth>(vm.cpu_max, std::move(vcpu_threads), kernel,
                                                scheduler_,
                                                kernel.components().add("cpu_max", "host"));
  }
  declare_metrics(machine_metrics_);
  declare_metrics(hypervisor_.metrics());
  declare_metrics(apic_.metrics());
  if (noise_) declare_metrics(noise_->metrics());
  if (bandwidth_) declare_metrics(bandwidth_->metrics());
}

void Machine::declare_all_metrics(sim::MetricRegistry& registry) {
  MachineMetrics().declare(registry);
  HypervisorMetrics().declare(registry);
  ApicMetrics().declare(registry);
  HostNoiseMetrics().declare(registry);
  CpuBandwidthMetrics().declare(registry);
}

void Machine::declare_metrics(const sim::MetricGroup& group) {
  for (const sim::MetricGroup* g : metric_groups_)
    if (g->name() == group.name()) return;
  metric_groups_.push_back(&group);
}

Machine::~Machine() = default;

std::uint64_t Machine::tsc_at(Tick t) const {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(t) *
                                    static_cast<unsigned __int128>(tsc_hz_) / sim::kSecond);
}

void Machine::enable_race_detection(const CodeLocator* locator) {
  races_ = std::make_unique<RaceDetector>(vcpu_count(), violations_, locator);
}

Tick Machine::latency(Tick base, Tick jitter, int component, const char* what) {
  if (jitter == 0) return base;
  return base + decisions_.choose(kernel_.now(), component, what, jitter + 1);
}

void Machine::inject(const std::vector<sim::Injection>& injections) {
  for (const sim::Injection& in : injections) {
    if (in.vcpu < 0 || in.vcpu >= vcpu_count())
      throw sim::SimError("injection for vCPU" + std::to_string(in.vcpu) + ": no such vCPU");
    if (in.access > 0) {
      access_stops_ = true;
      vcpu(in.vcpu).stop_at_access(in);
    } else {
      const sim::Injection copy = in;
      kernel_.at(in.at, sim::Phase::kHost, vcpu(in.vcpu).component(), [this, copy] { fire(copy); });
    }
  }
}

void Machine::count_accesses_to(const std::vector<std::string>& names) {
  counted_.clear();
  if (names.empty()) return;
  counted_.assign(memory_.words().size(), false);
  for (const Word& w : memory_.words())
    if (std::binary_search(names.begin(), names.end(), w.name))
      counted_[static_cast<std::size_t>(w.id)] = true;
}

void Machine::fire(const sim::Injection& in) {
  Vcpu& v = vcpu(in.vcpu);
  if (in.kind == sim::Injection::Kind::kNmi) {
    if (observer_) observer_->preempted(in.vcpu);  // interrupted where it was, as a preemption
    v.raise(Vector::kNmi);
    return;
  }
  // The pCPU the vCPU runs on, or would run on next.
  const int pcpu = v.pcpu() >= 0 ? v.pcpu() : v.affinity().front();
  scheduler_.steal(pcpu, kernel_.now() + in.length);
}

void Machine::run(Tick end) {
  for (const Word& w : memory_.words()) kernel_.recorder().label(w.id, w.name);
  for (auto& v : vcpus_) v->start();
  for (auto& l : loads_) l->start();
  for (auto& l : trace_loads_) l->start();
  scheduler_.start();
  if (noise_) noise_->start();
  if (bandwidth_) bandwidth_->start();
  decide_lookahead();
  kernel_.run(end);
  scheduler_.settle_all();
  collect_metrics(kernel_.now());  // end, or where an interrupted run stopped
}

// Lookahead (cpu/vm/footprint.hpp, docs/lookahead.md). A declared task is private when no other
// vCPU's declared task writes a line it lists, or lists a line it writes. Off for the whole run
// where per-access order is observed (explore's observer, access-count injections and hooks) or
// where host accounting is shared across pCPUs (a cpu.max quota pool consumed in settle order).
void Machine::decide_lookahead() {
  if (observer_ || access_stops_ || access_hook_ || !counted_.empty() || bandwidth_)
    kernel_.set_lookahead(false);
  struct Users {
    std::set<int> readers, writers;  // vCPUs whose declared tasks list the line
  };
  std::map<int, Users> lines;
  for (const auto& v : vcpus_)
    for (int c = 0; c < v->contexts(); ++c)
      if (const Footprint* f = v->footprint(c)) {
        if (f->quiet) memory_.tell_writes(const_cast<Word&>(*f->quiet), *v);
        for (const Word* w : f->reads) lines[w->line].readers.insert(v->index());
        for (const Word* w : f->writes) lines[w->line].writers.insert(v->index());
      }
  const auto only = [](const std::set<int>& s, int v) {
    return s.empty() || (s.size() == 1 && *s.begin() == v);
  };
  for (const auto& v : vcpus_)
    for (int c = 0; c < v->contexts(); ++c) {
      const Footprint* f = v->footprint(c);
      bool is_private = f != nullptr;
      if (f) {
        for (const Word* w : f->reads)
          is_private = is_private && only(lines[w->line].writers, v->index());
        for (const Word* w : f->writes) {
          const Users& u = lines[w->line];
          is_private = is_private && only(u.writers, v->index()) && only(u.readers, v->index());
        }
      }
      v->set_private(c, is_private);
    }
}

void Machine::collect_metrics(Tick end) {
  const MachineMetrics& m = machine_metrics_;
  const double span = end > 0 ? static_cast<double>(end) : 1.0;
  for (int c = 0; c < scheduler_.pcpus(); ++c) {
    const std::string p = std::to_string(c);
    const Tick load = scheduler_.busy_time(c, HostThread::Kind::kLoad);
    const Tick vcpu = scheduler_.busy_time(c, HostThread::Kind::kVcpu);
    metrics_.set(m.load_fraction, {p}, static_cast<double>(load) / span);
    metrics_.set(m.vcpu_fraction, {p}, static_cast<double>(vcpu) / span);
  }
  metrics_.set(m.context_switches, scheduler_.context_switches());
  metrics_.set(m.migrations, scheduler_.migrations());
  auto ns = [](Tick t) { return static_cast<std::int64_t>(t / sim::kNanosecond); };
  for (auto& v : vcpus_) {
    const std::string i = std::to_string(v->index());
    metrics_.set(m.steal_ns, {i}, ns(v->steal_time()));
    const std::int64_t run_ns = ns(v->run_time()), user_ns = ns(v->user_time());
    metrics_.set(m.run_ns, {i}, run_ns);
    // Kernel time is the rest of the run time, so that the two sum to run_ns in whole ns too.
    metrics_.set(m.user_ns, {i}, user_ns);
    metrics_.set(m.kernel_ns, {i}, run_ns - user_ns);
    metrics_.set(m.spin_ns, {i}, ns(v->spin_time()));
    metrics_.set(m.halted_ns, {i}, ns(v->halted_time()));
    metrics_.set(m.interrupts, {i}, v->interrupts_taken());
    metrics_.set(m.vcpu_migrations, {i}, v->migrations());
  }
  std::uint64_t fixed_point_waits = 0;
  for (auto& v : vcpus_) fixed_point_waits += v->counters().fixed_point_waits;
  if (fixed_point_waits > 0)
    for (auto& v : vcpus_)
      metrics_.set(m.fixed_point_waits, {std::to_string(v->index())},
                   v->counters().fixed_point_waits);
  std::uint64_t nmis = 0, dropped = 0;
  for (auto& v : vcpus_) {
    nmis += v->nmis_taken();
    dropped += v->nmis_dropped();
  }
  if (nmis > 0) {
    metrics_.set(m.nmis_taken, nmis);
    metrics_.set(m.nmis_dropped, dropped);
    metrics_.set_summary(m.nmi_handler_ns, nmi_handler_ns_);
  }
  if (noise_) noise_->collect_metrics(metrics_);
  if (bandwidth_) bandwidth_->collect_metrics(metrics_);
  apic_.collect_metrics(metrics_);
  hypervisor_.collect_metrics(metrics_);
  for (const auto& a : attachments_) a.second->collect_metrics(metrics_);
  const Coherence& coherence = memory_.coherence();
  metrics_.set(m.cacheline_transfers, coherence.transfers());
  metrics_.set(m.cacheline_invalidations, coherence.invalidations());
  metrics_.set(m.cacheline_queued_ns, ns(coherence.queued()));
  // Events plus operations completed without a context switch: the same in both execution modes.
  metrics_.set(m.steps, kernel_.events_processed() + kernel_.inline_advances());
  metrics_.set(m.decisions, decisions_.count());
}

}  // namespace vcpusim::cpu
