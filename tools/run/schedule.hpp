// A schedule: what one run varies beyond its scenario (the decisions a steer took other than
// the default, and the host events it added), and the replay file that pairs it with the
// scenario so `vcpusim run --replay` repeats the run byte for byte.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/core/decision.hpp"

namespace vcpusim::tools {

struct Schedule {
  std::map<sim::DecisionKey, std::int64_t> decisions;  // only those off their default
  std::vector<sim::Injection> injections;
  // The words whose accesses an injection's `access` counts (sorted; empty: every word).
  std::vector<std::string> counted_words;
  std::size_t size() const { return decisions.size() + injections.size(); }
  sim::Json to_json() const;
  // Strict: throws sim::ConfigError naming `file` and the JSON path.
  static Schedule from_json(const sim::Node& node);
  // Against the scenario it runs with: throws sim::ConfigError naming `file`, the JSON path
  // ($.injections[i].vcpu), the value and what is allowed when an injection names a vCPU the
  // scenario does not have.
  void check_vcpus(int vcpus, const std::string& file) const;
};

// Replays a schedule's decisions: takes the recorded value of a decision with the same key
// (checked against the decision's range), and the default for every other one.
class ReplaySteer final : public sim::Steer {
 public:
  // `file` names the replay in the message about a value outside its decision's range.
  ReplaySteer(const Schedule& s, std::string file) : schedule_(s), file_(std::move(file)) {}
  std::int64_t decide(const sim::DecisionPoint& p) override;

 private:
  const Schedule& schedule_;
  std::string file_;
};

// The failure a run shows, by signature: the check and where (its message with the numbers
// that vary between runs, such as times and magnitudes, blanked out; vCPU and lock names kept).
struct Failure {
  std::string signature;  // empty: the run passed
  std::string check;
  sim::Tick time = 0;
  std::string message;
  sim::Json to_json() const;
  static Failure from_json(const sim::Node& node);
};
std::string failure_signature(const std::string& check, const std::string& message);

// A C plugin a replay's run loaded: its canonical path and the FNV-1a 64 of its bytes
// (plugin::file_hash), so that replaying with another build is refused.
struct ReplayPlugin {
  std::string path;
  std::string fnv1a64;
};

struct ReplayFile {
  sim::Json scenario;  // resolved, seed included; its plugins are in `plugins`, not here
  std::vector<ReplayPlugin> plugins;  // in load order
  Schedule schedule;
  Failure failure;
  std::string fingerprint;  // of the run the file was written from
  std::string origin;       // e.g. "explore pct schedule 17"
  sim::Json to_json() const;
  // Strict reading; the scenario inside is checked when it is loaded (tools::Scenario).
  static ReplayFile load(const std::string& path);
  // The same on text already read (the fuzz target); `path` names it in messages.
  static ReplayFile parse(const std::string& text, const std::string& path);
  // A replay must carry the fingerprint of its run, so that a run that does not reproduce it is
  // caught: throws sim::ConfigError naming `file` and $.fingerprint when it does not.
  void require_fingerprint(const std::string& file) const;
};

}  // namespace vcpusim::tools
