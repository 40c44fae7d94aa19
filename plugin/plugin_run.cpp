#include "plugin/plugin_run.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "sim/error.hpp"

namespace vcpusim::plugin {

namespace {
constexpr std::size_t kRunLine = cpu::Memory::kLineBytes;
constexpr std::size_t kMaxAlloc = 1 << 20;
// Trace label ids of C notes and spans: above every word id (a word's id labels its name).
constexpr std::int64_t kLabelBase = std::int64_t{1} << 40;

std::size_t whole_lines(std::size_t bytes) {
  return (bytes + kRunLine - 1) / kRunLine * kRunLine;
}

// Zeroed, line-aligned memory that vcpusim owns.
void* line_alloc(std::size_t bytes) {
  void* p = std::aligned_alloc(kRunLine, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return p;
}

// The file name of the shared object holding `p` ("plugin" when none is found).
std::string object_file(const void* p) {
  Dl_info info{};
  if (::dladdr(p, &info) == 0 || !info.dli_fname) return "plugin";
  const std::string f = info.dli_fname;
  const std::size_t slash = f.rfind('/');
  return slash == std::string::npos ? f : f.substr(slash + 1);
}

std::string at(cpu::GuestCpu& cpu) {
  return "vCPU " + std::to_string(cpu.id()) + " at " + sim::format_time(cpu.now());
}
}  // namespace

PluginRun::PluginRun(cpu::Machine& machine)
    : machine_(machine), preempt_(static_cast<std::size_t>(machine.vcpu_count()), 0) {}

PluginRun::~PluginRun() {
  for (Object& o : objects_) std::free(o.start);
  for (auto& entry : per_cpu_)
    for (void* a : entry.second.areas) std::free(a);
}

void PluginRun::enter(const LoadedPlugin& plugin, const PluginMetrics& metrics) {
  if (!metrics_) {
    metrics_ = &metrics;
    metric_values_.assign(metrics.size(), 0);
    if (metrics.size() > 0) machine_.declare_metrics(metrics);
  }
  for (const LoadedPlugin* p : entered_)
    if (p == &plugin) return;
  plugin.enter_run(machine_.memory());
  entered_.push_back(&plugin);
}

void PluginRun::report(cpu::GuestCpu& cpu, const char* check, const std::string& message) {
  if (checks_ && !checks_->enabled(check)) return;
  sim::Violation v;
  v.check = check;
  v.time = cpu.now();
  v.cpus = {cpu.id()};
  v.message = message;
  cpu.violations().report(std::move(v));
}

void* PluginRun::per_cpu_ptr(cpu::GuestCpu& cpu, const void* start, const void* stop,
                             const void* var, int target) {
  const auto* s = static_cast<const char*>(start);
  const auto* e = static_cast<const char*>(stop);
  const auto* v = static_cast<const char*>(var);
  if (!s || e <= s || v < s || v >= e)
    throw sim::ConfigError("guest code on " + at(cpu) +
                           ": per_cpu_ptr of an address outside the plugin's per-CPU section; "
                           "allowed: a variable defined with DEFINE_PER_CPU");
  if (target < 0 || target >= machine_.vcpu_count())
    throw sim::ConfigError("guest code on " + at(cpu) + ": per_cpu_ptr for vCPU " +
                           std::to_string(target) + "; allowed: 0 to " +
                           std::to_string(machine_.vcpu_count() - 1));
  auto it = per_cpu_.find(start);
  if (it == per_cpu_.end()) {
    // Each vCPU's copy in an area of its own (as the kernel's per-CPU chunks), its lines named
    // after the plugin and the vCPU: made at first use, from the section as init left it.
    PerCpu areas;
    areas.bytes = whole_lines(static_cast<std::size_t>(e - s));
    const std::string file = object_file(start);
    for (int c = 0; c < machine_.vcpu_count(); ++c) {
      void* a = line_alloc(areas.bytes);
      std::memcpy(a, s, static_cast<std::size_t>(e - s));
      machine_.memory().add_region(file + ".percpu" + std::to_string(c), a, areas.bytes);
      areas.areas.push_back(a);
    }
    it = per_cpu_.emplace(start, std::move(areas)).first;
  }
  return static_cast<char*>(it->second.areas[static_cast<std::size_t>(target)]) + (v - s);
}

int& PluginRun::preempt_count(int vcpu) {
  return preempt_.at(static_cast<std::size_t>(vcpu));
}

void* PluginRun::alloc(std::size_t bytes) {
  if (bytes == 0 || bytes > kMaxAlloc) return nullptr;
  const std::size_t whole = whole_lines(bytes);
  void* p = line_alloc(whole);
  Object o{p, whole, "kmalloc" + std::to_string(objects_.size()), true, {}};
  machine_.memory().add_region(o.name, p, whole);
  by_start_[reinterpret_cast<std::uintptr_t>(p)] = objects_.size();
  objects_.push_back(std::move(o));
  return p;
}

void PluginRun::free(cpu::GuestCpu& cpu, const void* p, const char* file, int line) {
  if (!p) return;  // kfree(NULL) does nothing
  const auto it = by_start_.find(reinterpret_cast<std::uintptr_t>(p));
  const std::string where = std::string(file ? file : "?") + ":" + std::to_string(line);
  if (it == by_start_.end())
    throw sim::ConfigError("guest code on " + at(cpu) + ": kfree at " + where +
                           " of an address kmalloc did not return; allowed: a pointer from "
                           "kmalloc, or NULL");
  Object& o = objects_[it->second];
  if (!o.live) {
    report(cpu, "use_after_free",
           "vCPU" + std::to_string(cpu.id()) + " freed " + o.name + " again at " + where +
               " (double free); it was freed by " + o.freed_by);
    return;
  }
  o.live = false;
  o.freed_by = at(cpu) + " (" + where + ")";
}

void PluginRun::check_object(cpu::GuestCpu& cpu, const void* p, int size, const char* what) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  auto it = by_start_.upper_bound(a);
  if (it == by_start_.begin()) return;
  --it;
  const Object& o = objects_[it->second];
  if (o.live || a >= it->first + o.bytes) return;
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%zx", static_cast<std::size_t>(a - it->first));
  report(cpu, "use_after_free",
         "vCPU" + std::to_string(cpu.id()) + " " + what + " of " + std::to_string(size) +
             " bytes at " + o.name + offset + ", an object freed by " + o.freed_by);
}

void PluginRun::metric_add(const vcpusim_metric* metric, std::int64_t delta) {
  const int i = metrics_ ? metrics_->index(metric) : -1;
  if (i < 0)
    throw sim::ConfigError(
        std::string("plugin: metric_add of ") +
        (metric && metric->name ? "\"" + std::string(metric->name) + "\"" : "a metric") +
        ", which was not registered; allowed: a metric registered with "
        "register_metric in vcpusim_plugin_init");
  metric_values_[static_cast<std::size_t>(i)] += delta;
}

std::int64_t PluginRun::label(const char* text) {
  const std::string t = text ? text : "(null)";
  const auto it = labels_.find(t);
  if (it != labels_.end()) return it->second;
  const std::int64_t id = kLabelBase + static_cast<std::int64_t>(labels_.size());
  labels_.emplace(t, id);
  machine_.kernel().recorder().label(id, t);
  return id;
}

void PluginRun::collect_metrics(sim::Metrics& out) const {
  if (!metrics_) return;
  for (std::size_t i = 0; i < metric_values_.size(); ++i)
    out.set(metrics_->metric(i), metric_values_[i]);
}

}  // namespace vcpusim::plugin
