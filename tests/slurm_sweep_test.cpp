// `vcpusim sweep slurm`: the scripts quote every path (run here by sh, as Slurm would), and on a
// real single-node Slurm (tests/slurm/, started and stopped by the test, state in a temp dir) the
// job array's merged results equal a local run's byte for byte.
#include <gtest/gtest.h>

#include <cstdlib>

#include "slurm_util.hpp"
#include "sweep_util.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using test::run_vcpusim;
using test::shell;
using test::slurp;
using test::sweep_spec;
using test::TempDir;

namespace {

const auto quote = test::sh_quote;

std::string local_runs_csv(const TempDir& t) {
  const auto e = run_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "-o", t / "local"},
                             t / "local.log");
  EXPECT_EQ(e.code, 0) << e.err;
  return slurp(t / "local/runs.csv");
}

TEST(SweepSlurm, ScriptsQuotePathsAndTheirShardsMergeToTheLocalRun) {
  TempDir t;
  const std::string dir = t / "out dir with 'quotes' and $HOME";
  const auto e = run_vcpusim({"sweep", "slurm", sweep_spec("small.json"), "-o", dir, "--array-size",
                              "2", "--partition", "debug", "--time", "0:10:00"},
                             t / "s.log");
  ASSERT_EQ(e.code, 0) << e.err;
  const std::string shard = slurp(dir + "/slurm/shard.sbatch");
  EXPECT_NE(shard.find("#SBATCH --array=0-1\n"), std::string::npos) << shard;
  EXPECT_NE(shard.find("#SBATCH --partition=debug\n"), std::string::npos);
  EXPECT_NE(shard.find("#SBATCH --time=0:10:00\n"), std::string::npos);
  for (const char* f : {"shard.sbatch", "merge.sbatch", "submit.sh"})
    EXPECT_EQ(shell("sh -n " + quote(dir + "/slurm/" + f)), 0) << f;
  // What the array tasks and the merge job run, run by sh here.
  for (const char* i : {"0", "1"})
    EXPECT_EQ(shell("SLURM_ARRAY_TASK_ID=" + std::string(i) + " sh " +
                    quote(dir + "/slurm/shard.sbatch") + " 2>/dev/null"),
              0);
  EXPECT_EQ(shell("sh " + quote(dir + "/slurm/merge.sbatch") + " 2>/dev/null"), 0);
  EXPECT_EQ(slurp(dir + "/runs.csv"), local_runs_csv(t));
}

TEST(SweepSlurm, JobArrayOnARealSingleNodeSlurmEqualsTheLocalRun) {
  TempDir t;
  test::SingleNodeSlurm slurm(t.path() / "slurm");
  if (slurm.status() == 77) GTEST_SKIP() << "no Slurm on this machine: " << slurp(slurm.log());
  ASSERT_EQ(slurm.status(), 0) << slurp(slurm.log());

  const std::string dir = t / "sweep";
  auto e = run_vcpusim({"sweep", "slurm", sweep_spec("small.json"), "-o", dir, "--array-size", "3"},
                       t / "s.log");
  ASSERT_EQ(e.code, 0) << e.err;
  // submit.sh --wait: sbatch blocks until the merge job (after the whole array) has ended.
  std::string ids;
  const int submitted =
      shell(slurm.env() + "sh " + quote(dir + "/slurm/submit.sh") + " --wait 2>&1", &ids);
  ASSERT_EQ(submitted, 0) << ids << slurp(dir + "/slurm/merge.out");
  for (const char* s : {"0", "1", "2"})
    EXPECT_TRUE(fs::exists(dir + "/shards/" + s + "/runs.csv")) << s;
  EXPECT_EQ(slurp(dir + "/runs.csv"), local_runs_csv(t));
  EXPECT_EQ(slurp(dir + "/summary.csv"), slurp(t / "local/summary.csv"));
}

}  // namespace
