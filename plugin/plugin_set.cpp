#include "plugin/plugin_set.hpp"

#include <climits>
#include <cstdlib>

#include "plugin/c_lock.hpp"
#include "cpu/machine.hpp"
#include "plugin/c_workload.hpp"
#include "plugin/host_api.hpp"
#include "plugin/plugin_run.hpp"
#include "sim/error.hpp"

namespace vcpusim::plugin {

namespace {
// The file's canonical path ("" when it does not exist: LoadedPlugin then says so).
std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}
}  // namespace

PluginSet::PluginSet()
    : registries_(guest::builtin_registries()), lines_(std::make_unique<SourceLines>()) {}

void PluginSet::load(const std::string& path) {
  const std::string real = real_path(path);
  if (!real.empty() &&
      std::find(real_paths_.begin(), real_paths_.end(), real) != real_paths_.end())
    return;
  auto p = std::make_unique<LoadedPlugin>(path);
  if (plugins_.empty())
    registries_.checks.add({kAssertCheck,
                            "no assertion of C guest code fails (BUG_ON, WARN_ON, "
                            "VCPUSIM_ASSERT: docs/c-guest-code.md)",
                            {},
                            {}});
  if (plugins_.empty()) {
    const SourceLines* lines = lines_.get();
    registries_.checks.add(
        {cpu::RaceDetector::kCheck,
         "no data race in C guest code built with `vcpusim cc --instrument`: two vCPUs' "
         "accesses to a byte, one a write and one plain, unordered by happens-before "
         "(docs/c-guest-code.md \"Data races\")",
         {},
         [lines](cpu::Machine& m, sim::CheckSet&) { m.enable_race_detection(lines); }});
  }
  if (plugins_.empty())
    registries_.checks.add({kPreemptCheck,
                            "C guest code keeps preempt_disable / preempt_enable balanced and "
                            "calls no might_sleep with preemption or interrupts disabled",
                            {},
                            {}});
  for (const vcpusim_lock_ops* ops : p->locks()) {
    if (registries_.locks.find(ops->name))
      throw sim::ConfigError("plugin " + path + ": lock \"" + ops->name +
                             "\" is already a lock kind; allowed: a new name (e.g. \"c:" +
                             ops->name + "\")");
    const LoadedPlugin* plugin = p.get();
    registries_.locks.add(
        {ops->name, std::string(ops->doc ? ops->doc : "") + " (C plugin " + p->name() + ")",
         [plugin, ops, metrics = metrics_.get()](guest::LockKit& kit, const std::string& name) {
           return std::make_unique<CLock>(kit, name, *plugin, *ops, *metrics);
         }});
  }
  for (const vcpusim_workload_ops* ops : p->workloads()) {
    if (registries_.workloads.find(ops->name))
      throw sim::ConfigError(
          "plugin " + path + ": workload \"" + ops->name +
          "\" is already a workload kind; allowed: a new name (e.g. \"c:" + ops->name + "\")");
    registries_.workloads.add(c_workload_kind(*p, *ops, *metrics_));
  }
  for (const vcpusim_metric* m : p->metrics()) {
    if (registries_.metrics.find(m->name))
      throw sim::ConfigError("plugin " + path + ": metric \"" + m->name +
                             "\" is already a metric; allowed: a new name");
    metrics_->add(*m);
    registries_.metrics.add({m->name, m->unit ? m->unit : "", m->doc ? m->doc : "",
                             sim::MetricShape::kNumber, metrics_->name()});
  }
  real_paths_.push_back(real);
  plugins_.push_back(std::move(p));
}

std::vector<std::string> scenario_plugins(const sim::Json& raw, const std::string& file) {
  std::vector<std::string> out;
  if (!raw.is_object() || !raw.contains("plugins")) return out;
  const sim::Node root(raw, file, "$");
  const sim::Node list = root.at("plugins");
  list.require_array();
  const std::size_t slash = file.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : file.substr(0, slash + 1);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = list.at(i).as_string();
    if (p.empty()) list.at(i).fail("\"\"", "the path of a shared object");
    out.push_back(p.front() == '/' ? p : dir + p);
  }
  return out;
}

std::unique_ptr<PluginSet> load_plugins(const std::vector<std::string>& cli, bool allow,
                                        const std::vector<std::string>& named_by_scenario,
                                        const std::string& scenario_file) {
  auto set = std::make_unique<PluginSet>();
  std::vector<std::string> cli_real;
  for (const auto& p : cli) cli_real.push_back(real_path(p));
  for (const auto& p : named_by_scenario) {
    const std::string real = real_path(p);
    const bool given = !real.empty() && std::find(cli_real.begin(), cli_real.end(), real) !=
                                            cli_real.end();
    if (!allow && !given)
      throw sim::ConfigError(
          scenario_file + ": $.plugins names plugin " + p +
          ", which is code that would run with your rights; allowed: load it by giving "
          "--allow-plugins (every plugin the scenario names) or --plugin " + p);
  }
  for (const auto& p : cli) set->load(p);
  for (const auto& p : named_by_scenario) set->load(p);
  return set;
}

}  // namespace vcpusim::plugin
