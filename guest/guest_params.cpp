#include "guest/guest_params.hpp"

#include <string>

namespace vcpusim::guest {

void WorkloadParams::load(const sim::Node& node) {
  node.require_object();
  if (!node.has("kind"))
    node.fail("missing key \"kind\"", "\"idle\", \"busy\", \"vdso_reader\" or \"ktime_reader\"");
  kind.load(node.at("kind"));
  std::vector<std::string> allowed = {"kind", "vcpus"};
  if (kind.value == "busy") allowed.push_back("chunk");
  if (kind.value == "vdso_reader" || kind.value == "ktime_reader") allowed.push_back("think");
  node.reject_unknown(allowed);
  if (!node.has("vcpus")) node.fail("missing key \"vcpus\"", "a list of vCPU numbers");
  vcpus.load(node.at("vcpus"));
  if (node.has("think")) think.load(node.at("think"));
  if (node.has("chunk")) chunk.load(node.at("chunk"));
}

sim::Json WorkloadParams::to_json() const {
  sim::Json out = {{"kind", kind.value}, {"vcpus", vcpus.value}};
  if (kind.value == "busy") out["chunk"] = chunk.to_json();
  if (kind.value == "vdso_reader" || kind.value == "ktime_reader") out["think"] = think.to_json();
  return out;
}

sim::Json WorkloadParams::schema() const {
  sim::Json s = ParamSet::schema();
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
  workloads.clear();
  if (!node.has("workloads")) return;
  const sim::Node list = node.at("workloads");
  list.require_array();
  std::vector<int> owner(static_cast<std::size_t>(vcpus), -1);
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
      if (owner[static_cast<std::size_t>(v)] >= 0)
        where.fail("vCPU " + std::to_string(v) + " already runs workloads[" +
                       std::to_string(owner[static_cast<std::size_t>(v)]) + "]",
                   "one workload per vCPU");
      owner[static_cast<std::size_t>(v)] = static_cast<int>(i);
    }
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
