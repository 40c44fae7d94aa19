#include "tools/run/replay.hpp"

#include "sim/error.hpp"

namespace vcpusim::tools {

std::unique_ptr<Scenario> replay_scenario(const ReplayFile& r, const std::string& file,
                                          const plugin::PluginSet* plugins) {
  if (!r.plugins.empty() && !plugins)
    throw sim::ConfigError(file + ": $.plugins: the replay's run loads C plugin " +
                           r.plugins.front().path +
                           "; allowed: a command that loads plugins (run --replay, shrink)");
  // Its plugins are the replay's own $.plugins (absolute, hashed), never the scenario's list.
  if (r.scenario.is_object() && r.scenario.contains("plugins"))
    throw sim::ConfigError(file +
                           ": $.scenario.plugins: a replay names its plugins in "
                           "$.plugins (path and content hash); allowed: no \"plugins\" "
                           "key in the scenario of a replay");
  std::unique_ptr<Scenario> s;
  try {
    s = Scenario::from_json(r.scenario, file, {}, std::nullopt,
                            plugins ? plugins->registries() : guest::builtin_registries());
  } catch (const sim::ConfigError& e) {
    // The scenario loader names paths from its own root, which is $.scenario in a replay file.
    std::string message = e.what();
    const std::string at = file + ": $";
    if (message.rfind(at, 0) == 0) message.insert(at.size(), ".scenario");
    throw sim::ConfigError(message);
  }
  r.schedule.check_vcpus(s->vm.vcpus.value, file);
  return s;
}

void check_reproduced(const ReplayFile& r, const std::string& file, const RunResult& run) {
  const std::string fingerprint = run.document["fingerprint"];
  if (run.complete && fingerprint != r.fingerprint)
    throw sim::SimError("replay " + file + " did not reproduce its run: fingerprint " +
                        fingerprint + ", recorded " + r.fingerprint +
                        " (another vcpusim version, or an edited file)");
}

Replayed run_replay(const ReplayFile& r, const std::string& file, RunOptions options,
                    const plugin::PluginSet* plugins) {
  Replayed out;
  out.scenario = replay_scenario(r, file, plugins);
  ReplaySteer steer(r.schedule, file);
  options.steer = &steer;
  options.injections = r.schedule.injections;
  options.counted_words = r.schedule.counted_words;
  out.result = run_scenario(*out.scenario, options);
  return out;
}

}  // namespace vcpusim::tools
