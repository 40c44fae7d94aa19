#include "guest/guest_params.hpp"

#include <string>

namespace vcpusim::guest {

void WorkloadParams::load(const sim::Node& node) {
  node.require_object();
  if (!node.has("kind"))
    node.fail("missing key \"kind\"",
              "\"idle\", \"busy\", \"vdso_reader\", \"ktime_reader\", \"ipi_storm\", "
              "\"nmi_time_reader\", \"rcu_reader\", \"rcu_updater\", \"srcu_reader\", "
              "\"srcu_updater\", \"mmu_notifier_torture\" "
              "or \"lock_torture\"");
  kind.load(node.at("kind"));
  std::vector<std::string> allowed = {"kind", "vcpus"};
  if (kind.value == "busy") allowed.push_back("chunk");
  if (kind.value == "vdso_reader" || kind.value == "ktime_reader") allowed.push_back("think");
  if (kind.value == "ipi_storm")
    allowed.insert(allowed.end(),
                   {"targets", "irqs", "wait", "mode", "interval", "count", "work", "chunk", "start"});
  if (kind.value == "nmi_time_reader") allowed.insert(allowed.end(), {"period", "at"});
  for (const std::string& k : rcu_keys()) allowed.push_back(k);
  if (kind.value == "lock_torture")
    allowed.insert(allowed.end(), {"locks", "hold", "hold_dist", "think", "irqs", "count",
                                   "long_hold", "long_hold_every"});
  node.reject_unknown(allowed);
  if (!node.has("vcpus")) node.fail("missing key \"vcpus\"", "a list of vCPU numbers");
  vcpus.load(node.at("vcpus"));
  if (node.has("think")) think.load(node.at("think"));
  if (node.has("chunk")) chunk.load(node.at("chunk"));
  for (sim::ParamBase* p : std::initializer_list<sim::ParamBase*>{
           &targets, &irqs, &wait, &mode, &interval, &count, &work, &start, &period, &section, &sleep,
           &domain, &role, &locks, &hold, &hold_dist, &long_hold, &long_hold_every})
    if (node.has(p->name())) p->load(node.at(p->name()));
  at.clear();
  if (node.has("at")) {
    const sim::Node list = node.at("at");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i)
      at.push_back(list.at(i).as_duration(0, 1000 * sim::kSecond));
  }
  if (kind.value == "ipi_storm" && targets.value.empty())
    node.fail(node.has("targets") ? "\"targets\" is empty" : "missing key \"targets\"",
              "a non-empty list of vCPU numbers");
  // perf's default maximum sample rate is 100 kHz (kernel/events/core.c), so NMIs come at
  // most every 10 us.
  if (kind.value == "nmi_time_reader" && period.value != 0 && period.value < 10 * sim::kMicrosecond)
    node.at("period").fail(sim::quote(sim::format_duration(period.value)) + " is too short",
                           "0 (only the `at` times) or at least 10us");
  if (kind.value == "ipi_storm" && count.value == 0 && interval.value == 0 && work.value == 0)
    node.fail("an endless storm of calls that take no time (count, interval and work are 0)",
              "a \"count\" > 0, or an \"interval\" or \"work\" > 0");
  if (kind.value == "nmi_time_reader" && period.value == 0 && at.empty())
    node.fail("no NMI source", "a \"period\" > 0 and/or a non-empty \"at\" list");
}

std::vector<std::string> WorkloadParams::rcu_keys() const {
  const std::string& k = kind.value;
  if (k == "rcu_reader") return {"section", "interval", "chunk", "count"};
  if (k == "rcu_updater") return {"interval", "chunk", "count", "irqs"};
  if (k == "srcu_reader") return {"domain", "section", "sleep", "interval", "chunk", "count"};
  if (k == "srcu_updater") return {"domain", "interval", "chunk", "count"};
  if (k == "mmu_notifier_torture") return {"role", "interval", "chunk", "count"};
  return {};
}

sim::Json WorkloadParams::to_json() const {
  sim::Json out = {{"kind", kind.value}, {"vcpus", vcpus.value}};
  if (kind.value == "busy" || kind.value == "ipi_storm") out["chunk"] = chunk.to_json();
  if (kind.value == "vdso_reader" || kind.value == "ktime_reader") out["think"] = think.to_json();
  if (kind.value == "ipi_storm")
    for (const sim::ParamBase* p : std::initializer_list<const sim::ParamBase*>{
             &targets, &irqs, &wait, &mode, &interval, &count, &work})
      out[p->name()] = p->to_json();
  // Only when set, so the resolved form of the existing storms stays as it was.
  if (kind.value == "ipi_storm" && start.value != 0) out["start"] = start.to_json();
  for (const std::string& k : rcu_keys())
    for (const sim::ParamBase* p : std::initializer_list<const sim::ParamBase*>{
             &chunk, &interval, &count, &irqs, &section, &sleep, &domain, &role})
      if (p->name() == k) out[k] = p->to_json();
  if (kind.value == "lock_torture")
    for (const sim::ParamBase* p : std::initializer_list<const sim::ParamBase*>{
             &locks, &hold, &hold_dist, &think, &irqs, &count, &long_hold, &long_hold_every})
      out[p->name()] = p->to_json();
  if (kind.value == "nmi_time_reader") {
    out["period"] = period.to_json();
    out["at"] = sim::Json::array();
    for (sim::Tick t : at) out["at"].push_back(sim::format_duration(t));
  }
  return out;
}

sim::Json WorkloadParams::schema() const {
  sim::Json s = ParamSet::schema();
  s["properties"]["at"] = {{"type", "array"},
                           {"description", "nmi_time_reader: times at which an NMI is raised"},
                           {"items", {{"type", "string"}}}};
  s["required"] = {"kind", "vcpus"};
  return s;
}

void GuestParams::load_from(const sim::Node& node, std::int64_t vcpus) {
  sim::Json rest = node.json();
  if (rest.is_object()) rest.erase("workloads");
  ParamSet::load(sim::Node(rest, node.file(), node.path()));
  if (timekeeping.cpu.value >= vcpus)
    node.at("timekeeping")
        .at("cpu")
        .fail(std::to_string(timekeeping.cpu.value) + " is not a vCPU of this VM",
              "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
  if (rcu.gp_cpu.value >= vcpus)
    node.at("rcu").at("gp_cpu").fail(
        std::to_string(rcu.gp_cpu.value) + " is not a vCPU of this VM",
        "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
  workloads.clear();
  if (!node.has("workloads")) return;
  const sim::Node list = node.at("workloads");
  list.require_array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto w = std::make_unique<WorkloadParams>();
    w->load(list.at(i));
    for (std::size_t k = 0; k < w->vcpus.value.size(); ++k) {
      const std::int64_t v = w->vcpus.value[k];
      const sim::Node where = list.at(i).at("vcpus").at(k);
      if (v >= vcpus)
        where.fail(
            std::to_string(v) + " is not a vCPU of this VM",
            "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
    }
    for (std::size_t k = 0; k < w->targets.value.size(); ++k)
      if (w->targets.value[k] >= vcpus)
        list.at(i).at("targets").at(k).fail(
            std::to_string(w->targets.value[k]) + " is not a vCPU of this VM",
            "0 to " + std::to_string(vcpus - 1) + " (vm.vcpus is " + std::to_string(vcpus) + ")");
    // The RCU model keeps the CPUs a grace period waits for in one 64-bit rcu_node mask.
    if (!w->rcu_keys().empty() && vcpus > 64)
      list.at(i).at("kind").fail(sim::quote(w->kind.value) + " needs the RCU model, which " +
                                     "supports up to 64 vCPUs (vm.vcpus is " +
                                     std::to_string(vcpus) + ")",
                                 "a VM of at most 64 vCPUs for RCU workloads");
    for (std::size_t k = 0; k < w->locks.value.size(); ++k)
      if (w->locks.value[k] >= locks.count.value)
        list.at(i).at("locks").at(k).fail(
            std::to_string(w->locks.value[k]) + " is not a lock of this guest",
            "0 to " + std::to_string(locks.count.value - 1) + " (guest.locks.count is " +
                std::to_string(locks.count.value) + ")");
    workloads.push_back(std::move(w));
  }
}

sim::Json GuestParams::to_json() const {
  sim::Json out = ParamSet::to_json();
  out["workloads"] = sim::Json::array();
  for (const auto& w : workloads) out["workloads"].push_back(w->to_json());
  return out;
}

sim::Json GuestParams::schema() const {
  sim::Json s = ParamSet::schema();
  WorkloadParams example;
  s["properties"]["workloads"] = {{"type", "array"},
                                  {"description", "workloads; a vCPU without one idles"},
                                  {"items", example.schema()}};
  return s;
}

}  // namespace vcpusim::guest
