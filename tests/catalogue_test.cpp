// Every catalogue scenario is a regression test: it meets its own expect block, its fingerprint
// is pinned (an unintended behaviour change shows up here), and temporal decoupling changes
// nothing observable.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "scenario_util.hpp"

using namespace vcpusim;

namespace {

// Update deliberately, with the reason in the commit message, when a model changes.
const std::map<std::string, std::string> kPinned = {
    {"ipi-deadlock.json", "b9ca34658897636b"},
    {"nmi-time-read.json", "b6b8e6d25d983e10"},
    {"timekeeping-latency.json", "6c510982fbf5b57f"},
    {"vdso-time-backwards.json", "308a8b4add2e66d8"},
};

std::vector<std::string> catalogue() {
  return test::catalogue_files();
}

}  // namespace

TEST(Catalogue, EveryScenarioIsPinned) {
  for (const auto& name : catalogue())
    EXPECT_TRUE(kPinned.count(name)) << name << " has no pinned fingerprint";
}

class CatalogueScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(CatalogueScenario, MeetsItsExpectationsWithThePinnedFingerprint) {
  const auto r = test::run_file(GetParam());
  EXPECT_TRUE(r.expect_met) << r.document["expect_unmet"].dump();
  auto it = kPinned.find(GetParam());
  ASSERT_NE(it, kPinned.end());
  EXPECT_EQ(r.document["fingerprint"].get<std::string>(), it->second);
}

TEST_P(CatalogueScenario, TemporalDecouplingIsInvisible) {
  auto s = tools::Scenario::load(test::scenario_path(GetParam()));
  tools::RunOptions slow;
  slow.temporal_decoupling = false;
  EXPECT_EQ(tools::run_scenario(*s).document.dump(), tools::run_scenario(*s, slow).document.dump());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, CatalogueScenario, ::testing::ValuesIn(catalogue()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
