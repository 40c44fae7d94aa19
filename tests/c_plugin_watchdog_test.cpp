// A misbehaving C plugin (docs/c-guest-code.md "When a plugin misbehaves"): a crash, an abort, a
// loop without a guest operation, a fiber stack overflow each end vcpusim with one message naming
// the vCPU, the simulated time and the last guest operation, and exit code 4 (never a core dump
// or a hang); a missing symbol or another ABI version is bad input (exit 2). The bad plugins are
// built here with `vcpusim cc`, as a user would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/cli_util.hpp"

namespace vcpusim {
namespace {

namespace fs = std::filesystem;

const std::string kLockScenario =
    std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/lock-holder-preemption.json";

// A lock "c:bad" whose lock() reads its word once (a guest operation), then runs `misdeed`.
std::string bad_lock_source(const std::string& misdeed, const std::string& extra = "") {
  return "#include <vcpusim/linux.h>\n#include <stdlib.h>\n" + extra +
         "\nstatic void bad_lock(void *o) {\n  atomic_t *w = o;\n  (void)atomic_read(w);\n  " +
         misdeed +
         "\n}\nstatic void bad_unlock(void *o) { (void)o; }\n"
         "static const struct vcpusim_lock_ops ops = {.name = \"c:bad\", .doc = \"bad\", "
         ".size = 4, .lock = bad_lock, .unlock = bad_unlock};\n"
         "int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi) {\n"
         "  if (vcpusim_begin(api, abi) != 0) return 1;\n  return api->register_lock(&ops);\n}\n";
}

// Builds `source` with vcpusim cc in `tmp` and runs the lock scenario with it.
test::CliResult run_bad(const test::TempDir& tmp, const std::string& source,
                        const std::vector<std::string>& extra_args = {}) {
  const fs::path c = tmp.path() / "bad.c", so = tmp.path() / "bad.so";
  std::ofstream(c) << source;
  const test::CliResult cc = test::run_cli({"cc", c.string(), "-o", so.string()});
  EXPECT_EQ(cc.status, 0) << cc.err;
  std::vector<std::string> args = {
      "run", kLockScenario, "--plugin", so.string(), "--set", "guest.locks.kind=c:bad", "--quiet"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return test::run_cli(args);
}

// One line on stderr, naming the plugin, what happened, the vCPU, the simulated time and the
// last guest operation; exit 4.
void expect_stopped(const test::CliResult& r, const std::string& what) {
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(r.err.rfind("vcpusim: C plugin code (bad.so) " + what, 0), 0u) << r.err;
  EXPECT_NE(r.err.find(" on vCPU "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" at simulated time "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; its last guest operation: load at "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(CPluginWatchdog, SegfaultEndsTheRunWithItsMessage) {
  test::TempDir tmp;
  expect_stopped(run_bad(tmp, bad_lock_source("*(volatile int *)16 = 1;")),
                 "crashed: SIGSEGV (an invalid memory access) ");
}

TEST(CPluginWatchdog, AbortEndsTheRunWithItsMessage) {
  test::TempDir tmp;
  expect_stopped(run_bad(tmp, bad_lock_source("abort();")),
                 "aborted (SIGABRT: abort() or a failed assert()) ");
}

TEST(CPluginWatchdog, LoopWithoutAGuestOperationIsStopped) {
  test::TempDir tmp;
  const test::CliResult r = run_bad(tmp, bad_lock_source("for (volatile int i = 0;; i++) {}"),
                                    {"--plugin-watchdog", "300ms"});
  expect_stopped(r,
                 "ran for more than 300 ms of host time without a guest operation (an "
                 "endless loop? --plugin-watchdog) ");
}

TEST(CPluginWatchdog, FiberStackOverflowIsNamed) {
  test::TempDir tmp;
  const std::string deep =
      "static int deep(int n) {\n  volatile char frame[4096];\n  frame[0] = (char)n;\n"
      "  return deep(n + 1) + frame[0];\n}\n";
  expect_stopped(run_bad(tmp, bad_lock_source("(void)deep(0);", deep)),
                 "overflowed its stack (SIGSEGV at the vCPU's fiber stack guard; large locals "
                 "or deep recursion) ");
}

// A lock's init runs before any vCPU does (the machine is being built): a crash there is named
// as such.
TEST(CPluginWatchdog, CrashInALocksInitIsNamed) {
  test::TempDir tmp;
  const std::string source =
      "#include <vcpusim/linux.h>\n"
      "static void bad_init(void *o) { (void)o; *(volatile int *)16 = 1; }\n"
      "static void nop(void *o) { (void)o; }\n"
      "static const struct vcpusim_lock_ops ops = {.name = \"c:bad\", .doc = \"bad\", "
      ".size = 4, .init = bad_init, .lock = nop, .unlock = nop};\n"
      "int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned abi) {\n"
      "  if (vcpusim_begin(api, abi) != 0) return 1;\n  return api->register_lock(&ops);\n}\n";
  const test::CliResult r = run_bad(tmp, source);
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(r.err,
            "vcpusim: C plugin code (bad.so) crashed: SIGSEGV (an invalid memory access) in a "
            "lock's init (on no vCPU, before the run)\n");
  EXPECT_EQ(r.out, "");
}

TEST(CPluginWatchdog, CrashInAnExploreWorkerEndsExploreWithItsMessage) {
  test::TempDir tmp;
  const fs::path c = tmp.path() / "bad.c", so = tmp.path() / "bad.so";
  std::ofstream(c) << bad_lock_source("*(volatile int *)16 = 1;");
  ASSERT_EQ(test::run_cli({"cc", c.string(), "-o", so.string()}).status, 0);
  const test::CliResult r =
      test::run_cli({"explore", kLockScenario, "--plugin", so.string(), "--set",
                     "guest.locks.kind=c:bad", "--schedules", "3", "-j", "2", "--quiet"});
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_NE(r.err.find("vcpusim: C plugin code (bad.so) crashed: SIGSEGV"), std::string::npos)
      << r.err;
}

TEST(CPluginWatchdog, MissingSymbolIsBadInputNamingIt) {
  test::TempDir tmp;
  const test::CliResult r = run_bad(
      tmp, bad_lock_source("vcpusim_no_such_function();", "void vcpusim_no_such_function(void);"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("bad.so: cannot be loaded: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("undefined symbol: vcpusim_no_such_function"), std::string::npos) << r.err;
}

TEST(CPluginWatchdog, PluginForAnotherAbiVersionIsBadInput) {
  test::TempDir tmp;
  // Built as against an older <vcpusim/guest.h>: its version symbol says 7.
  const test::CliResult r =
      run_bad(tmp,
              "struct vcpusim_host_api;\nconst unsigned vcpusim_plugin_abi_version = 7;\n"
              "int vcpusim_plugin_init(const struct vcpusim_host_api *api, unsigned v) {\n"
              "  (void)api; (void)v; return 0;\n}\n");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("bad.so: was built for guest ABI version 7; this vcpusim runs version 2"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace vcpusim
