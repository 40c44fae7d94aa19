// Running a replay file (explore -o, shrink -o): its scenario checked against the file, its
// schedule steering the run, and the recorded fingerprint compared with the run's.
#pragma once
#include <memory>
#include <string>

#include "plugin/plugin_set.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::tools {

// Loads a replay's scenario, its errors naming their path in the replay file ($.scenario...),
// and checks the schedule against it (Schedule::check_vcpus): sim::ConfigError, never a
// simulation error, for anything wrong in the file. `plugins`: those the replay's run needs
// (tools/run/plugin_options.hpp load_replay_plugins); without them a replay naming plugins is
// refused.
std::unique_ptr<Scenario> replay_scenario(const ReplayFile& r, const std::string& file,
                                          const plugin::PluginSet* plugins = nullptr);
// Loads a replay's scenario and runs it with its schedule.
struct Replayed {
  std::unique_ptr<Scenario> scenario;
  RunResult result;
};
Replayed run_replay(const ReplayFile& r, const std::string& file, RunOptions options = {},
                    const plugin::PluginSet* plugins = nullptr);
// After a complete run of a replay: throws sim::SimError (exit 3) when the run's fingerprint is
// not the recorded one (another vcpusim, or an edited file).
void check_reproduced(const ReplayFile& r, const std::string& file, const RunResult& run);

}  // namespace vcpusim::tools
