#include "plugin/c_workload.hpp"

#include <algorithm>
#include <cstring>

#include "guest/guest_os.hpp"
#include "guest/registries.hpp"
#include "plugin/host_api.hpp"
#include "plugin/plugin_run.hpp"

namespace vcpusim::plugin {

namespace {
constexpr std::size_t kMaxWorkloadName = 64;
constexpr std::size_t kMaxParams = 32;

bool valid_name(const char* name, const char* punctuation) {
  if (!name) return false;
  const std::size_t n = std::strlen(name);
  if (n == 0 || n > kMaxWorkloadName) return false;
  return std::all_of(name, name + n, [punctuation](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::strchr(punctuation, c);
  });
}

std::string text(const char* s) {
  return s ? s : "";
}

// The keys every workload entry may already have ("kind", "vcpus", the built-in kinds' keys):
// a plugin parameter may not take one, so a key means one thing in the schema.
bool builtin_key(const std::string& key) {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    const guest::WorkloadParams example(guest::builtin_registries().workloads);
    const sim::Json schema = example.schema();  // kept: items() would outlive a temporary
    for (const auto& item : schema["properties"].items()) out.push_back(item.key());
    return out;
  }();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string param_problem(const std::string& kind, const vcpusim_param& p) {
  const std::string name = text(p.name);
  const std::string what = "workload \"" + kind + "\" parameter \"" + name + "\"";
  if (!valid_name(p.name, "_"))
    return "workload \"" + kind + "\" parameter name \"" + name.substr(0, kMaxWorkloadName) +
           "\"; allowed: 1 to 64 characters of a-z 0-9 _";
  if (builtin_key(name)) return what + " is a built-in workload key; allowed: another name";
  if (p.type != VCPUSIM_PARAM_INT && p.type != VCPUSIM_PARAM_DURATION &&
      p.type != VCPUSIM_PARAM_BOOL)
    return what + " of type " + std::to_string(p.type) +
           "; allowed: VCPUSIM_PARAM_INT, VCPUSIM_PARAM_DURATION or VCPUSIM_PARAM_BOOL";
  if (p.type == VCPUSIM_PARAM_BOOL) {
    if (p.def != 0 && p.def != 1)
      return what + " defaults to " + std::to_string(p.def) + "; allowed: 0 or 1";
    return "";
  }
  if (p.type == VCPUSIM_PARAM_DURATION && (p.min < 0 || p.max > 1000LL * 1000 * 1000 * 1000))
    return what + " ranges over [" + std::to_string(p.min) + ", " + std::to_string(p.max) +
           "] ns; allowed: 0 to 1000 s";
  if (p.min > p.max || p.def < p.min || p.def > p.max)
    return what + " has min " + std::to_string(p.min) + ", max " + std::to_string(p.max) +
           " and default " + std::to_string(p.def) + "; allowed: min <= default <= max";
  return "";
}

guest::KindParam::Type kind_type(int type) {
  switch (type) {
    case VCPUSIM_PARAM_DURATION:
      return guest::KindParam::Type::kDuration;
    case VCPUSIM_PARAM_BOOL:
      return guest::KindParam::Type::kBool;
    default:
      return guest::KindParam::Type::kInt;
  }
}
}  // namespace

std::string workload_problem(const vcpusim_workload_ops& ops) {
  const std::string name = text(ops.name);
  if (!valid_name(ops.name, "_:.-"))
    return "workload name \"" + name.substr(0, kMaxWorkloadName) +
           "\"; allowed: 1 to 64 characters of a-z 0-9 _ : . -";
  if (!ops.run) return "workload \"" + name + "\" without run; allowed: a run function";
  if (ops.param_count > kMaxParams || (ops.param_count > 0 && !ops.params))
    return "workload \"" + name + "\" with " + std::to_string(ops.param_count) +
           " parameters; allowed: 0 to " + std::to_string(kMaxParams) + ", in a params array";
  for (std::size_t i = 0; i < ops.param_count; ++i) {
    const std::string problem = param_problem(name, ops.params[i]);
    if (!problem.empty()) return problem;
    for (std::size_t j = 0; j < i; ++j)
      if (std::strcmp(ops.params[j].name, ops.params[i].name) == 0)
        return "workload \"" + name + "\" parameter \"" + ops.params[i].name +
               "\" declared twice; allowed: one each";
  }
  return "";
}

std::string metric_problem(const vcpusim_metric& metric) {
  if (!valid_name(metric.name, "_."))
    return "metric name \"" + text(metric.name).substr(0, kMaxWorkloadName) +
           "\"; allowed: 1 to 64 characters of a-z 0-9 _ .";
  return "";
}

guest::WorkloadKind c_workload_kind(const LoadedPlugin& plugin, const vcpusim_workload_ops& ops,
                                    const PluginMetrics& metrics) {
  guest::WorkloadKind k;
  k.name = ops.name;
  k.doc = text(ops.doc) + " (C plugin " + plugin.name() + ")";
  for (std::size_t i = 0; i < ops.param_count; ++i) {
    const vcpusim_param& p = ops.params[i];
    guest::KindParam kp;
    kp.name = p.name;
    kp.type = kind_type(p.type);
    kp.unit = p.type == VCPUSIM_PARAM_DURATION ? "ns" : text(p.unit);
    kp.min = p.type == VCPUSIM_PARAM_BOOL ? 0 : p.min;
    kp.max = p.type == VCPUSIM_PARAM_BOOL ? 1 : p.max;
    kp.def = p.def;
    kp.doc = text(p.doc);
    k.params.push_back(std::move(kp));
  }
  const LoadedPlugin* from = &plugin;
  const vcpusim_workload_ops* body = &ops;
  const PluginMetrics* counted = &metrics;
  k.spawn = [from, body, counted](guest::GuestOs& os, const guest::WorkloadParams& p, int v) {
    PluginRun& run = os.machine().attachment<PluginRun>();
    run.set_checks(os.checks());
    run.enter(*from, *counted);
    os.spawn(p, v, [body, &p, &run](cpu::GuestCpu& cpu) {
      {
        CurrentCpu on(cpu);
        body->run(p.own.data());
      }
      int& count = run.preempt_count(cpu.id());
      if (count != 0)
        run.report(cpu, kPreemptCheck,
                   std::string("workload ") + body->name + " returned on vCPU " +
                       std::to_string(cpu.id()) + " with preemption disabled (preempt_count " +
                       std::to_string(count) + "): a preempt_disable without its enable");
      count = 0;
    });
  };
  return k;
}

}  // namespace vcpusim::plugin
