#include "tools/run/replay.hpp"

#include "sim/error.hpp"

namespace vcpusim::tools {

std::unique_ptr<Scenario> replay_scenario(const ReplayFile& r, const std::string& file) {
  std::unique_ptr<Scenario> s;
  try {
    s = Scenario::from_json(r.scenario, file);
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

Replayed run_replay(const ReplayFile& r, const std::string& file, RunOptions options) {
  Replayed out;
  out.scenario = replay_scenario(r, file);
  ReplaySteer steer(r.schedule, file);
  options.steer = &steer;
  options.injections = r.schedule.injections;
  options.counted_words = r.schedule.counted_words;
  out.result = run_scenario(*out.scenario, options);
  return out;
}

}  // namespace vcpusim::tools
