// A workload's "vcpus" (guest/guest_params.hpp VcpuSetParam): "all", ranges "A-B" and lists of
// numbers and ranges, expanded in the order written; an empty list and malformed or out-of-VM
// ranges are refused with the file and JSON path. And the unknown-key messages of host, vm and
// guest name every key those sections take, their lists (load, pinning, workloads) included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_util.hpp"
#include "sim/error.hpp"
#include "text_file.hpp"
#include "tools/run/scenario.hpp"

using namespace vcpusim;

namespace {

// A VM of `vcpus` vCPUs with one busy workload on `set`.
sim::Json scenario(int vcpus, const sim::Json& set) {
  return {{"name", "vcpus"},
          {"duration", "1ms"},
          {"host", {{"pcpus", 2}}},
          {"vm", {{"vcpus", vcpus}}},
          {"guest", {{"workloads", {{{"kind", "busy"}, {"vcpus", set}}}}}}};
}

std::vector<std::int64_t> expanded(int vcpus, const sim::Json& set) {
  const auto s = tools::Scenario::from_json(scenario(vcpus, set), "v.json");
  return s->guest.workloads.at(0)->vcpus.value;
}

// The message loading `doc` fails with ("" when it loads).
std::string refusal(const sim::Json& doc) {
  try {
    tools::Scenario::from_json(doc, "v.json");
  } catch (const sim::ConfigError& e) {
    return e.what();
  }
  return "";
}

using V = std::vector<std::int64_t>;

TEST(VcpuSet, AllRunsTheWorkloadOnEveryVcpuOfTheVm) {
  EXPECT_EQ(expanded(3, "all"), (V{0, 1, 2}));
  EXPECT_EQ(expanded(1, "all"), (V{0}));
  // The resolved scenario echoes the numbers, so changing vm.vcpus later changes nothing here.
  const auto s = tools::Scenario::from_json(scenario(3, "all"), "v.json");
  EXPECT_EQ(s->resolved()["guest"]["workloads"][0]["vcpus"], sim::Json({0, 1, 2}));
}

TEST(VcpuSet, RangesAndNumbersExpandInTheOrderWritten) {
  EXPECT_EQ(expanded(4, "1-3"), (V{1, 2, 3}));
  EXPECT_EQ(expanded(4, "2-2"), (V{2}));
  EXPECT_EQ(expanded(4, sim::Json({3, "0-1"})), (V{3, 0, 1}));
  EXPECT_EQ(expanded(4, sim::Json({0, 0})), (V{0, 0}));  // two tasks on vCPU 0, as before
}

TEST(VcpuSet, AnEmptyListIsRefusedWithFileAndPath) {
  const std::string m = refusal(scenario(2, sim::Json::array()));
  EXPECT_NE(m.find("v.json: $.guest.workloads[0].vcpus: [] is empty"), std::string::npos) << m;
  EXPECT_NE(m.find("\"all\""), std::string::npos) << m;  // says what is allowed
}

TEST(VcpuSet, MalformedAndOutOfVmRangesAreRefusedAtTheirItem) {
  const std::vector<std::pair<sim::Json, std::string>> cases = {
      {"3-1", "$.guest.workloads[0].vcpus: \"3-1\" runs from high to low"},
      {"0-4", "$.guest.workloads[0].vcpus: \"0-4\" goes beyond the VM's vCPUs"},
      {"one", "$.guest.workloads[0].vcpus: \"one\" is not a vCPU range"},
      {"-1", "\"-1\" is not a vCPU range"},
      {"1-", "\"1-\" is not a vCPU range"},
      {"All", "\"All\" is not a vCPU range"},
      {sim::Json({0, "2-9"}), "$.guest.workloads[0].vcpus[1]: \"2-9\" goes beyond"},
      {sim::Json({0, 7}), "$.guest.workloads[0].vcpus[1]: 7 is not a vCPU of this VM"},
      {sim::Json({0, true}), "$.guest.workloads[0].vcpus[1]: true is not a vCPU number or range"},
      {3, "$.guest.workloads[0].vcpus: 3 is not a vCPU set"},
  };
  for (const auto& [set, message] : cases) {
    const std::string m = refusal(scenario(4, set));
    EXPECT_NE(m.find(message), std::string::npos) << set.dump() << "\ngot: " << m;
  }
}

TEST(VcpuSet, AnEmptyListExitsTwoFromTheCommandLine) {
  test::TempDir t;
  const auto file = t.path() / "empty.json";
  test::write(file, scenario(2, sim::Json::array()).dump());
  const auto r = test::run_cli({"run", file.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find(file.string() + ": $.guest.workloads[0].vcpus"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

// The issue: the messages of host and vm left out "load" and "pinning" (read apart from the
// section's parameters); guest left out "workloads".
TEST(UnknownKeys, MessagesListEverySectionKeyIncludingItsLists) {
  for (const auto& [section, key] : std::vector<std::pair<std::string, std::string>>{
           {"host", "load"}, {"vm", "pinning"}, {"guest", "workloads"}}) {
    sim::Json doc = scenario(2, "all");
    doc[section]["bogus"] = 1;
    const std::string m = refusal(doc);
    EXPECT_NE(m.find("$." + section + ": unknown key \"bogus\""), std::string::npos) << m;
    EXPECT_NE(m.find("\"" + key + "\""), std::string::npos)
        << section << " lists no " << key << ": " << m;
  }
}

}  // namespace
