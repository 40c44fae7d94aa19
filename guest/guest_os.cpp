#include "guest/guest_os.hpp"

namespace vcpusim::guest {

GuestOs::GuestOs(cpu::Machine& machine, const GuestParams& params, const TimekeepingCosts& tk_costs,
                 sim::MonotonicTimeCheck* monotonic)
    : machine_(machine),
      timekeeping_(machine, params.timekeeping, tk_costs),
      monotonic_(monotonic) {
  timekeeping_.install(monotonic);
  for (int v = 0; v < machine.vcpu_count(); ++v)
    machine.vcpu(v).set_main([](cpu::GuestCpu& cpu) {
      for (;;) cpu.halt();
    });
  for (const auto& w : params.workloads) {
    const WorkloadParams* p = w.get();
    for (std::int64_t v : p->vcpus.value) {
      std::function<void(cpu::GuestCpu&)> main;
      if (p->kind.value == "busy") {
        main = [p](cpu::GuestCpu& cpu) {
          for (;;) cpu.compute(p->chunk.value);
        };
      } else if (p->kind.value == "vdso_reader" || p->kind.value == "ktime_reader") {
        const bool vdso = p->kind.value == "vdso_reader";
        main = [this, p, vdso](cpu::GuestCpu& cpu) { read_loop(cpu, *p, vdso); };
      } else {
        continue;  // idle: the default above
      }
      machine.vcpu(static_cast<int>(v)).set_main(std::move(main));
    }
  }
}

void GuestOs::read_loop(cpu::GuestCpu& cpu, const WorkloadParams& p, bool vdso) {
  const char* clock = vdso ? "vdso" : "ktime";
  const std::string own = std::string(clock) + ".vcpu" + std::to_string(cpu.id());
  sim::Samples& all = latency_ns_[clock];
  sim::Samples& mine = latency_ns_[own];
  std::uint64_t& retries = retries_[clock];
  for (;;) {
    const sim::Tick start = cpu.now();
    if (monotonic_) monotonic_->read_started(cpu.id());
    const std::int64_t value =
        vdso ? timekeeping_.vdso_clock_gettime(cpu, retries) : timekeeping_.ktime_get(cpu, retries);
    const sim::Tick end = cpu.now();
    if (monotonic_) monotonic_->read_finished(cpu.id(), start, end, value, clock);
    const sim::Tick latency = (end - start) / sim::kNanosecond;
    all.add(latency);
    mine.add(latency);
    machine_.kernel().recorder().record(end, 4000 + cpu.id(), clock, value, latency);
    if (p.think.value > 0) cpu.compute(p.think.value);
  }
}

void GuestOs::collect_metrics(sim::Metrics& out) const {
  for (const auto& [name, samples] : latency_ns_)
    out.set_summary("reader_latency_ns." + name, samples);
  for (const auto& [name, n] : retries_) out.set("seqcount_retries." + name, n);
  out.set("timekeeping.updates", timekeeping_.updates());
  out.set("timekeeping.mult_initial", timekeeping_.initial_mult());
  out.set("timekeeping.mult_final", timekeeping_.current_mult());
}

}  // namespace vcpusim::guest
