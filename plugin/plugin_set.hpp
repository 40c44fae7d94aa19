// The C plugins of one command (docs/c-guest-code.md) and the registries they extend. A plugin is
// code that runs with the user's rights, so it is loaded only when the command line asks:
// every `--plugin FILE`, and the scenario's "plugins" (relative to the scenario file) only with
// `--allow-plugins` or when `--plugin` names the same file. The registries are the built-in ones
// plus each plugin's locks, workload kinds and metrics and, once any plugin is loaded, the
// guest_assert, preempt_count and data_race checks.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "guest/registries.hpp"
#include "plugin/loaded_plugin.hpp"
#include "plugin/plugin_metrics.hpp"
#include "plugin/source_lines.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::plugin {

class PluginSet {
 public:
  PluginSet();
  // Loads `path` (once: a file already loaded under any name is skipped); ConfigError as
  // LoadedPlugin says, or when a lock's name is already taken.
  void load(const std::string& path);
  const guest::Registries& registries() const { return registries_; }
  const std::vector<std::unique_ptr<LoadedPlugin>>& plugins() const { return plugins_; }

 private:
  guest::Registries registries_;
  std::unique_ptr<SourceLines> lines_;  // names the code of a data race (data_race's locator)
  std::vector<std::unique_ptr<LoadedPlugin>> plugins_;
  std::vector<std::string> real_paths_;
  std::unique_ptr<PluginMetrics> metrics_ = std::make_unique<PluginMetrics>();  // before plugins go
};

// The scenario's "plugins" list (file, raw document), resolved against the scenario's folder;
// empty when it has none. ConfigError when it is not an array of non-empty strings.
std::vector<std::string> scenario_plugins(const sim::Json& raw, const std::string& file);

// The plugins a command loads: `cli` (--plugin, in order), then those the scenario names, which
// need `allow` (--allow-plugins) unless `cli` names the same file; ConfigError otherwise.
std::unique_ptr<PluginSet> load_plugins(const std::vector<std::string>& cli, bool allow,
                                        const std::vector<std::string>& named_by_scenario,
                                        const std::string& scenario_file);

}  // namespace vcpusim::plugin
