// `vcpusim explore merge -o OUT DIR...`: the shards of one explore (`explore --shard I/N -o
// DIR`, docs/explore.md "Shards") as one report. For the strategies without feedback (pct,
// random, seeds) a shard's schedules are exactly those of the same indices in a local run, so
// the merge gives the local run's explore.json and replay files byte for byte. window and cover
// learn from what they ran: each shard learns from its own schedules only, so their merge is a
// deterministic function of the shards, not a local run's report.
#pragma once
#include <string>
#include <vector>

#include "tools/explore/explore.hpp"

namespace vcpusim::tools {

// What `explore --shard` adds to its explore.json, and what every shard of one explore shares.
sim::Json shard_json(const Scenario& s, const ExploreOptions& o);

struct MergedExplore {
  ExploreReport report;
  std::vector<std::string> replays;  // the text of each failure's replay file, in report order
};

// ConfigError naming the directory and what is wrong: a DIR without a shard's explore.json, a
// shard missing or given twice, shards of different explores.
MergedExplore merge_explore_shards(const std::vector<std::string>& dirs);

}  // namespace vcpusim::tools
