// Parameters of host noise ("host.noise") and of a VM's CPU bandwidth limit ("vm.cpu_max").
// The defaults and where they come from: docs/host-noise.md.
#pragma once
#include "sim/config/config.hpp"

namespace vcpusim::cpu {

using sim::Tick;

enum class Arrival { kPeriodic, kPoisson };
enum class DurationDist { kFixed, kUniform, kExponential };

// One noise source: events at `rate` per second (per pCPU, or per emulator thread), each lasting
// a duration drawn from `distribution`. Interrupt sources take the pCPU for that long; thread
// sources need that much CPU time.
struct NoiseSourceParams : sim::ParamSet {
  NoiseSourceParams(std::int64_t rate_hz, Arrival arrival_kind, Tick mean, DurationDist dist,
                    Tick max);
  sim::FrequencyParam rate{*this,     "rate", 0, 0, 1000000,
                           "events per second (per pCPU, or per emulator thread); 0: off"};
  sim::EnumParam<Arrival> arrival{
      *this,
      "arrival",
      Arrival::kPoisson,
      {{"periodic", Arrival::kPeriodic}, {"poisson", Arrival::kPoisson}},
      "periodic: every 1/rate from a phase uniform in [0, 1/rate) (a timer tick); poisson: "
      "exponential gaps of mean 1/rate"};
  sim::DurationParam duration{*this,
                              "duration",
                              sim::kMicrosecond,
                              sim::kNanosecond,
                              100 * sim::kMillisecond,
                              "fixed: each event's length; uniform: the shortest; exponential: "
                              "the mean (at least 1ns each)"};
  sim::DurationParam duration_max{*this,
                                  "duration_max",
                                  0,
                                  0,
                                  100 * sim::kMillisecond,
                                  "uniform: the longest length (at least duration)"};
  sim::EnumParam<DurationDist> distribution{*this,
                                            "distribution",
                                            DurationDist::kFixed,
                                            {{"fixed", DurationDist::kFixed},
                                             {"uniform", DurationDist::kUniform},
                                             {"exponential", DurationDist::kExponential}},
                                            "distribution of each event's length"};
  // uniform: duration_max at least duration.
  void validate(const sim::Node& node) const override;
  // The mean length of one event.
  Tick mean_duration() const;
};

struct NoiseParams : sim::ParamSet {
  NoiseParams();
  sim::BoolParam enabled{*this, "enabled", false,
                         "host housekeeping competes with the vCPUs (off: the host runs only "
                         "vCPUs and host.load)"};
  sim::IntParam emulator_threads{
      *this, "emulator_threads", 1, 0, 64,
      "the VMM's emulator / I/O threads of the VM (host threads on any pCPU, nice 0)"};
  // Hard interrupts (the host tick, device interrupts): take the pCPU from whatever runs.
  NoiseSourceParams irq{1000, Arrival::kPeriodic, 1800 * sim::kNanosecond, DurationDist::kUniform,
                        2900 * sim::kNanosecond};
  // Softirqs run after an interrupt, still ahead of any thread.
  NoiseSourceParams softirq{25, Arrival::kPoisson, 10 * sim::kMicrosecond,
                            DurationDist::kExponential, 0};
  // Per-CPU kworkers (bound workqueues): nice-0 threads pinned to their pCPU.
  NoiseSourceParams kworker{10, Arrival::kPoisson, 40 * sim::kMicrosecond,
                            DurationDist::kExponential, 0};
  // Emulator threads are woken by the guest's I/O: no rate without knowing the workload.
  NoiseSourceParams emulator{0, Arrival::kPoisson, 20 * sim::kMicrosecond,
                             DurationDist::kExponential, 0};
};

// cgroup v2 cpu.max "QUOTA PERIOD" of the VM's cgroup (its vCPU threads): at most `quota` of
// CPU time, summed over the vCPUs, per `period`.
struct CpuMaxParams : sim::ParamSet {
  sim::DurationParam quota{*this,
                           "quota",
                           0,
                           0,
                           1000 * sim::kSecond,
                           "CPU time the vCPUs may use per period, summed (cpu.max QUOTA); 0: "
                           "\"max\", no limit; else at least 1ms (the kernel's "
                           "min_cfs_quota_period)"};
  sim::DurationParam period{*this,
                            "period",
                            100 * sim::kMillisecond,
                            sim::kMillisecond,
                            sim::kSecond,
                            "bandwidth period (cpu.max PERIOD), 1ms to 1s as the kernel allows"};
  void validate(const sim::Node& node) const override;
};

}  // namespace vcpusim::cpu
