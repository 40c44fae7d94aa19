// The commands' --plugin / --allow-plugins (docs/c-guest-code.md) and the one rule they share:
// a plugin is code that runs with the user's rights, so what a scenario or a replay file names is
// loaded only with the command line's permission. A replay records each plugin's path and
// content hash; replaying with another build of a plugin is refused.
#pragma once
#include <boost/program_options.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugin/plugin_set.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"

namespace vcpusim::tools {

// Adds --plugin FILE (repeatable), --allow-plugins and --plugin-watchdog T.
void add_plugin_options(boost::program_options::options_description& opts);

// What the command line allows: the --plugin files and --allow-plugins. Reading it also sets
// the watchdog's budget (--plugin-watchdog, plugin/watchdog.hpp); sim::ConfigError when bad.
struct PluginPermission {
  std::vector<std::string> files;
  bool allow = false;
  static PluginPermission of(const boost::program_options::variables_map& vm);
};

struct LoadedScenario {
  std::unique_ptr<plugin::PluginSet> plugins;  // outlives the scenario (its registries)
  std::unique_ptr<Scenario> scenario;
};

// FILE with `sets` applied and the plugins the command line allows; sim::ConfigError when the
// scenario names one it does not allow.
LoadedScenario load_with_plugins(const PluginPermission& permission, const std::string& file,
                                 const std::vector<std::string>& sets,
                                 std::optional<std::uint64_t> seed);

// The plugins a replay's run needs, each loaded from a --plugin file with the recorded content
// hash or, with --allow-plugins, from its recorded path; sim::ConfigError (exit 2) when one is
// not allowed, or when the file found is another build (both hashes named). Extra --plugin
// files load after them.
std::unique_ptr<plugin::PluginSet> load_replay_plugins(const PluginPermission& permission,
                                                       const ReplayFile& replay,
                                                       const std::string& file);

// What a replay records of a command's plugins, in load order.
std::vector<ReplayPlugin> recorded_plugins(const plugin::PluginSet& plugins);

}  // namespace vcpusim::tools
