// A whole scenario file, strictly loaded: metadata, host, vm, costs, guest, checks, expect. The
// checks and workload kinds it may name, and the bounds of "limits", come from guest::Registries.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cpu/check_registry.hpp"
#include "cpu/params.hpp"
#include "guest/guest_params.hpp"
#include "guest/registries.hpp"
#include "guest/timekeeping_params.hpp"
#include "sim/checks/expect.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::tools {

// A seed is any unsigned 64-bit integer, in the file's "seed" as in --seed, so the resolved
// scenario of every run loads again.
constexpr std::uint64_t kMaxSeed = UINT64_MAX;

// The longest scenario name: it titles summaries, results, traces, VCD headers, reports and sweep
// pages; far beyond any real name, and it keeps every output's header small.
constexpr std::size_t kMaxNameBytes = 256;

struct Costs : cpu::CostParams {
  Costs() { add_section("timekeeping", timekeeping, "costs of the timekeeping model's steps"); }
  guest::TimekeepingCosts timekeeping;
};

// Scenario section "explore": the host events `vcpusim explore` may add to a schedule (preemption
// points and NMIs), beyond the decisions the scenario's own ranges leave open.
struct ExploreParams : sim::ParamSet {
  sim::IntListParam vcpus{*this, "vcpus", {}, 0, 1023,
                          "vCPUs explore may preempt (default: every vCPU)"};
  sim::IntParam preemptions{*this, "preemptions", 2, 0, 16,
                            "most preemption points one schedule adds"};
  sim::DurationParam length_min{*this,
                                "length_min",
                                sim::kMicrosecond,
                                sim::kNanosecond,
                                100 * sim::kSecond,
                                "shortest preemption explore adds"};
  sim::DurationParam length_max{*this,
                                "length_max",
                                10 * sim::kMillisecond,
                                sim::kNanosecond,
                                100 * sim::kSecond,
                                "longest preemption explore adds"};
  sim::IntListParam nmi_vcpus{*this, "nmi_vcpus", {}, 0, 1023,
                              "vCPUs explore may send an NMI (perf-like; needs an NMI handler)"};
  sim::IntParam nmis{*this, "nmis", 0, 0, 16, "most NMIs one schedule adds"};
  sim::StringListParam targets{
      *this, "targets", {}, 128,
      "windows the window strategy aims at: name patterns (* for any run of characters) "
      "matched against a window's kind, code site and words (default: the windows of the "
      "checks in play, docs/explore.md)"};
};

class Scenario {
 public:
  // `registries`: the checks and workload kinds it may name; they outlive the scenario.
  explicit Scenario(const guest::Registries& registries = guest::builtin_registries())
      : registries(registries) {}
  // Reads, overrides and validates; throws sim::ConfigError on any bad input.
  static std::unique_ptr<Scenario> load(
      const std::string& file, const std::vector<std::string>& overrides = {},
      std::optional<std::uint64_t> seed = std::nullopt,
      const guest::Registries& registries = guest::builtin_registries());
  // The same from a parsed document (sim::parse_json_text); `file` names it in messages.
  static std::unique_ptr<Scenario> from_json(
      sim::Json raw, const std::string& file, const std::vector<std::string>& overrides = {},
      std::optional<std::uint64_t> seed = std::nullopt,
      const guest::Registries& registries = guest::builtin_registries());
  // The scenario with every default filled in.
  sim::Json resolved() const;
  // JSON Schema of the scenario format.
  static sim::Json schema(const guest::Registries& registries = guest::builtin_registries());

  const guest::Registries& registries;
  std::string file;
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  sim::Tick duration = 0;
  cpu::HostParams host;
  cpu::VmParams vm;
  Costs costs;
  guest::GuestParams guest{registries.workloads, registries.locks};
  std::vector<std::string> checks;
  cpu::CheckLimits limits{registries.checks};  // section "limits": the checks' bounds
  sim::Expect expect;
  ExploreParams explore;
  bool has_explore = false;  // echoed in resolved() only when the file has the section
  // "plugins" as written (echoed only when not empty); the command loads them before the
  // scenario, when its command line allows (plugin/plugin_set.hpp).
  std::vector<std::string> plugins;
  // What is legal but likely a mistake, one sentence each (file, JSON path, why): a variant the
  // file selects whose check its explicit "checks" list leaves out. The commands that load a
  // user's file print them on stderr (not a replay's resolved scenario, which sets every key).
  std::vector<std::string> warnings;
  // explore.vcpus, or every vCPU when it is empty.
  std::vector<int> preemptible_vcpus() const;

 private:
  sim::Json resolved_core() const;
};

}  // namespace vcpusim::tools
