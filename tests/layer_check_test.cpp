// tests/layer_check.sh (run by .ci/run and as the ctest LayerCheck.SourcesKeepTheirLayers) catches
// an include against the layering in every spelling the compiler accepts, and names the line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "cli_util.hpp"

namespace {

namespace fs = std::filesystem;
using vcpusim::test::read_file;
using vcpusim::test::shell_quote;
using vcpusim::test::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct Check {
  int status = -1;
  std::string out;
};

Check layer_check(const fs::path& root, const fs::path& out) {
  const std::string cmd = shell_quote(std::string(VCPUSIM_SOURCE_DIR) + "/tests/layer_check.sh") +
                          " " + shell_quote(root.string()) + " >" + shell_quote(out.string()) +
                          " 2>&1";
  const int raw = std::system(cmd.c_str());
  return {raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out)};
}

// Runs the check on `root`: with no `lines` it must pass; else it must fail and print exactly
// those lines (each found as written) and its verdict.
void expect_flags(const fs::path& root, const fs::path& out,
                  const std::vector<std::string>& lines = {}) {
  const Check c = layer_check(root, out);
  EXPECT_EQ(c.status, lines.empty() ? 0 : 1) << c.out;
  for (const std::string& line : lines)
    EXPECT_NE(c.out.find(line), std::string::npos) << line << "\n" << c.out;
  if (!lines.empty())
    EXPECT_EQ(std::count(c.out.begin(), c.out.end(), '\n'),
              static_cast<std::ptrdiff_t>(lines.size() + 1))
        << c.out;
}

}  // namespace

TEST(LayerCheck, FlagsEachIncludeAgainstTheLayersAndPassesTheAllowedOnes) {
  TempDir tmp;
  const fs::path root = tmp.path() / "src";
  for (const char* f : {"sim/time.hpp", "cpu/machine.hpp", "guest/rcu.hpp", "tools/run/scenario.hpp"})
    write(root / f, "");
  write(root / "sim/ok.cpp",
        "#include <vector>\n#include \"time.hpp\"\n#include \"sim/time.hpp\"\n");
  write(root / "cpu/ok.cpp", "#include \"sim/time.hpp\"\n#include \"../sim/time.hpp\"\n");
  write(root / "guest/locks/ok.cpp",
        "#include \"cpu/machine.hpp\"\n#include \"../../sim/time.hpp\"\n");
  const fs::path out = tmp.path() / "out";
  expect_flags(root, out);

  write(root / "sim/a.hpp", "#include <vector>\n#  include   \"../tools/run/scenario.hpp\" // why\n");
  write(root / "sim/b.cpp", "#include <cpu/machine.hpp>\n");
  write(root / "cpu/c.cpp", "#include \"sim/time.hpp\"\n #include \"guest/rcu.hpp\"\n");
  write(root / "guest/locks/d.cpp", "#include \"../../tools/run/scenario.hpp\"\n");
  write(root / "guest/e.hpp", "#include \"tools/moved_away.hpp\"\n");
  expect_flags(
      root, out,
      {"sim/a.hpp:2: sim/ must not include tools/: #  include   \"../tools/run/scenario.hpp\" // "
       "why",
       "sim/b.cpp:1: sim/ must not include cpu/: #include <cpu/machine.hpp>",
       "cpu/c.cpp:2: cpu/ must not include guest/:  #include \"guest/rcu.hpp\"",
       "guest/locks/d.cpp:1: guest/ must not include tools/: #include "
       "\"../../tools/run/scenario.hpp\"",
       "guest/e.hpp:1: guest/ must not include tools/: #include \"tools/moved_away.hpp\""});
}

// The rooms of tools/ (tools/README.md): run/ below view/, both below explore/ and sweep/, which
// do not include each other; a room takes of tools/ itself only the argument parser.
TEST(LayerCheck, FlagsAnIncludeBetweenRoomsOfToolsAgainstTheirOrder) {
  TempDir tmp;
  const fs::path root = tmp.path() / "src";
  for (const char* f : {"sim/time.hpp", "cpu/machine.hpp", "guest/rcu.hpp", "tools/cli_args.hpp",
                        "tools/commands.hpp", "tools/run/scenario.hpp", "tools/view/report.hpp",
                        "tools/explore/explore.hpp", "tools/sweep/sweep_spec.hpp"})
    write(root / f, "");
  write(root / "tools/explore/ok.cpp",
        "#include \"tools/cli_args.hpp\"\n#include \"tools/run/scenario.hpp\"\n"
        "#include \"tools/view/report.hpp\"\n#include \"guest/rcu.hpp\"\n");
  write(root / "tools/commands.cpp",
        "#include \"tools/explore/explore.hpp\"\n#include \"tools/sweep/sweep_spec.hpp\"\n");
  const fs::path out = tmp.path() / "out";
  expect_flags(root, out);

  write(root / "tools/run/a.cpp", "#include \"../view/report.hpp\"\n");
  write(root / "tools/view/b.cpp", "#include \"tools/explore/explore.hpp\"\n");
  write(root / "tools/sweep/c.cpp", "#include \"tools/explore/explore.hpp\"\n");
  write(root / "tools/explore/d.cpp", "#include \"tools/commands.hpp\"\n");
  expect_flags(root, out,
               {"tools/run/a.cpp:1: tools/run/ must not include tools/view/",
                "tools/view/b.cpp:1: tools/view/ must not include tools/explore/",
                "tools/sweep/c.cpp:1: tools/sweep/ must not include tools/explore/",
                "tools/explore/d.cpp:1: tools/explore/ must not include tools/"});
}

// The rooms of cpu/ (cpu/README.md): host/ below vm/, both below ftrace/; host/ and ftrace/ take
// of cpu/ itself only the parameters, and the layers outside see cpu/ as one.
TEST(LayerCheck, FlagsAnIncludeBetweenRoomsOfCpuAgainstTheirOrder) {
  TempDir tmp;
  const fs::path root = tmp.path() / "src";
  for (const char* f :
       {"sim/time.hpp", "cpu/machine.hpp", "cpu/params.hpp", "guest/rcu.hpp",
        "cpu/host/host_scheduler.hpp", "cpu/vm/vcpu.hpp", "cpu/ftrace/trace_load.hpp"})
    write(root / f, "");
  write(root / "cpu/ftrace/ok.cpp",
        "#include \"cpu/params.hpp\"\n#include \"cpu/host/host_scheduler.hpp\"\n"
        "#include \"../vm/vcpu.hpp\"\n");
  write(root / "cpu/vm/ok.cpp",
        "#include \"cpu/machine.hpp\"\n#include \"cpu/host/host_scheduler.hpp\"\n");
  write(root / "cpu/host/ok.cpp", "#include \"cpu/params.hpp\"\n#include \"sim/time.hpp\"\n");
  write(root / "guest/ok.cpp", "#include \"cpu/vm/vcpu.hpp\"\n");
  const fs::path out = tmp.path() / "out";
  expect_flags(root, out);

  write(root / "cpu/host/a.cpp", "#include \"../vm/vcpu.hpp\"\n");
  write(root / "cpu/host/b.cpp", "#include \"cpu/machine.hpp\"\n");
  write(root / "cpu/vm/c.cpp", "#include \"cpu/ftrace/trace_load.hpp\"\n");
  write(root / "cpu/ftrace/d.cpp", "#include \"cpu/machine.hpp\"\n");
  write(root / "sim/e.cpp", "#include \"cpu/host/host_scheduler.hpp\"\n");
  write(root / "cpu/vm/f.cpp", "#include \"guest/rcu.hpp\"\n");
  expect_flags(root, out,
               {"cpu/host/a.cpp:1: cpu/host/ must not include cpu/vm/",
                "cpu/host/b.cpp:1: cpu/host/ must not include cpu/:",
                "cpu/vm/c.cpp:1: cpu/vm/ must not include cpu/ftrace/",
                "cpu/ftrace/d.cpp:1: cpu/ftrace/ must not include cpu/:",
                "sim/e.cpp:1: sim/ must not include cpu/:",
                "cpu/vm/f.cpp:1: cpu/vm/ must not include guest/"});
}

// The rooms of sim/ (sim/README.md): config/ below record/, record/ below core/ and trace/, all
// three below checks/; the files of sim/ itself (time, error) below every room, and the layers
// outside see sim/ as one.
TEST(LayerCheck, FlagsAnIncludeBetweenRoomsOfSimAgainstTheirOrder) {
  TempDir tmp;
  const fs::path root = tmp.path() / "src";
  for (const char* f :
       {"sim/time.hpp", "sim/config/config.hpp", "sim/record/recorder.hpp", "sim/core/kernel.hpp",
        "sim/trace/trace.hpp", "sim/checks/checks.hpp", "guest/rcu.hpp"})
    write(root / f, "");
  write(root / "sim/checks/ok.cpp",
        "#include \"sim/core/kernel.hpp\"\n#include \"../record/recorder.hpp\"\n"
        "#include \"sim/config/config.hpp\"\n#include \"sim/time.hpp\"\n");
  write(root / "sim/core/ok.cpp", "#include \"sim/record/recorder.hpp\"\n");
  write(root / "sim/trace/ok.cpp", "#include \"sim/record/recorder.hpp\"\n");
  write(root / "sim/record/ok.cpp", "#include \"sim/config/config.hpp\"\n");
  write(root / "cpu/ok.cpp",
        "#include \"sim/core/kernel.hpp\"\n#include \"sim/trace/trace.hpp\"\n");
  const fs::path out = tmp.path() / "out";
  expect_flags(root, out);

  write(root / "sim/config/a.cpp", "#include \"sim/record/recorder.hpp\"\n");
  write(root / "sim/record/b.cpp", "#include \"../core/kernel.hpp\"\n");
  write(root / "sim/core/c.cpp", "#include \"sim/checks/checks.hpp\"\n");
  write(root / "sim/trace/d.cpp", "#include \"sim/core/kernel.hpp\"\n");
  write(root / "sim/checks/e.cpp", "#include \"sim/trace/trace.hpp\"\n");
  write(root / "sim/f.cpp", "#include \"sim/config/config.hpp\"\n");
  expect_flags(root, out,
               {"sim/config/a.cpp:1: sim/config/ must not include sim/record/",
                "sim/record/b.cpp:1: sim/record/ must not include sim/core/",
                "sim/core/c.cpp:1: sim/core/ must not include sim/checks/",
                "sim/trace/d.cpp:1: sim/trace/ must not include sim/core/",
                "sim/checks/e.cpp:1: sim/checks/ must not include sim/trace/",
                "sim/f.cpp:1: sim/ must not include sim/config/"});
}
