#include "tools/run/plugin_options.hpp"

#include <algorithm>

#include "plugin/watchdog.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "sim/time.hpp"

namespace po = boost::program_options;

namespace vcpusim::tools {

void add_plugin_options(po::options_description& opts) {
  opts.add_options()("plugin", po::value<std::vector<std::string>>()->composing(),
                     "load this C guest-code plugin (a shared object: code that runs with your "
                     "rights; its memory model is sequentially consistent); repeatable")(
      "allow-plugins",
      "also load the plugins the scenario's \"plugins\" list (or the replay file) names")(
      "plugin-watchdog", boost::program_options::value<std::string>(),
      "host time plugin code may run without a guest operation before vcpusim stops it "
      "(exit 4), e.g. 2s (default 10s); it never changes a result");
}

PluginPermission PluginPermission::of(const po::variables_map& vm) {
  PluginPermission p;
  if (vm.count("plugin")) p.files = vm["plugin"].as<std::vector<std::string>>();
  p.allow = vm.count("allow-plugins") > 0;
  if (vm.count("plugin-watchdog")) {
    const std::string text = vm["plugin-watchdog"].as<std::string>();
    const auto t = sim::parse_duration(text);
    if (!t || *t < sim::kMillisecond || *t > 3600 * sim::kSecond)
      throw sim::ConfigError("--plugin-watchdog " + sim::quote(text) +
                             ": is not a duration from 1ms to 1h; allowed: e.g. 2s");
    plugin::watchdog::set_budget(std::chrono::milliseconds(*t / sim::kMillisecond));
  }
  return p;
}

LoadedScenario load_with_plugins(const PluginPermission& permission, const std::string& file,
                                 const std::vector<std::string>& sets,
                                 std::optional<std::uint64_t> seed) {
  sim::Json raw = sim::load_json_file(file);
  // The overrides first: `--set plugins=[...]` names plugins as the file would.
  for (const auto& o : sets) sim::apply_override(raw, o, file);
  LoadedScenario out;
  out.plugins = plugin::load_plugins(permission.files, permission.allow,
                                     plugin::scenario_plugins(raw, file), file);
  out.scenario = Scenario::from_json(std::move(raw), file, {}, seed, out.plugins->registries());
  return out;
}

std::unique_ptr<plugin::PluginSet> load_replay_plugins(const PluginPermission& permission,
                                                       const ReplayFile& replay,
                                                       const std::string& file) {
  std::vector<std::string> hashes;  // of the --plugin files ("" unreadable: the load says so)
  for (const auto& f : permission.files) hashes.push_back(plugin::file_hash(f));
  std::vector<std::string> order;  // the files to load, the recorded plugins' first
  std::vector<bool> used(permission.files.size(), false);
  auto base_name = [](const std::string& p) { return p.substr(p.rfind('/') + 1); };
  for (std::size_t i = 0; i < replay.plugins.size(); ++i) {
    const ReplayPlugin& rec = replay.plugins[i];
    const std::string at = file + ": $.plugins[" + std::to_string(i) + "]: ";
    auto another_build = [&](const std::string& found, const std::string& hash) {
      return sim::ConfigError(
          at + "the run was recorded with plugin " + rec.path + " of content hash (fnv1a64) " +
          rec.fnv1a64 + ", but " + found + " has content hash " + hash +
          ": another build of the plugin, whose run may differ; allowed: the very file the "
          "replay was recorded with (--plugin FILE with hash " +
          rec.fnv1a64 + "), or explore again with this build");
    };
    const auto same = std::find(hashes.begin(), hashes.end(), rec.fnv1a64);
    if (same != hashes.end()) {
      const auto k = static_cast<std::size_t>(same - hashes.begin());
      used[k] = true;
      order.push_back(permission.files[k]);
      continue;
    }
    // A --plugin file of its name, or else one no recorded plugin matches, was meant for it.
    for (std::size_t k = 0; k < permission.files.size(); ++k)
      if (!hashes[k].empty() && base_name(permission.files[k]) == base_name(rec.path))
        throw another_build("--plugin " + permission.files[k], hashes[k]);
    for (std::size_t k = 0; k < permission.files.size(); ++k)
      if (!hashes[k].empty() && !used[k] &&
          std::none_of(replay.plugins.begin(), replay.plugins.end(),
                       [&](const ReplayPlugin& p) { return p.fnv1a64 == hashes[k]; }))
        throw another_build("--plugin " + permission.files[k], hashes[k]);
    if (!permission.allow)
      throw sim::ConfigError(
          at + "the replay names plugin " + rec.path +
          ", which is code that would run with your rights; allowed: load it by giving "
          "--allow-plugins (every plugin the replay names, from its recorded path) or --plugin " +
          rec.path);
    const std::string hash = plugin::file_hash(rec.path);
    if (hash.empty())
      throw sim::ConfigError(at + "the replay names plugin " + rec.path +
                             ", which cannot be read; allowed: --plugin FILE, a copy of it with "
                             "content hash " +
                             rec.fnv1a64);
    if (hash != rec.fnv1a64) throw another_build(rec.path, hash);
    order.push_back(rec.path);
  }
  for (std::size_t k = 0; k < permission.files.size(); ++k)
    if (!used[k]) order.push_back(permission.files[k]);
  auto set = std::make_unique<plugin::PluginSet>();
  for (const auto& p : order) set->load(p);
  // The bytes dlopen read may not be those hashed above (the file replaced in between).
  for (std::size_t i = 0; i < replay.plugins.size(); ++i) {
    const auto& loaded = set->plugins();
    const bool found = std::any_of(loaded.begin(), loaded.end(), [&](const auto& p) {
      return p->content_hash() == replay.plugins[i].fnv1a64;
    });
    if (!found)
      throw sim::ConfigError(file + ": $.plugins[" + std::to_string(i) + "]: plugin " +
                             replay.plugins[i].path +
                             " changed while it was loaded; allowed: "
                             "a file that stays as it is");
  }
  return set;
}

std::vector<ReplayPlugin> recorded_plugins(const plugin::PluginSet& plugins) {
  std::vector<ReplayPlugin> out;
  for (const auto& p : plugins.plugins())
    out.push_back({p->real_path().empty() ? p->path() : p->real_path(), p->content_hash()});
  return out;
}

}  // namespace vcpusim::tools
