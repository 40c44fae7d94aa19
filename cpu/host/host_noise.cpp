#include "cpu/host/host_noise.hpp"

#include <algorithm>

namespace vcpusim::cpu {

NoiseThread::NoiseThread(int id, std::string name, std::vector<int> affinity,
                         HostScheduler& scheduler)
    : HostThread(id, Kind::kLoad, std::move(name), std::move(affinity), 0),
      scheduler_(scheduler) {}

void NoiseThread::add_work(Tick work) {
  if (state() == ThreadState::kSleeping) {
    scheduler_.set_work(*this, work);  // before the wake-up, which may dispatch it at once
    scheduler_.wake(*this);
    return;
  }
  scheduler_.set_work(*this, scheduler_.work_left(*this) + work);
}

void NoiseThread::on_work_done() {
  scheduler_.sleep(*this);
}

const char* HostNoise::name(Kind k) {
  switch (k) {
    case Kind::kIrq:
      return "irq";
    case Kind::kSoftirq:
      return "softirq";
    case Kind::kKworker:
      return "kworker";
    case Kind::kEmulator:
      break;
  }
  return "emulator";
}

HostNoise::HostNoise(const NoiseParams& params, sim::Kernel& kernel,
                     HostScheduler& scheduler, sim::DecisionSource& decisions, int first_id)
    : kernel_(kernel),
      scheduler_(scheduler),
      decisions_(decisions),
      irq_until_(static_cast<std::size_t>(scheduler.pcpus()), 0) {
  const int pcpus = scheduler.pcpus();
  int id = first_id;
  std::vector<int> all;
  for (int p = 0; p < pcpus; ++p) {
    all.push_back(p);
    pcpu_component_.push_back(kernel.components().find("pcpu" + std::to_string(p)));
  }
  // Registration order (stable ids): interrupt sources, kworkers, emulator threads.
  for (Kind k : {Kind::kIrq, Kind::kSoftirq}) {
    const NoiseSourceParams& p = k == Kind::kIrq ? params.irq : params.softirq;
    if (p.rate.value == 0) continue;
    for (int c = 0; c < pcpus; ++c) {
      const int comp = kernel.components().add(
          std::string("noise.") + name(k) + ".pcpu" + std::to_string(c), "noise", c);
      sources_.push_back(Source{k, &p, c, comp, nullptr});
    }
  }
  if (params.kworker.rate.value > 0)
    for (int c = 0; c < pcpus; ++c) {
      threads_.push_back(
          std::make_unique<NoiseThread>(id++, "kworker/" + std::to_string(c), std::vector<int>{c},
                                        scheduler));
      scheduler.add(*threads_.back());
      sources_.push_back(Source{Kind::kKworker, &params.kworker, c, threads_.back()->component(),
                                threads_.back().get()});
    }
  if (params.emulator.rate.value > 0)
    for (int i = 0; i < params.emulator_threads.value; ++i) {
      threads_.push_back(
          std::make_unique<NoiseThread>(id++, "emulator" + std::to_string(i), all, scheduler));
      scheduler.add(*threads_.back());
      sources_.push_back(Source{Kind::kEmulator, &params.emulator, -1,
                                threads_.back()->component(), threads_.back().get()});
    }
}

Tick HostNoise::period(const Source& s) const {
  return std::max<Tick>(1, sim::kSecond / s.params->rate.value);
}

void HostNoise::start() {
  for (Source& s : sources_) {
    // A periodic source starts at a phase in [0, period): ticks of different pCPUs are not
    // aligned on a real host either (and explore may align them).
    Tick first = 0;
    if (s.params->arrival.value == Arrival::kPeriodic)
      first = decisions_.choose(0, s.component, "noise.phase", period(s));
    else
      first = decisions_.exponential(0, s.component, "noise.gap", period(s));
    kernel_.at(first, sim::Phase::kHost, s.component, [this, &s] { arrive(s); });
  }
}

void HostNoise::arm(Source& s, Tick from) {
  const Tick gap = s.params->arrival.value == Arrival::kPeriodic
                       ? period(s)
                       : decisions_.exponential(kernel_.now(), s.component, "noise.gap", period(s));
  kernel_.at(from + std::max<Tick>(1, gap), sim::Phase::kHost, s.component,
             [this, &s] { arrive(s); });
}

Tick HostNoise::length(const Source& s) {
  const NoiseSourceParams& p = *s.params;
  switch (p.distribution.value) {
    case DurationDist::kFixed:
      break;
    case DurationDist::kUniform:
      return p.duration.value + decisions_.choose(kernel_.now(), s.component, "noise.length",
                                                  p.duration_max.value - p.duration.value + 1);
    case DurationDist::kExponential:
      return std::max<Tick>(
          1, decisions_.exponential(kernel_.now(), s.component, "noise.length", p.duration.value));
  }
  return p.duration.value;
}

void HostNoise::arrive(Source& s) {
  const Tick now = kernel_.now();
  const Tick len = length(s);
  ++s.events;
  s.time += len;
  if (s.thread) {
    s.thread->add_work(len);
  } else {
    // Interrupts on one pCPU nest or queue; either way the pCPU is taken for the sum.
    Tick& until = irq_until_[static_cast<std::size_t>(s.pcpu)];
    until = std::max(until, now) + len;
    scheduler_.steal(s.pcpu, until);
    kernel_.recorder().record(now, pcpu_component_[static_cast<std::size_t>(s.pcpu)],
                              s.kind == Kind::kIrq ? "noise.irq" : "noise.softirq", until - now);
  }
  arm(s, now);
}

void HostNoise::collect_metrics(sim::Metrics& metrics) const {
  for (Kind k : {Kind::kIrq, Kind::kSoftirq, Kind::kKworker, Kind::kEmulator}) {
    std::uint64_t events = 0;
    Tick time = 0;
    bool any = false;
    for (const Source& s : sources_)
      if (s.kind == k) {
        any = true;
        events += s.events;
        time += s.time;
      }
    if (!any) continue;
    metrics.set(metrics_.events, {name(k)}, events);
    metrics.set(metrics_.ns, {name(k)}, static_cast<std::int64_t>(time / sim::kNanosecond));
  }
}

}  // namespace vcpusim::cpu
