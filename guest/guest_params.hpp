// Scenario section "guest": the kernel models and the workload on each vCPU.
#pragma once
#include <memory>
#include <vector>

#include "guest/timekeeping_params.hpp"
#include "sim/config.hpp"

namespace vcpusim::guest {

struct WorkloadParams : sim::ParamSet {
  sim::EnumParam kind{*this,
                      "kind",
                      "idle",
                      {"idle", "busy", "vdso_reader", "ktime_reader"},
                      "idle: halt until an interrupt, forever; busy: compute in chunks; "
                      "vdso_reader: clock_gettime through the vDSO in a loop; ktime_reader: "
                      "kernel ktime_get through tk_core's seqcount in a loop"};
  sim::IntListParam vcpus{*this, "vcpus", {}, 0, 1023, "vCPUs running this workload"};
  sim::DurationParam think{*this, "think",      100 * sim::kNanosecond,
                           0,     sim::kSecond, "readers: computation between two reads"};
  sim::DurationParam chunk{*this,
                           "chunk",
                           100 * sim::kNanosecond,
                           sim::kNanosecond,
                           sim::kMillisecond,
                           "busy: length of one computation step"};
  void load(const sim::Node& node) override;
  sim::Json to_json() const override;
  sim::Json schema() const override;
};

struct GuestParams : sim::ParamSet {
  GuestParams() { add_section("timekeeping", timekeeping, "timekeeping and vDSO model"); }
  TimekeepingParams timekeeping;
  std::vector<std::unique_ptr<WorkloadParams>> workloads;
  void load_from(const sim::Node& node, std::int64_t vcpus);
  sim::Json to_json() const override;
  sim::Json schema() const override;
};

}  // namespace vcpusim::guest
