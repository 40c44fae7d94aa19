#include "guest/guest_os.hpp"

namespace vcpusim::guest {

GuestOs::GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
                 const sim::CheckSet& checks)
    : machine_(machine),
      params_(params),
      checks_(checks),
      sched_(machine, params.sched.haltpoll.value),
      timekeeping_(machine, params.timekeeping, tk_costs),
      monotonic_(checks.find<sim::MonotonicTimeCheck>(sim::MonotonicTimeCheck::kName)) {
  timekeeping_.install(monotonic_);
  next_tick_ = timekeeping_.tick_period();
  for (int v = 0; v < machine.vcpu_count(); ++v)
    clock_components_.push_back(machine.kernel().components().add(
        "vcpu" + std::to_string(v) + ".clock", "clock", v));  // its clock reads (trace)
  for (int v = 0; v < machine.vcpu_count(); ++v)
    machine.vcpu(v).set_handler(cpu::Vector::kTimer,
                                [this](cpu::GuestCpu& cpu) { timer_interrupt(cpu); });
  for (const auto& w : params.workloads)
    for (std::int64_t v : w->vcpus.value) w->spec().spawn(*this, *w, static_cast<int>(v));
  declare_footprints();
}

void GuestOs::spawn(const WorkloadParams& p, int vcpu, std::function<void(cpu::GuestCpu&)> body,
                    cpu::Footprint footprint) {
  const Task& t =
      sched_.spawn(vcpu, p.kind.value + ".vcpu" + std::to_string(vcpu), std::move(body));
  footprints_.push_back(Declaration{vcpu, t.context, std::move(footprint)});
}

void GuestOs::declare_footprints() {
  for (Declaration& d : footprints_)
    if (sched_.tasks_on(d.vcpu) == 1 && sched_.cond_resched_words(d.vcpu, d.footprint.reads))
      machine_.vcpu(d.vcpu).declare(d.context, &d.footprint);
}

IpiStorm& GuestOs::add_ipi_storm(const WorkloadParams& p) {
  if (!calls_) {
    calls_ =
        std::make_unique<SmpCall>(machine_, params_.smp_call, checks_.enabled(SmpCall::kMisuse));
    machine_.declare_metrics(ledger_.metrics());
  }
  storms_.push_back(std::make_unique<IpiStorm>(*calls_, ledger_, p));
  return *storms_.back();
}

LockTorture& GuestOs::lock_torture() {
  if (!torture_)
    torture_ = std::make_unique<LockTorture>(
        machine_, params_.locks,
        checks_.find<sim::MutualExclusionCheck>(sim::MutualExclusionCheck::kName));
  return *torture_;
}

RcuSystem& GuestOs::rcu_system() {
  if (!rcu_) rcu_ = std::make_unique<RcuSystem>(machine_, sched_, params_, checks_);
  return *rcu_;
}

void GuestOs::spawn(const WorkloadParams& p, int vcpu, std::function<void(cpu::GuestCpu&)> body) {
  sched_.spawn(vcpu, p.kind.value + ".vcpu" + std::to_string(vcpu), std::move(body));
}

void GuestOs::timer_interrupt(cpu::GuestCpu& cpu) {
  if (cpu.id() == timekeeping_.cpu() && cpu.now() >= next_tick_) {
    while (next_tick_ <= cpu.now()) next_tick_ += timekeeping_.tick_period();
    timekeeping_.update_wall_time(cpu);
  }
  sched_.expire_timers(cpu);
}

void GuestOs::spawn_reader(const WorkloadParams& p, int vcpu, ReadClock clock) {
  machine_.declare_metrics(readers_);
  // Its own code reads the clock's seqcount and words and the TSC; its records and the
  // monotonic_time check's samples wait for their turn (order_point, read_loop).
  const bool vdso = clock == ReadClock::kVdso;
  std::vector<const cpu::Word*> words = timekeeping_.reader_words(vdso);
  const cpu::Word* seq = words.front();  // reader_words lists the seqcount first
  spawn(
      p, vcpu, [this, &p, clock](cpu::GuestCpu& cpu) { read_loop(cpu, p, clock); },
      cpu::Footprint{vdso ? "vdso_reader" : "ktime_reader", std::move(words), {}, seq});
}

void GuestOs::read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, ReadClock which) {
  const bool vdso = which == ReadClock::kVdso;
  const char* clock = vdso ? "vdso" : "ktime";
  sim::Samples& all = latency_ns_[clock];
  sim::Samples& mine = reader_latency_ns_[{clock, cpu.id()}];
  std::uint64_t& retries = retries_[clock];
  for (;;) {
    cpu.order_point();  // the check compares this read with every read that ended before it
    const sim::Tick start = cpu.now();
    if (monotonic_) monotonic_->read_started(cpu.id());
    const std::int64_t value =
        vdso ? timekeeping_.vdso_clock_gettime(cpu, retries) : timekeeping_.ktime_get(cpu, retries);
    cpu.order_point();
    const sim::Tick end = cpu.now();
    if (monotonic_) monotonic_->read_finished(cpu.id(), start, end, value, clock);
    const sim::Tick latency = (end - start) / sim::kNanosecond;
    all.add(latency);
    mine.add(latency);
    machine_.kernel().recorder().record(end, clock_components_[static_cast<std::size_t>(cpu.id())],
                                        clock, value, latency);
    if (p.think.value > 0) cpu.compute(p.think.value);
    sched_.cond_resched(cpu);
  }
}

void GuestOs::install_nmi_reader(int v, const WorkloadParams& p) {
  machine_.declare_metrics(readers_);
  cpu::Vcpu& vcpu = machine_.vcpu(v);
  vcpu.set_handler(cpu::Vector::kNmi, [this](cpu::GuestCpu& cpu) { nmi_read(cpu); });
  for (sim::Tick t : p.at)
    machine_.kernel().at(t, sim::Phase::kInterrupt, machine_.vcpu(v).irq_component(),
                         [&vcpu] { vcpu.raise(cpu::Vector::kNmi); });
  if (p.period.value > 0) arm_periodic_nmi(v, p.period.value, p.period.value);
}

void GuestOs::arm_periodic_nmi(int v, sim::Tick when, sim::Tick period) {
  machine_.kernel().at(when, sim::Phase::kInterrupt, machine_.vcpu(v).irq_component(),
                       [this, v, when, period] {
                         machine_.vcpu(v).raise(cpu::Vector::kNmi);
                         arm_periodic_nmi(v, when + period, period);
                       });
}

// The NMI handler's work: one time read (perf and watchdog NMI handlers timestamp their samples).
void GuestOs::nmi_read(cpu::GuestCpu& cpu) {
  const sim::Tick start = cpu.now();
  const std::int64_t value = timekeeping_.nmi_read(cpu, retries_["nmi"]);
  const sim::Tick end = cpu.now();
  ++nmi_reads_;
  const sim::Tick latency = (end - start) / sim::kNanosecond;
  latency_ns_["nmi"].add(latency);
  machine_.kernel().recorder().record(end, clock_components_[static_cast<std::size_t>(cpu.id())],
                                      "nmi.read", value, latency);
}

void GuestOs::collect_metrics(sim::Metrics& out) const {
  for (const auto& [clock, samples] : latency_ns_)
    out.set_summary(readers_.latency_ns, {clock}, samples);
  for (const auto& [reader, samples] : reader_latency_ns_)
    out.set_summary(readers_.reader_latency_ns, {reader.first, std::to_string(reader.second)},
                    samples);
  for (const auto& [clock, n] : retries_) out.set(readers_.retries, {clock}, n);
  timekeeping_.collect_metrics(out);
  if (nmi_reads_ > 0 || retries_.count("nmi")) {
    out.set(readers_.nmi_reads, nmi_reads_);
    out.set(readers_.nmi_shadow_reads, timekeeping_.nmi_safe().shadow_reads());
  }
  sched_.collect_metrics(out);
  if (rcu_) rcu_->collect_metrics(out);
  if (torture_) torture_->collect_metrics(out, machine_.kernel().now());
  if (calls_) {
    ledger_.collect_metrics(out);
    calls_->collect_metrics(out);
  }
}

}  // namespace vcpusim::guest
