#include "tools/explore/explore_merge.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/config/config.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
namespace {

std::string read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw sim::ConfigError(path + ": cannot be read; allowed: " + what);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Shard {
  std::string dir;
  sim::Json doc;
  ExploreReport report;
  std::uint64_t index = 0;
  std::uint64_t count = 0;
};

Shard read_shard(const std::string& dir) {
  Shard sh;
  sh.dir = dir;
  const std::string file = dir + "/explore.json";
  sh.doc = sim::parse_json_text(
      read_text(file, "the -o directory of `vcpusim explore --shard I/N`"), file);
  const sim::Node root(sh.doc, file, "$");
  if (!root.has("shard"))
    root.fail("an explore.json without \"shard\"",
              "the explore.json of `vcpusim explore --shard I/N`");
  const sim::Node shard = root.at("shard");
  sh.count = shard.at("count").as_uint(1, 1000000);
  sh.index = shard.at("index").as_uint(0, sh.count - 1);
  sh.report = ExploreReport::from_json(sh.doc, file);
  return sh;
}

}  // namespace

sim::Json shard_json(const Scenario& s, const ExploreOptions& o) {
  return {{"index", o.shard_index},          {"count", o.shard_count}, {"strategy", o.strategy},
          {"schedules_budget", o.schedules}, {"explore_seed", o.seed}, {"scenario", s.resolved()}};
}

MergedExplore merge_explore_shards(const std::vector<std::string>& dirs) {
  std::vector<Shard> shards;
  for (const std::string& dir : dirs) shards.push_back(read_shard(dir));
  // One explore: the same shard count, strategy, budget, seed and scenario in every shard.
  sim::Json common = shards.front().doc["shard"];
  common.erase("index");
  for (const Shard& sh : shards) {
    sim::Json mine = sh.doc["shard"];
    mine.erase("index");
    if (mine != common)
      throw sim::ConfigError(sh.dir + "/explore.json: $.shard: a shard of another explore than " +
                             shards.front().dir +
                             " (count, strategy, schedules budget, explore seed or scenario "
                             "differ); allowed: the shards of one `explore --shard I/N` command");
  }
  const std::uint64_t n = shards.front().count;
  std::vector<const Shard*> by_index(n, nullptr);
  for (const Shard& sh : shards) {
    if (by_index[sh.index])
      throw sim::ConfigError(sh.dir + ": shard " + std::to_string(sh.index) + "/" +
                             std::to_string(n) + " is also " + by_index[sh.index]->dir +
                             "; allowed: each shard once");
    by_index[sh.index] = &sh;
  }
  std::string missing;
  for (std::uint64_t i = 0; i < n; ++i)
    if (!by_index[i]) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  if (!missing.empty())
    throw sim::ConfigError("explore merge: shard(s) " + missing + " of " + std::to_string(n) +
                           " missing; allowed: every shard's -o directory");

  // Shard 0 ran schedule 0 as a schedule; every shard ran it as its profile, so what the
  // scenario's own run shows (windows, targets, overlaps) is the same in all.
  MergedExplore m;
  ExploreReport& r = m.report;
  const ExploreReport& first = by_index[0]->report;
  r.strategy = first.strategy;
  r.windows_seen = first.windows_seen;
  r.targets = first.targets;
  r.aimed = first.aimed;
  r.overlaps = first.overlaps;
  struct Found {
    FoundFailure failure;
    std::string replay;
  };
  std::map<std::string, Found> found;  // by signature; output order is by first schedule
  for (const Shard* sh : by_index) {
    const ExploreReport& x = sh->report;
    r.schedules += x.schedules;
    r.failing_schedules += x.failing_schedules;
    r.coverage += x.coverage;
    if (x.first_failure >= 0 && (r.first_failure < 0 || x.first_failure < r.first_failure))
      r.first_failure = x.first_failure;
    for (const auto& [name, hits] : x.windows_hit) r.windows_hit[name] += hits;
    for (std::size_t k = 0; k < x.failures.size(); ++k) {
      const FoundFailure& f = x.failures[k];
      auto it = found.find(f.failure.signature);
      if (it == found.end() || f.first_schedule < it->second.failure.first_schedule) {
        const std::uint64_t earlier = it == found.end() ? 0 : it->second.failure.schedules;
        const std::string replay = sh->dir + "/failure-" + std::to_string(k + 1) + ".replay.json";
        found[f.failure.signature] = {f, read_text(replay, "the replay files explore wrote")};
        found[f.failure.signature].failure.schedules += earlier;
      } else {
        it->second.failure.schedules += f.schedules;
      }
    }
  }
  std::vector<Found> ordered;
  for (auto& [signature, f] : found) ordered.push_back(std::move(f));
  std::sort(ordered.begin(), ordered.end(), [](const Found& a, const Found& b) {
    return a.failure.first_schedule < b.failure.first_schedule;
  });
  for (Found& f : ordered) {
    r.failures.push_back(std::move(f.failure));
    m.replays.push_back(std::move(f.replay));
  }
  return m;
}

}  // namespace vcpusim::tools
