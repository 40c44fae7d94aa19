// The metrics C plugins register (struct vcpusim_metric): one sim::MetricGroup, "C plugins",
// holding a declaration per registered metric in load order, so they are emitted, listed and
// bounded like a built-in model's.
#pragma once
#include <memory>
#include <vector>

#include "sim/record/metric_registry.hpp"
#define VCPUSIM_HOST 1  // the ABI's types, not a plugin's definitions
#include "include/vcpusim/guest.h"

namespace vcpusim::plugin {

class PluginMetrics final : public sim::MetricGroup {
 public:
  PluginMetrics() : MetricGroup("C plugins") {}
  // Declares `spec` (its strings stay valid: the plugin stays loaded).
  void add(const vcpusim_metric& spec) {
    specs_.push_back(&spec);
    declared_.push_back(std::make_unique<sim::Metric>(*this, spec.name, spec.unit, spec.doc));
  }
  // The index of a registered metric; -1 when `spec` was not registered.
  int index(const vcpusim_metric* spec) const {
    for (std::size_t i = 0; i < specs_.size(); ++i)
      if (specs_[i] == spec) return static_cast<int>(i);
    return -1;
  }
  std::size_t size() const { return specs_.size(); }
  const sim::Metric& metric(std::size_t i) const { return *declared_[i]; }

 private:
  std::vector<const vcpusim_metric*> specs_;
  std::vector<std::unique_ptr<sim::Metric>> declared_;
};

}  // namespace vcpusim::plugin
