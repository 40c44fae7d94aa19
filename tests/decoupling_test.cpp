// Temporal decoupling is invisible: the same scenario run with every operation on the event path
// and with inline advances gives byte-identical result JSON (fingerprint included), on generated
// scenarios that reach paths the catalogue does not, and on the reproducer that first showed the
// difference (sleeper credit read before the running thread was settled; weighted runtime
// rounded down on every settle).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "random_scenario.hpp"
#include "scenario_util.hpp"
#include "sim/error.hpp"

using namespace vcpusim;
namespace fs = std::filesystem;

namespace {

struct Outcome {
  std::string document;  // the result JSON, or the simulation error
  std::string fingerprint;
};

Outcome run(const tools::Scenario& s, bool decoupled) {
  tools::RunOptions o;
  o.temporal_decoupling = decoupled;
  try {
    const auto r = tools::run_scenario(s, o);
    return {r.document.dump(), r.document["fingerprint"].get<std::string>()};
  } catch (const sim::SimError& e) {
    return {std::string("simulation error: ") + e.what(), ""};
  }
}

fs::path write_scenario(const sim::Json& j, const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("vcpusim-decoupling-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << j.dump(2);
  return p;
}

// The reproducer from the issue: one pCPU shared by two vCPUs and poisson host load; vCPU0 sends
// asynchronous calls to idle vCPU1.
sim::Json seed3_reproducer(int vm_nice) {
  return sim::Json::parse(R"({
    "name": "decoupling-seed3", "seed": 3, "duration": "1s",
    "host": { "pcpus": 1, "load": [ { "kind": "poisson", "cpus": [0], "busy": "200us", "idle": "500us" } ] },
    "vm": { "vcpus": 2, "pinning": [[0], [0]], "nice": )" +
                          std::to_string(vm_nice) + R"( },
    "costs": { "halt_wakeup": "0ns" },
    "guest": { "workloads": [ { "kind": "ipi_storm", "vcpus": [0], "targets": [1], "wait": false,
                                "work": "700us", "interval": "300us" } ] },
    "checks": [] })");
}

}  // namespace

TEST(Decoupling, SleeperCreditReproducerIsIdenticalBothWays) {
  for (int nice : {0, 3}) {
    const auto path = write_scenario(seed3_reproducer(nice), "seed3.json");
    const auto s = tools::Scenario::load(path.string());
    const Outcome a = run(*s, true), b = run(*s, false);
    EXPECT_EQ(a.document, b.document) << "vm.nice=" << nice;
    EXPECT_FALSE(a.fingerprint.empty()) << a.document;
  }
}

class RandomEquivalence : public ::testing::TestWithParam<int> {};

// 4 shards x 50 generated scenarios, each run both ways.
TEST_P(RandomEquivalence, GeneratedScenariosAreIdenticalBothWays) {
  constexpr int kPerShard = 50;
  for (int i = 0; i < kPerShard; ++i) {
    const auto index = static_cast<std::uint64_t>(GetParam() * kPerShard + i);
    const sim::Json j = test::RandomScenario(index).make();
    const auto path = write_scenario(j, "random-" + std::to_string(index) + ".json");
    std::unique_ptr<tools::Scenario> s;
    ASSERT_NO_THROW(s = tools::Scenario::load(path.string())) << j.dump(2);
    const Outcome a = run(*s, true), b = run(*s, false);
    ASSERT_EQ(a.document, b.document) << "scenario " << index << ":\n" << j.dump(2);
    fs::remove(path);
  }
}

INSTANTIATE_TEST_SUITE_P(Shards, RandomEquivalence, ::testing::Range(0, 4));
