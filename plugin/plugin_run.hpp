// What C guest code keeps per run (a cpu::MachineAttachment, so the host API finds it from the
// vCPU running the code): the plugins whose globals this run registered, the per-CPU areas,
// each vCPU's preemption count, the guest allocations (and which were freed), the plugins'
// metric values and the trace names. Everything is made in simulated-time order and named by
// order of first use, never by host address, so a run is the same wherever things land.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "plugin/loaded_plugin.hpp"
#include "plugin/plugin_metrics.hpp"
#include "sim/checks/check_set.hpp"

namespace vcpusim::plugin {

// The checks C guest code reports beside guest_assert and use_after_free.
constexpr const char* kPreemptCheck = "preempt_count";

class PluginRun final : public cpu::MachineAttachment {
 public:
  explicit PluginRun(cpu::Machine& machine);
  ~PluginRun() override;
  PluginRun(const PluginRun&) = delete;
  PluginRun& operator=(const PluginRun&) = delete;

  // The run's state of the vCPU's machine (made on first use).
  static PluginRun& of(cpu::GuestCpu& cpu) { return cpu.machine().attachment<PluginRun>(); }

  // Before `plugin`'s code first runs: resets and registers its globals (once per run) and
  // declares the plugins' metrics.
  void enter(const LoadedPlugin& plugin, const PluginMetrics& metrics);
  // The scenario's checks (a workload's spawn has them); until then every violation is kept.
  void set_checks(const sim::CheckSet& checks) { checks_ = &checks; }
  // Reports a violation of `check` on `cpu` now (when the scenario enabled it).
  void report(cpu::GuestCpu& cpu, const char* check, const std::string& message);

  void* per_cpu_ptr(cpu::GuestCpu& cpu, const void* start, const void* stop, const void* var,
                    int target);
  int& preempt_count(int vcpu);
  void* alloc(std::size_t bytes);
  void free(cpu::GuestCpu& cpu, const void* p, const char* file, int line);
  // Before a guest access of `size` bytes at `p`: use_after_free when it is in a freed object.
  void check_access(cpu::GuestCpu& cpu, const void* p, int size, const char* what) {
    if (!objects_.empty()) check_object(cpu, p, size, what);
  }
  void metric_add(const vcpusim_metric* metric, std::int64_t delta);
  // The trace label id of `text` (interned: the same text, the same id).
  std::int64_t label(const char* text);

  void collect_metrics(sim::Metrics& out) const override;

 private:
  struct Object {
    void* start;
    std::size_t bytes;
    std::string name;
    bool live = true;
    std::string freed_by;  // "vCPU0 at 1.2ms (file.c:12)"
  };
  struct PerCpu {
    std::vector<void*> areas;  // one per vCPU
    std::size_t bytes;
  };
  void check_object(cpu::GuestCpu& cpu, const void* p, int size, const char* what);

  cpu::Machine& machine_;
  const sim::CheckSet* checks_ = nullptr;
  const PluginMetrics* metrics_ = nullptr;
  std::vector<std::int64_t> metric_values_;
  std::vector<const LoadedPlugin*> entered_;
  std::map<const void*, PerCpu> per_cpu_;  // by section start: looked up, never iterated
  std::vector<int> preempt_;
  std::vector<Object> objects_;                     // allocation order
  std::map<std::uintptr_t, std::size_t> by_start_;  // lookup only
  std::map<std::string, std::int64_t> labels_;      // lookup only
};

}  // namespace vcpusim::plugin
