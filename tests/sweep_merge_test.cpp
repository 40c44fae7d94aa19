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

json plan_of(const TempDir& t, int shard) {
  return tools::read_plan(t / ("shard" + std::to_string(shard) + "/sweep.json"));
}

std::string record_file(const TempDir& t, int shard, const std::string& id) {
  return t / ("shard" + std::to_string(shard) + "/runs/" + tools::record_name(id));
}

std::string record_path(const TempDir& t, int shard, std::size_t run) {
  return record_file(t, shard, tools::run_id(plan_of(t, shard), run));
}

// A record with a valid checksum, as a forger who knows the format (or a bug) would write it.
void plant(const TempDir& t, int shard, const tools::RunRecord& r) {
  write(record_file(t, shard, r.id), tools::record_text(r, plan_of(t, shard)));
}

test::Exit merge(const TempDir& t, const std::vector<std::string>& dirs, const char* out) {
  std::vector<std::string> args = {"sweep", "merge", "-o", t / out};
  for (const auto& d : dirs) args.push_back(t / d);
  return run_vcpusim(args, t / (std::string(out) + ".log"));
}

TEST(SweepMerge, RecordOfAnotherSeedOrPointIsRefused) {
  TempDir t;
  shards(t, {0, 2});
  // Shards 0 and 2 hold 8 of the 12 runs; records of seeds or points the sweep does not have
  // made the count look whole.
  const json plan = plan_of(t, 2);
  std::vector<std::string> planted;
  for (std::uint64_t seed : {4, 5, 99}) {
    tools::RunRecord r = tools::new_record(plan, 2);
    r.seed = seed;
    r.id = tools::run_id(r.point_key, seed);
    r.status = "met";
    plant(t, 2, r);
    planted.push_back(record_file(t, 2, r.id));
  }
  auto e = merge(t, {"shard0", "shard2"}, "m1");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(".json: $.seed: "), std::string::npos) << e.err;
  EXPECT_NE(e.err.find(" is not a seed of this sweep; allowed: [1,2,3]"), std::string::npos)
      << e.err;
  for (const auto& f : planted) fs::remove(f);
  tools::RunRecord stray = tools::new_record(plan, 2);
  stray.point_key = "p0123456789abcdef";
  stray.id = tools::run_id(stray.point_key, stray.seed);
  plant(t, 2, stray);
  e = merge(t, {"shard0", "shard2"}, "m1b");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(record_file(t, 2, stray.id) +
                       ": $.point: \"p0123456789abcdef\" is not a point of this sweep"),
            std::string::npos)
      << e.err;
  fs::remove(record_file(t, 2, stray.id));
  // Without them, the missing runs are named by their ids.
  e = merge(t, {"shard0", "shard2"}, "m2");
  EXPECT_EQ(e.code, 1) << e.err;
  EXPECT_NE(e.err.find("4 of 12 runs are missing (runs " + tools::run_id(plan, 1) + ", " +
                       tools::run_id(plan, 4) + ", " + tools::run_id(plan, 7) + ", " +
                       tools::run_id(plan, 10) + "; "),
            std::string::npos)
      << e.err;
  // A record whose seed is not its id's, or one run twice with two results.
  tools::RunRecord r = tools::read_record(slurp(record_path(t, 2, 2)), "r", plan);
  r.seed = 1;
  plant(t, 2, r);
  e = merge(t, {"shard0", "shard2"}, "m3");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(record_path(t, 2, 2) + ": $.id: \"" + tools::run_id(plan, 2) +
                       "\" is not the id of this point and seed; allowed: \"" +
                       tools::run_id(plan, 0) + "\""),
            std::string::npos)
      << e.err;
  r.seed = 3;
  plant(t, 2, r);
  tools::RunRecord other = tools::new_record(plan, 3);  // run 3 is shard 0's
  other.status = "met";
  other.metrics["timekeeping.updates"] = -1;
  plant(t, 2, other);
  e = merge(t, {"shard0", "shard2"}, "m4");
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find(record_path(t, 2, 3) + ": holds run " + tools::run_id(plan, 3) +
                       " with a result " + record_path(t, 0, 3) + " holds differently"),
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
  fs::copy_file(t / ("other/runs/" + tools::record_name(tools::run_id(plan_of(t, 1), 1))), file,
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
