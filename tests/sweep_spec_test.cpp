// Sweep specs: the shipped ones load, the schema file is current, and bad specs get one message
// naming file, JSON path, value and what is allowed (exit 2, nothing written).
#include "tools/sweep/sweep_spec.hpp"

#include <gtest/gtest.h>

#include "sim/error.hpp"
#include "sweep_util.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using test::run_vcpusim;
using test::slurp;
using test::TempDir;

namespace {

const std::string kSweeps = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/sweeps/";

TEST(SweepSpec, SchemaFileIsTheCurrentSweepSchemaOutput) {
  TempDir t;
  const std::string out = t / "schema.json";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen(out.c_str(), "w", stdout);
    ::execl(VCPUSIM_BINARY, VCPUSIM_BINARY, "sweep", "schema", nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(slurp(out), slurp(kSweeps + "sweep.schema.json"))
      << "regenerate: build/vcpusim sweep schema > scenarios/sweeps/sweep.schema.json";
}

TEST(SweepSpec, ShippedSpecsLoad) {
  const auto host = tools::SweepSpec::load(kSweeps + "vdso-host-load.json");
  ASSERT_EQ(host.points.size(), 10u);  // 0% .. 90%
  EXPECT_EQ(host.seeds.size(), 20u);
  EXPECT_EQ(host.label_of(host.points[0], 0), "0");
  EXPECT_EQ(host.label_of(host.points[9], 0), "90");
  EXPECT_EQ(*host.predicted[0], 0);  // no load task, no preemption
  for (std::size_t i = 1; i < 10; ++i) EXPECT_GT(*host.predicted[i], *host.predicted[i - 1]);
  const auto duty = tools::SweepSpec::load(kSweeps + "vdso-duty-period.json");
  ASSERT_EQ(duty.points.size(), 41u);  // idle 10ms..50ms in 1ms steps
  EXPECT_EQ(duty.axes[0].values[1].sets[0], "host.load[0].idle=\"11ms\"");
  EXPECT_EQ(*duty.axes[0].values[1].x, 11);  // plotted in the axis unit, ms
  const auto lat = tools::SweepSpec::load(kSweeps + "latency-variants.json");
  EXPECT_EQ(lat.points.size(), 16u);  // 4 reader counts x 4 variants
}

TEST(SweepSpec, RangesLogRangesAndZip) {
  TempDir t;
  const std::string file = t / "ranges.json";
  std::ofstream(file) << "{\"name\": \"r\", \"scenario\": \"" << VCPUSIM_SOURCE_DIR
                      << "/scenarios/vdso-time-backwards.json\", \"seeds\": [5, 3], "
                         "\"combine\": \"zip\", \"axes\": ["
                         "{\"name\": \"d\", \"path\": \"duration\", \"log\": {\"from\": "
                         "\"1ms\", \"to\": \"100ms\", \"count\": 3}},"
                         "{\"name\": \"ppm\", \"path\": \"guest.timekeeping.ntp.schedule[0].ppm\", "
                         "\"range\": {\"from\": -3, \"to\": -1, \"step\": 1}}]}";
  const auto s = tools::SweepSpec::load(file);
  ASSERT_EQ(s.points.size(), 3u);  // zip: the i-th values together
  EXPECT_EQ(s.seeds, (std::vector<std::uint64_t>{5, 3}));
  EXPECT_EQ(s.sets_of(s.points[1]),
            (std::vector<std::string>{"duration=\"10ms\"", "guest.timekeeping.ntp.schedule[0].ppm=-2"}));
  EXPECT_EQ(s.label_of(s.points[2], 0), "100ms");
  EXPECT_EQ(*s.axes[0].values[2].x, 100000);  // durations plotted in us by default
}

struct BadSpec {
  std::string json;
  std::string message;  // expected in stderr, after the file name
};

TEST(SweepSpec, BadSpecsNameFilePathValueAndWhatIsAllowed) {
  const std::string base = "\"scenario\": \"" + std::string(VCPUSIM_SOURCE_DIR) +
                           "/scenarios/vdso-time-backwards.json\", \"seeds\": 2, ";
  const std::string axis =
      "\"axes\": [{\"name\": \"a\", \"path\": \"duration\", \"values\": [\"1ms\"]}]";
  const std::vector<BadSpec> cases = {
      {"{\"name\": \"x\", ", "syntax error"},
      {std::string("{\"name\": \"x\", ") + base + axis + ", \"colour\": 1}",
       "$: unknown key \"colour\""},
      {std::string("{\"name\": \"x\", ") + base +
           "\"axes\": [{\"name\": \"a\", \"path\": \"duration\", "
           "\"range\": {\"from\": \"1ms\", \"to\": \"5ms\", \"step\": 2}}]}",
       "$.axes[0].range.step: 2 is not of the kind of \"from\""},
      {std::string("{\"name\": \"x\", ") + base +
           "\"axes\": [{\"name\": \"a\", \"path\": \"duration\", "
           "\"values\": [\"1ms\"], \"log\": {}}]}",
       "$.axes[0]: an axis needs exactly one of"},
      {std::string("{\"name\": \"x\", \"scenario\": \"nope.json\", \"seeds\": 2, ") + axis + "}",
       "$.scenario: \"nope.json\" is not a file"},
      {std::string("{\"name\": \"x\", ") + base +
           "\"axes\": [{\"name\": \"a\", \"path\": \"host.pcpus\", "
           "\"values\": [2, 0]}]}",
       "point 1 (a=0) is not a valid scenario"},
      {std::string("{\"name\": \"x\", ") + base + axis + ", \"combine\": \"cross\"}",
       "$.combine: \"cross\" is not a known choice"},
      {std::string("{\"name\": \"x\", ") + base + axis + ", \"checks\": [\"no_hang\"]}",
       "$.checks[0]: \"no_hang\" is not a known choice"},
      {std::string("{\"name\": \"x\", ") + base + axis +
           ", \"metrics\": [\"sim.steps\"], \"plots\": [\"sim.decisions\"]}",
       "$.plots[0]: \"sim.decisions\" is not a collected metric"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    TempDir t;
    const std::string file = t / "bad.json";
    std::ofstream(file) << cases[i].json;
    const auto e = run_vcpusim({"sweep", file, "-o", t / "out"}, t / "err.log");
    EXPECT_EQ(e.code, 2) << cases[i].json << "\n" << e.err;
    EXPECT_NE(e.err.find(file), std::string::npos) << e.err;
    EXPECT_NE(e.err.find(cases[i].message), std::string::npos)
        << "expected: " << cases[i].message << "\ngot: " << e.err;
    EXPECT_FALSE(fs::exists(t / "out")) << "a bad spec must write nothing";
  }
  TempDir t;
  EXPECT_EQ(run_vcpusim({"sweep", kSweeps + "vdso-host-load.json", "-o", t / "o", "--shard", "3/3"},
                        t / "e")
                .code,
            2);
  EXPECT_EQ(
      run_vcpusim({"sweep", kSweeps + "vdso-host-load.json", "-o", t / "o", "-j", "0"}, t / "e")
          .code,
      2);
  EXPECT_EQ(run_vcpusim({"sweep", kSweeps + "vdso-host-load.json"}, t / "e").code, 2);
}

}  // namespace
