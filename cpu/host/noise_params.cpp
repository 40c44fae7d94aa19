#include "cpu/host/noise_params.hpp"

namespace vcpusim::cpu {

NoiseSourceParams::NoiseSourceParams(std::int64_t rate_hz, Arrival arrival_kind, Tick mean,
                                     DurationDist dist, Tick max) {
  rate.value = rate_hz;
  arrival.value = arrival_kind;
  duration.value = mean;
  distribution.value = dist;
  duration_max.value = max;
}

void NoiseSourceParams::validate(const sim::Node& node) const {
  if (distribution.value != DurationDist::kUniform || duration_max.value >= duration.value) return;
  const std::string range = "[" + sim::format_duration(duration.value) + ", " +
                            sim::format_duration(duration_max.value) + "]";
  const char* key = node.has("duration_max") ? "duration_max" : "distribution";
  node.at(key).fail(sim::describe(node.at(key).json()) + " leaves the uniform range " + range +
                        " empty",
                    "duration_max at least duration (" +
                        sim::format_duration(duration.value) + ")");
}

Tick NoiseSourceParams::mean_duration() const {
  if (distribution.value == DurationDist::kUniform)
    return (duration.value + duration_max.value) / 2;
  return duration.value;
}

NoiseParams::NoiseParams() {
  add_section("irq", irq,
              "hard interrupts on every pCPU (the host tick, devices): they take the pCPU from "
              "whatever runs there");
  add_section("softirq", softirq,
              "softirqs on every pCPU: like interrupts, ahead of any thread");
  add_section("kworker", kworker,
              "per-pCPU kworker threads (nice 0, pinned): work items of CPU time");
  add_section("emulator", emulator,
              "rate and work of each of the VM's emulator threads (host.noise.emulator_threads)");
}

void CpuMaxParams::validate(const sim::Node& node) const {
  if (quota.value == 0 || quota.value >= sim::kMillisecond) return;
  node.at("quota").fail(sim::quote(sim::format_duration(quota.value)) + " is below 1ms",
                        "0 (no limit) or at least 1ms (tg_set_cfs_bandwidth refuses less)");
}

}  // namespace vcpusim::cpu
