// Runs a loaded scenario: builds the machine and the guest, runs, evaluates checks and expect.
#pragma once
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "tools/scenario.hpp"

namespace vcpusim::tools {

struct RunResult {
  sim::Json document;  // the result JSON (byte-identical for the same binary, scenario and seed)
  bool expect_met = false;
  std::vector<std::string> unmet;
};

struct RunOptions {
  bool temporal_decoupling = true;  // see sim::Kernel::try_advance
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

// The human summary printed on stdout.
std::string summarize(const Scenario& scenario, const RunResult& result);

}  // namespace vcpusim::tools
