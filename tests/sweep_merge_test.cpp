// Issue 22, sweep merge: every shard record is checked before it counts (its checksum; its run,
// point and seed are the sweep's; two shards agree on a run), missing runs are named, and a
// damaged shard is bad input (exit 2 naming the file), never an internal error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sweep_util.hpp"
#include "text_file.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_results.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using nlohmann::json;
using test::run_vcpusim;
using test::slurp;
using test::sweep_spec;
using test::TempDir;

namespace {

using vcpusim::test::write;

// Shards I/3 of the small spec (12 runs) in DIR/shardI.
void shards(const TempDir& t, std::initializer_list<int> which) {
  for (int i : which) {
    const auto e = run_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "--shard",
                                std::to_string(i) + "/3", "-o", t / ("shard" + std::to_string(i))},
                               t / "s.log");
    ASSERT_EQ(e.code, 0) << e.err;
  }
}

std::string record_path(const TempDir& t, int shard, std::size_t run) {
  return t / ("shard" + std::to_string(shard) + "/runs/" + tools::record_name(run));
}

// A record with a valid checksum, as a forger who knows the format (or a bug) would write it.
void plant(const TempDir& t, int shard, const tools::RunRecord& r) {
  const json plan = tools::read_plan(t / ("shard" + std::to_string(shard) + "/sweep.json"));
  write(record_path(t, shard, r.run), tools::record_text(r, tools::sweep_key(plan)));
}

test::Exit merge(const TempDir& t, const std::vector<std::string>& dirs, const char* out) {
  std::vector<std::string> args = {"sweep", "merge", "-o", t / out};
  for (const auto& d : dirs) args.push_back(t / d);
  return run_vcpusim(args, t / (std::string(out) + ".log"));
}

TEST(SweepMerge, RecordOutsideTheRunNumbersIsRefused) {
  TempDir t;
  shards(t, {0, 2});
  // Shards 0 and 2 hold 8 of the 12 runs; four records beyond the run numbers made the count
  // look whole.
  for (std::size_t run : {12, 13, 14, 99}) {
    tools::RunRecord r;
    r.run = run;
    r.point = run / 3;
    r.seed = run % 3 + 1;
    r.status = "met";
    plant(t, 2, r);
  }
  auto e = merge(t, {"shard0", "shard2"}, "m1");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(t / "shard2/runs/run-00000"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find(".json: $.run: "), std::string::npos) << e.err;
  EXPECT_NE(e.err.find(" is out of range; allowed: an integer from 0 to 11"), std::string::npos)
      << e.err;
  for (std::size_t run : {12, 13, 14, 99}) fs::remove(record_path(t, 2, run));
  // Without them, the missing runs are named.
  e = merge(t, {"shard0", "shard2"}, "m2");
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_NE(e.err.find("4 of 12 runs are missing (runs 1, 4, 7, 10; "), std::string::npos) << e.err;
  // A run in its range but with another point's or seed's number, or twice with two results.
  const json plan = tools::read_plan(t / "shard2/sweep.json");
  tools::RunRecord r =
      tools::read_record(slurp(record_path(t, 2, 2)), "r", plan, tools::sweep_key(plan));
  r.seed = 1;
  plant(t, 2, r);
  e = merge(t, {"shard0", "shard2"}, "m3");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(record_path(t, 2, 2) + ": $.seed: 1 is not the seed of run 2; allowed: 3"),
            std::string::npos)
      << e.err;
  r.seed = 3;
  plant(t, 2, r);
  tools::RunRecord other = r;
  other.run = 3;  // run 3 is shard 0's
  other.point = 1;
  other.seed = 1;
  other.metrics["timekeeping.updates"] = -1;
  plant(t, 2, other);
  e = merge(t, {"shard0", "shard2"}, "m4");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(record_path(t, 2, 3) + ": holds run 3 with a result " +
                       record_path(t, 0, 3) + " holds differently"),
            std::string::npos)
      << e.err;
}

TEST(SweepMerge, TamperedRecordIsRefused) {
  TempDir t;
  shards(t, {0, 1, 2});
  const std::string file = record_path(t, 1, 1);
  json r = json::parse(slurp(file));
  r["status"] = "met";
  r["violations"]["monotonic_time"] = 0;  // a violating run made clean
  write(file, r.dump(1));
  auto e = merge(t, {"shard0", "shard1", "shard2"}, "merged");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(file + ": $.checksum: "), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("does not match the record's content"), std::string::npos) << e.err;
  // Resuming the shard checks its records the same way.
  e = run_vcpusim({"sweep", sweep_spec("small.json"), "--shard", "1/3", "-o", t / "shard1"},
                  t / "r.log");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(file + ": $.checksum: "), std::string::npos) << e.err;
  // A record copied from another sweep (same run, same fields) fails its checksum too.
  json spec = json::parse(slurp(sweep_spec("small.json")));
  spec["scenario"] = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";
  spec["run_budget"] = 123456789;
  write(t / "other.json", spec.dump());
  e = run_vcpusim({"sweep", t / "other.json", "--shard", "1/3", "-j", "2", "-o", t / "other"},
                  t / "o.log");
  ASSERT_EQ(e.code, 0) << e.err;
  fs::copy_file(t / ("other/runs/" + tools::record_name(1)), file,
                fs::copy_options::overwrite_existing);
  e = merge(t, {"shard0", "shard1", "shard2"}, "merged");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(file + ": $.checksum: "), std::string::npos) << e.err;
}

TEST(SweepMerge, EmptyShardSpecExits2) {
  TempDir t;
  shards(t, {0, 1});
  const std::string spec = t / "shard1/sweep.json";
  const json good = json::parse(slurp(spec));
  json bad_point = good;
  bad_point["points"][1]["index"] = 7;
  json no_points = good;
  no_points["points"] = json::array();
  const std::pair<std::string, std::string> cases[] = {
      {"", ": $: invalid JSON"},
      {"{}", ": $: missing key"},
      {"[]", ": $: [] is an array"},
      {bad_point.dump(), ": $.points[1].index: 7 is not the point's position"},
      {no_points.dump(), ": $.points: no points"}};
  for (const auto& [text, message] : cases) {
    write(spec, text);
    const auto e = merge(t, {"shard0", "shard1"}, "merged");
    EXPECT_EQ(e.code, 2) << text << ": " << e.err;
    EXPECT_NE(e.err.find(spec + message), std::string::npos) << e.err;
  }
}

}  // namespace
