// What the explore tests share: the unplaced scenarios' paths and one explore call.
#pragma once
#include <string>

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

}  // namespace vcpusim::test
