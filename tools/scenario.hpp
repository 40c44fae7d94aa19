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

// Checks a scenario can enable, by name.
const std::vector<std::string>& known_checks();

struct Costs : cpu::CostParams {
  Costs() { add_section("timekeeping", timekeeping, "costs of the timekeeping model's steps"); }
  guest::TimekeepingCosts timekeeping;
};

class Scenario {
 public:
  // Reads, overrides and validates; throws sim::ConfigError on any bad input.
  static std::unique_ptr<Scenario> load(const std::string& file,
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
  sim::Expect expect;
};

}  // namespace vcpusim::tools
