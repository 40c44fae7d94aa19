// Loading and running catalogue scenarios in-process.
#pragma once
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tools/run/scenario.hpp"
#include "tools/run/simulation.hpp"

namespace vcpusim::test {

// File names of the catalogue scenarios (scenarios/*.json without the schema), sorted.
inline std::vector<std::string> catalogue_files() {
  std::vector<std::string> names;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(VCPUSIM_SOURCE_DIR) + "/scenarios"))
    if (e.path().extension() == ".json" && e.path().filename() != "scenario.schema.json")
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string scenario_path(const std::string& name) {
  return std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/" + name;
}

inline tools::RunResult run_file(const std::string& name, const std::vector<std::string>& sets = {},
                                 std::optional<std::uint64_t> seed = std::nullopt) {
  auto s = tools::Scenario::load(scenario_path(name), sets, seed);
  return tools::run_scenario(*s);
}

inline std::int64_t metric(const tools::RunResult& r, const std::string& name) {
  return r.document["metrics"].at(name).get<std::int64_t>();
}

inline std::size_t violations(const tools::RunResult& r, const std::string& check) {
  return r.document["violation_counts"].at(check).get<std::size_t>();
}

// A catalogue scenario run in-process with its recorded events kept (for trace tests).
struct Traced {
  std::unique_ptr<tools::Scenario> scenario;
  tools::RunResult result;
};

inline Traced run_traced(const std::string& name, const std::vector<std::string>& sets = {}) {
  Traced t;
  t.scenario = tools::Scenario::load(scenario_path(name), sets);
  tools::RunOptions o;
  o.keep_events = true;
  t.result = tools::run_scenario(*t.scenario, o);
  return t;
}

}  // namespace vcpusim::test
