// Issue 26, sweeps: `vcpusim sweep SPEC -o duty`, a bare relative directory name, is created.
#include "tools/sweep/sweep_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "sweep_util.hpp"

namespace fs = std::filesystem;
using namespace vcpusim;
using test::TempDir;

namespace {

// -o duty, a bare name: std::filesystem reports "not found" for the absent directory in the
// error code it then read as a failure to create it.
TEST(SweepDir, BareRelativeOutputDirectoryNameIsCreated) {
  TempDir t;
  const fs::path cwd = fs::current_path();
  fs::current_path(t.path());
  std::string made, error;
  try {
    made = tools::claim_sweep_dir("duty", {});
  } catch (const std::exception& e) {
    error = e.what();
  }
  fs::current_path(cwd);
  EXPECT_EQ(error, "");
  EXPECT_EQ(made, fs::canonical(t / "duty").string());
  EXPECT_TRUE(tools::is_sweep_dir(t / "duty"));
}

}  // namespace
