// What the explore tests share: the unplaced scenarios' paths, one explore call, and an explore
// directory's files (to compare a merged or sharded explore with a local one).
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "tests/cli_util.hpp"
#include "tools/explore/explore.hpp"

namespace vcpusim::test {

inline std::string explore_path(const std::string& name) {
  return std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/explore/" + name;
}

inline tools::ExploreReport explore(const tools::Scenario& s, const std::string& strategy,
                                    std::uint64_t schedules, bool first = false, int jobs = 1,
                                    std::uint64_t seed = 1) {
  tools::ExploreOptions o;
  o.strategy = strategy;
  o.schedules = schedules;
  o.first = first;
  o.jobs = jobs;
  o.seed = seed;
  return tools::explore(s, o);
}

// Every file of an explore directory (the .vcpusim-explore marker aside), by name.
inline std::map<std::string, std::string> files_of(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().filename().string()[0] != '.')
      out[f.path().filename().string()] = read_file(f.path());
  return out;
}

}  // namespace vcpusim::test
