// The differential view of two replays (`vcpusim report --diff`, `vcpusim timeline --diff`):
// both runs traced, their recorded event streams compared in time order for the first event
// that differs (the first divergence), and the schedule items (and scenario values) that differ
// between the two files named as its cause. Meant for shrink's minimal replay beside its
// nearest passing run, where exactly one decision differs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tools/explore/explore.hpp"
#include "tools/run/schedule.hpp"

namespace vcpusim::tools {

struct DiffSide {
  std::string file;
  ReplayFile replay;
  Replayed run;  // traced (RunOptions::keep_events)
  std::string trace_json;
};

struct RunDiff {
  DiffSide passing, failing;
  bool diverged = false;
  sim::Tick time = 0;  // of the first divergence
  // The first differing event of each run, in words ("(no more events)" past a stream's end).
  std::string passing_event, failing_event;
  std::string words;                // the divergence in plain words (tools/explore/diff_words.hpp)
  std::vector<std::string> causes;  // what differs between the two replay files
  std::string cause() const;        // causes joined, or "nothing in the replay files"
};

// Loads and runs both replays (each must reproduce its recorded fingerprint); throws
// sim::ConfigError for bad files, sim::SimError when a run does not reproduce.
RunDiff diff_replays(const std::string& passing_file, const std::string& failing_file);

// What differs between two replay files: decisions, injections, scenario values.
std::vector<std::string> replay_differences(const ReplayFile& passing, const ReplayFile& failing);

// One self-contained HTML page: both timelines on one time axis, a marker at the divergence.
std::string render_diff_html(const RunDiff& d);
// Both terminal charts around the divergence with a marker column (tools/view/timeline.hpp).
std::string render_diff_timeline(const RunDiff& d, int width);

}  // namespace vcpusim::tools
