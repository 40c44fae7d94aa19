// Every catalogue scenario is a regression test: it meets its own expect block, its fingerprint
// is pinned (an unintended behaviour change shows up here), and temporal decoupling changes
// nothing observable (through the command line's --no-decoupling, and in-process where the
// kernel's event count shows it engaged).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "decoupling_util.hpp"
#include "scenario_util.hpp"

using namespace vcpusim;

namespace {

// Update deliberately, with the reason in the commit message, when a model changes.
const std::map<std::string, std::string> kPinned = {
    {"ipi-deadlock.json", "8ebdc2c83c834ff5"},
    {"lock-holder-preemption.json", "45e818be54d83d52"},
    {"mmu-notifier-sleep.json", "5446fcb1ab3ba368"},
    {"nmi-time-read.json", "7ff106bb5cb211eb"},
    {"pv-hash-race.json", "6d5e256c8dfbf406"},
    {"pv-hash-stop-at-empty.json", "40bb58c306808e1f"},
    {"rcu-grace-period.json", "4171f4ea98b945f2"},
    {"timekeeping-latency.json", "d3bc3272735b2fd2"},
    {"vdso-host-trace.json", "c83a0af7bf5f9f01"},
    {"vdso-time-backwards.json", "52021e81c3ab041c"},
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

// The command line's checking aid: `run --no-decoupling` writes the same result JSON as `run`.
TEST_P(CatalogueScenario, NoDecouplingOptionGivesTheSameResultJson) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vcpusim-nodecoupling-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto run = [&](const std::string& extra, const std::string& out) {
    const std::string cmd = std::string(VCPUSIM_BINARY) + " run '" +
                            test::scenario_path(GetParam()) + "' -q --json '" + out + "' " + extra;
    const int rc = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(rc)) << cmd;
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string a = run("", (dir / "a.json").string());
  const std::string b = run("--no-decoupling", (dir / "b.json").string());
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  std::filesystem::remove_all(dir);
}

// In-process both ways (RunOptions::temporal_decoupling, as `run --no-decoupling` sets it):
// the same result JSON, and decoupling engaged, with fewer kernel events than the event path
// (the command line cannot show its kernel events, so the test above alone would pass were the
// option ignored). Where it cannot engage, the reason; such a run has as many events both ways.
TEST_P(CatalogueScenario, DecouplingEngagesAndChangesNothing) {
  const std::map<std::string, const char*> never_decoupled = {
      {"ipi-deadlock.json",
       "both vCPUs issue operations side by side for the 1.9 us before they deadlock, each "
       "operation ending after the other's next event, then both wait event-driven to the end: "
       "no operation is alone before the next event (with one vCPU it decouples)"},
  };
  const auto s = tools::Scenario::load(test::scenario_path(GetParam()));
  const test::BothWays r = test::run_both_ways(*s);
  EXPECT_EQ(r.decoupled.document, r.event_path.document);
  EXPECT_EQ(r.decoupled.document.find("simulation error"), std::string::npos)
      << r.decoupled.document;
  const auto never = never_decoupled.find(GetParam());
  if (never == never_decoupled.end())
    EXPECT_LT(r.decoupled.kernel_events, r.event_path.kernel_events) << "decoupling never engaged";
  else
    EXPECT_EQ(r.decoupled.kernel_events, r.event_path.kernel_events)
        << "it now decouples (" << never->second << "): drop it from the list";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, CatalogueScenario, ::testing::ValuesIn(catalogue()),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           for (auto& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
