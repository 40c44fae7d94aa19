// A whole scenario file, strictly loaded: metadata, host, vm, costs, guest, checks, expect.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cpu/params.hpp"
#include "guest/guest_params.hpp"
#include "guest/timekeeping_params.hpp"
#include "sim/config.hpp"
#include "sim/expect.hpp"

namespace vcpusim::tools {

// A seed is any unsigned 64-bit integer, in the file's "seed" as in --seed, so the resolved
// scenario of every run loads again.
constexpr std::uint64_t kMaxSeed = UINT64_MAX;

// The longest scenario name: it titles summaries, results, traces, VCD headers, reports and sweep
// pages; far beyond any real name, and it keeps every output's header small.
constexpr std::size_t kMaxNameBytes = 256;

// nmi_completes: every NMI handler returns within limits.nmi_max.
constexpr const char* kNmiCompletes = "nmi_completes";

// Checks a scenario can enable, by name.
const std::vector<std::string>& known_checks();

struct Costs : cpu::CostParams {
  Costs() { add_section("timekeeping", timekeeping, "costs of the timekeeping model's steps"); }
  guest::TimekeepingCosts timekeeping;
};

// Scenario section "limits": the bounds of the progress checks.
struct Limits : sim::ParamSet {
  sim::DurationParam hang_after{*this,
                                "hang_after",
                                10 * sim::kMillisecond,
                                sim::kNanosecond,
                                100 * sim::kSecond,
                                "no_hang: longest a CPU may spin in one wait"};
  sim::DurationParam nmi_max{*this,
                             "nmi_max",
                             sim::kMillisecond,
                             sim::kNanosecond,
                             100 * sim::kSecond,
                             "nmi_completes: longest an NMI handler may run (entry to return)"};
  sim::DurationParam lost_wakeup_after{
      *this,
      "lost_wakeup_after",
      50 * sim::kMillisecond,
      sim::kMicrosecond,
      100 * sim::kSecond,
      "no_lost_wakeup: longest a vCPU may stay halted in pv_wait after the condition that "
      "should wake it holds (must exceed a host slice: an unlocker preempted between its "
      "release and its kick delays the kick that long)"};
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
};

class Scenario {
 public:
  // Reads, overrides and validates; throws sim::ConfigError on any bad input.
  static std::unique_ptr<Scenario> load(const std::string& file,
                                        const std::vector<std::string>& overrides = {},
                                        std::optional<std::uint64_t> seed = std::nullopt);
  // The same from a parsed document (sim::parse_json_text); `file` names it in messages.
  static std::unique_ptr<Scenario> from_json(sim::Json raw, const std::string& file,
                                             const std::vector<std::string>& overrides = {},
                                             std::optional<std::uint64_t> seed = std::nullopt);
  // The scenario with every default filled in.
  sim::Json resolved() const;
  // JSON Schema of the scenario format.
  static sim::Json schema();

  std::string file;
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  sim::Tick duration = 0;
  cpu::HostParams host;
  cpu::VmParams vm;
  Costs costs;
  guest::GuestParams guest;
  std::vector<std::string> checks;
  Limits limits;
  sim::Expect expect;
  ExploreParams explore;
  bool has_explore = false;  // echoed in resolved() only when the file has the section
  // explore.vcpus, or every vCPU when it is empty.
  std::vector<int> preemptible_vcpus() const;

 private:
  sim::Json resolved_core() const;
};

}  // namespace vcpusim::tools
