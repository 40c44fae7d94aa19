// vcpusim sweep: statistics, strict specs, identical results serial / parallel / sharded, no run
// lost or duplicated when killed, failed runs as rows, and the host-load closed form.
#include <gtest/gtest.h>
#include <sys/file.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "sweep_util.hpp"
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
#include "tools/sweep/sweep_results.hpp"
#include "tools/sweep/sweep_runner.hpp"
#include "tools/sweep/sweep_spec.hpp"
#include "tools/sweep/sweep_stats.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using test::run_vcpusim;
using test::slurp;
using test::sweep_spec;
using test::TempDir;

namespace {

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::istringstream in(slurp(path));
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& l) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (char c : l) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted)
        out.emplace_back();
      else
        out.back() += c;
    }
    return out;
  };
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    if (header.empty()) {
      header = split(line);
      continue;
    }
    const auto f = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

TEST(SweepStats, WilsonIntervalPercentilesAndNumbers) {
  const auto none = tools::wilson95(0, 20);
  EXPECT_EQ(none.p, 0);
  EXPECT_EQ(none.lo, 0);
  EXPECT_NEAR(none.hi, 0.1611, 1e-4);  // 3.84 / (20 + 3.84)
  const auto half = tools::wilson95(10, 20);
  EXPECT_NEAR(half.lo, 0.2993, 1e-4);
  EXPECT_NEAR(half.hi, 0.7007, 1e-4);
  const auto s = tools::describe_samples({5, 1, 4, 2, 3});
  EXPECT_EQ(s.mean, 3);
  EXPECT_EQ(s.p50, 3);
  EXPECT_EQ(s.p99, 5);
  EXPECT_EQ(s.max, 5);
  EXPECT_NEAR(s.ci95, 2.776445 * std::sqrt(2.5) / std::sqrt(5.0), 1e-4);
  EXPECT_EQ(tools::describe_samples({7, 7, 7}).ci95, 0);
  EXPECT_EQ(tools::format_number(250000000), "250000000");
  EXPECT_EQ(tools::format_number(0.1 + 0.2), "0.3");
  EXPECT_EQ(tools::format_number(1.0 / 3), "0.333333");
  EXPECT_EQ(tools::format_number(-0.0), "0");
}

// The sweep directory of the small spec run with `args`; returns runs.csv.
std::string sweep(const TempDir& t, const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"sweep", sweep_spec("small.json"), "-o", t / dir});
  const auto e = run_vcpusim(args, t / (dir + ".log"));
  EXPECT_EQ(e.code, 0) << e.err;
  return slurp(t / (dir + "/runs.csv"));
}

TEST(Sweep, SerialParallelAndShardedMergedRunsAreByteIdentical) {
  TempDir t;
  const std::string serial = sweep(t, "serial", {"-j", "1"});
  const auto rows = read_csv(t / "serial/runs.csv");
  ASSERT_EQ(rows.size(), 12u);  // 2 ppm x 2 variants x 3 seeds, in point then seed order
  const auto plan = tools::read_plan(t / "serial/sweep.json");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].at("run"), tools::run_id(plan, i));  // the point's key and the seed
    EXPECT_EQ(rows[i].at("seed"), std::to_string(i % 3 + 1));
    // split-publish goes backwards at 34ms; reanchor never does.
    EXPECT_EQ(rows[i].at("violations.monotonic_time") != "0",
              rows[i].at("variant") == "split-publish");
  }
  EXPECT_EQ(sweep(t, "parallel", {"-j", "2"}), serial);
  for (int i = 0; i < 3; ++i)
    sweep(t, "shard" + std::to_string(i), {"-j", "2", "--shard", std::to_string(i) + "/3"});
  EXPECT_EQ(read_csv(t / "shard1/runs.csv").size(), 4u);
  // Missing shards are named, never a silently smaller sweep.
  auto e = run_vcpusim({"sweep", "merge", "-o", t / "partial", t / "shard0", t / "shard2"},
                       t / "m0.log");
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("4 of 12 runs are missing"), std::string::npos) << e.err;
  e = run_vcpusim({"sweep", "merge", "-o", t / "merged", t / "shard0", t / "shard1", t / "shard2"},
                  t / "m.log");
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(slurp(t / "merged/runs.csv"), serial);
  EXPECT_EQ(slurp(t / "merged/summary.csv"), slurp(t / "serial/summary.csv"));
  // Wall time is per run and varies: it lives in timings.csv, one line per run.
  EXPECT_EQ(read_csv(t / "parallel/timings.csv").size(), 12u);
  EXPECT_TRUE(fs::exists(t / "serial/index.html"));
  EXPECT_TRUE(fs::exists(t / "serial/plots/violations-monotonic_time.gp"));
}

TEST(Sweep, SigkillAtRandomMomentsThenResumeEqualsAnUninterruptedSweep) {
  TempDir t;
  const auto start = std::chrono::steady_clock::now();
  const std::string expected = sweep(t, "whole", {"-j", "2"});
  // Kill moments are drawn within 1/15 of what the whole sweep took on this machine, so twelve
  // of them cannot add up to a finished sweep however fast or loaded the machine is.
  const auto whole = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  std::mt19937 rng(11);  // fixed: the kill moments are the same fractions on every run
  std::uniform_int_distribution<int> ms(0, static_cast<int>(std::max<long long>(1, whole / 15)));
  const std::string dir = t / "killed";
  int kills = 0;
  for (; kills < 12; ++kills) {
    const pid_t pid =
        test::start_vcpusim({"sweep", sweep_spec("small.json"), "-j", "2", "-o", dir}, t / "k.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
    ::kill(pid, SIGKILL);
    const auto e = test::wait_vcpusim(pid, t / "k.log");
    if (e.code == 0) break;  // it finished before the kill: nothing left to interrupt
    EXPECT_EQ(e.signal, SIGKILL) << "exit " << e.code << ": " << e.err;
    // Whatever moment it died (maybe before it made its directories), the records are whole
    // runs, each once.
    if (!fs::exists(fs::path(dir) / "runs")) continue;
    for (const auto& f : fs::directory_iterator(fs::path(dir) / "runs"))
      EXPECT_TRUE(f.path().filename().string().rfind("run-", 0) == 0 ||
                  f.path().filename().string().rfind(".tmp-", 0) == 0);
  }
  EXPECT_GE(kills, 10);
  EXPECT_EQ(sweep(t, "killed", {"-j", "2"}), expected);
}

// The directory's lock is held (here by the test, as by another sweep): the sweep waits its two
// seconds for a dying sweep's runs to let go, then refuses, having written nothing.
TEST(Sweep, ADirectoryAnotherSweepIsWritingIsRefused) {
  TempDir t;
  const fs::path dir = t / "taken";
  fs::create_directories(dir);
  std::ofstream(dir / tools::kSweepMarker) << tools::kSweepMarkerText;  // another sweep's
  const int fd = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const auto e = run_vcpusim({"sweep", sweep_spec("small.json"), "-o", dir}, t / "l.log");
  ::close(fd);
  EXPECT_EQ(e.code, 2) << e.err;
  EXPECT_NE(e.err.find("another sweep is writing into this directory"), std::string::npos) << e.err;
  EXPECT_FALSE(fs::exists(dir / "runs"));
}

TEST(Sweep, SigintStopsCleanlyKeepingFinishedRuns) {
  TempDir t;
  const std::string expected = sweep(t, "whole", {"-j", "1"});
  const std::string dir = t / "interrupted";
  const pid_t pid =
      test::start_vcpusim({"sweep", sweep_spec("small.json"), "-j", "1", "-o", dir}, t / "i.log");
  // Interrupt once the first run is recorded (polling the directory, not timing the sweep).
  const auto plan = tools::SweepSpec::load(sweep_spec("small.json")).resolved();
  const fs::path first = fs::path(dir) / "runs" / tools::record_name(tools::run_id(plan, 0));
  while (!fs::exists(first)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGINT);
  const auto e = test::wait_vcpusim(pid, t / "i.log");
  ASSERT_TRUE(e.code == tools::kSweepInterrupted || e.code == 0) << e.err;
  if (e.code == tools::kSweepInterrupted) {
    EXPECT_NE(e.err.find("run the same command again to resume"), std::string::npos) << e.err;
    const auto rows = read_csv(dir + "/runs.csv");
    EXPECT_GE(rows.size(), 1u);
    EXPECT_LT(rows.size(), 12u);
  }
  EXPECT_EQ(sweep(t, "interrupted", {"-j", "1"}), expected);
}

// A run that fails is a row with its error, and the sweep goes on (a stand-in binary fails the
// runs of seed 2).
TEST(Sweep, FailedAndCrashedRunsAreRowsWithTheirError) {
  TempDir t;
  const std::string fake = t / "fake-vcpusim";
  {
    std::ofstream f(fake);
    f << "#!/bin/sh\ncase \"$*\" in\n"
         "  *'--seed 2 '*) echo 'vcpusim: simulation error: the stand-in fails seed 2' >&2; exit 3 "
         ";;\n"
         "  *'--seed 3 '*) kill -SEGV $$ ;;\nesac\nexec '"
      << VCPUSIM_BINARY << "' \"$@\"\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  tools::SweepOptions o;
  o.dir = t / "out";
  o.jobs = 2;
  o.self = fake;
  const auto spec = tools::SweepSpec::load(sweep_spec("small.json"));
  testing::internal::CaptureStderr();
  EXPECT_EQ(tools::run_sweep(spec, o), 0);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("8 runs failed"), std::string::npos) << err;
  const auto rows = read_csv(o.dir + "/runs.csv");
  ASSERT_EQ(rows.size(), 12u);
  for (const auto& r : rows) {
    if (r.at("seed") == "2") {
      EXPECT_EQ(r.at("status"), "sim-error");
      EXPECT_EQ(r.at("exit_code"), "3");
      EXPECT_EQ(r.at("error"), "vcpusim: simulation error: the stand-in fails seed 2");
    } else if (r.at("seed") == "3") {
      EXPECT_EQ(r.at("status"), "crashed");
      EXPECT_EQ(r.at("exit_code"), "139");
      EXPECT_NE(r.at("error").find("signal 11"), std::string::npos);
    } else {
      EXPECT_TRUE(r.at("status") == "met" || r.at("status") == "not-met");
    }
  }
  const auto summary = read_csv(o.dir + "/summary.csv");
  EXPECT_EQ(summary.at(0).at("failed"), "2");
}

// scenarios/sweeps/vdso-host-load.json reduced: no violation without load, and the closed form
// of the mechanism (tools/sweep/sweep_model.cpp) inside the Wilson interval at every point. The seeds
// make that interval narrow enough to mean something: the law off by 2 either way, twice or half
// the per-update hazard (1 - (1 - p)^k), falls outside it at some point, and so does k * p,
// which lies further from p on the same side.
TEST(Sweep, HostLoadClosedFormFitsTheWilsonIntervalsTwiceOrHalfItDoesNot) {
  TempDir t;
  const auto e = run_vcpusim(
      {"sweep", sweep_spec("vdso-host-load-reduced.json"), "-j", "2", "-o", t / "o"}, t / "o.log");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto rows = read_csv(t / "o/summary.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("monotonic_time.violating_runs"), "0");
  EXPECT_EQ(rows[0].at("model.p"), "0");
  std::map<double, std::vector<std::string>> excluded;  // scale -> the loads whose band excludes it
  for (const auto& r : rows) {
    const double p = std::stod(r.at("model.p"));
    const double lo = std::stod(r.at("monotonic_time.p_lo95"));
    const double hi = std::stod(r.at("monotonic_time.p_hi95"));
    EXPECT_GE(p, lo) << "host load " << r.at("host_load");
    EXPECT_LE(p, hi) << "host load " << r.at("host_load");
    if (p == 0) continue;
    for (const double k : {2.0, 0.5}) {
      const double scaled = 1 - std::pow(1 - p, k);
      if (scaled >= lo && scaled <= hi) continue;
      excluded[k].push_back(r.at("host_load") + "%");
      EXPECT_TRUE(k * p < lo || k * p > hi) << k << " x the law at " << r.at("host_load") << "%";
    }
  }
  for (const double k : {2.0, 0.5})
    EXPECT_FALSE(excluded[k].empty())
        << "the law scaled by " << k << " lies inside the Wilson interval at every load: "
        << "too few seeds for the test to tell it from the law";
  RecordProperty("law_twice_excluded_at", testing::PrintToString(excluded[2.0]));
  RecordProperty("law_half_excluded_at", testing::PrintToString(excluded[0.5]));
  // The curve rises with the load: a preemption inside the window needs an arrival (rate 1/idle).
  EXPECT_LT(std::stod(rows[1].at("monotonic_time.p")), std::stod(rows[2].at("monotonic_time.p")));
  EXPECT_GT(std::stod(rows[2].at("monotonic_time.p")), 0.5);
}

}  // namespace
