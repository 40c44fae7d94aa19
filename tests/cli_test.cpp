// The first hour with the real vcpusim binary: run --no-expect, the messages that say what to do,
// the timeline of a windowed trace, the report's lanes for the mechanism (reads, seqcount write
// sections, the timekeeping update, predicted vs measured steps).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string kBinary = VCPUSIM_BINARY;
const std::string kDemo = std::string(VCPUSIM_SOURCE_DIR) + "/scenarios/vdso-time-backwards.json";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A directory per test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("vcpusim_cli_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

struct Cli {
  int status = -1;
  std::string out, err;
};

Cli run(const std::vector<std::string>& args) {
  TempDir tmp;
  std::string cmd = quote(kBinary);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(tmp / "out") + " 2>" + quote(tmp / "err") + " </dev/null";
  const int raw = std::system(cmd.c_str());
  Cli r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(tmp / "out");
  r.err = slurp(tmp / "err");
  return r;
}

}  // namespace

TEST(Cli, NoExpectExitsZeroWhateverTheViolations) {
  const std::string fix = "guest.timekeeping.variant=reanchor";
  EXPECT_EQ(run({"run", "-q", kDemo, "--set", fix}).status, 1) << "the expect block wants a bug";
  EXPECT_EQ(run({"run", "-q", kDemo, "--set", fix, "--no-expect"}).status, 0);
  EXPECT_EQ(run({"run", "-q", kDemo, "--no-expect"}).status, 0);
  EXPECT_EQ(run({"run", "-q", kDemo, "--no-expect", "--set", "vm.vcpus=0"}).status, 2)
      << "bad input still exits 2";
}

TEST(Cli, PinningThatIsNotAListOfListsShowsAnExample) {
  const Cli r = run({"run", kDemo, "--set", "vm.pinning=[0,1]"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("$.vm.pinning[0]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[[0],[1]]"), std::string::npos) << r.err;
}

TEST(Cli, TimelineOfANonTraceNamesTheFile) {
  TempDir tmp;
  const std::string result = tmp / "result.json";
  ASSERT_EQ(run({"run", "-q", kDemo, "--json", result, "--set", "duration=\"10ms\""}).status, 1);
  const Cli r = run({"timeline", result});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(result + ": not a trace file"), std::string::npos) << r.err;
  const Cli rep = run({"report", result, "--trace", result, "-o", tmp / "r.html"});
  EXPECT_EQ(rep.status, 2);
  EXPECT_NE(rep.err.find(result + ": not a trace file"), std::string::npos) << rep.err;
  EXPECT_FALSE(fs::exists(tmp / "r.html"));
}

TEST(Cli, AroundViolationOutOfRangeSaysTheValidRange) {
  TempDir tmp;
  const std::string trace = tmp / "trace.json";
  ASSERT_EQ(run({"run", "-q", kDemo, "--trace", trace, "--trace-kinds", "vcpu,violation"}).status,
            0);
  const Cli r = run({"timeline", trace, "--around-violation", "9"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("allowed: 0 to 3"), std::string::npos) << r.err;
}

// A trace written for 3..35 ms: the timeline shows that window, not 3 ms .. the end of the run
// (which would call the untraced rest idle).
TEST(Cli, TimelineUsesTheWindowTheTraceWasWrittenWith) {
  TempDir tmp;
  const std::string trace = tmp / "trace.json";
  ASSERT_EQ(run({"run", "-q", kDemo, "--trace", trace, "--trace-from", "3ms", "--trace-to", "35ms",
                 "--trace-kinds", "sched,vcpu,violation"})
                .status,
            0);
  EXPECT_EQ(slurp(trace).rfind("{\"window_ps\":{\"from\":3000000000,\"to\":35000000000},", 0), 0u);
  const Cli r = run({"timeline", trace, "--width", "60"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("window 3.000000ms .. 35.000000ms"), std::string::npos) << r.out;
  // Without kinds that start at the window's edge, the window still comes from the metadata.
  const std::string reads = tmp / "reads.json";
  ASSERT_EQ(run({"run", "-q", kDemo, "--trace", reads, "--trace-from", "3ms", "--trace-to",
                 "3100us", "--trace-kinds", "read"})
                .status,
            0);
  const Cli rr = run({"timeline", reads, "--width", "60"});
  ASSERT_EQ(rr.status, 0) << rr.err;
  EXPECT_NE(rr.out.find("window 3.000000ms .. 3.100000ms"), std::string::npos) << rr.out;
}

// The report shows how the bug happens: the reads (density strip and the reads around each
// violation), the seqcount write sections and the timekeeping update from c0 to publication in
// lanes of their own, and the predicted next to the measured step of each violation.
TEST(Cli, ReportShowsTheMechanism) {
  TempDir tmp;
  const std::string result = tmp / "result.json", trace = tmp / "trace.json",
                    html = tmp / "report.html";
  ASSERT_EQ(run({"run", "-q", kDemo, "--json", result, "--trace", trace, "--trace-from", "3ms",
                 "--trace-to", "36ms"})
                .status,
            0);
  ASSERT_EQ(run({"report", result, "--trace", trace, "-o", html}).status, 0);
  const std::string h = slurp(html);
  for (const char* lane : {">vCPU1 reads<", ">seqcount writes<", ">timekeeping<"})
    EXPECT_NE(h.find(lane), std::string::npos) << lane;
  EXPECT_NE(h.find("class=\"read-density\""), std::string::npos);
  EXPECT_NE(h.find("class=\"read-mark\""), std::string::npos) << "the reads around the violation";
  EXPECT_NE(h.find("write vdso.seq"), std::string::npos);
  EXPECT_NE(h.find("class=\"update-span\""), std::string::npos);
  // Predicted vs measured, per violation, as the result's details give them.
  const auto doc = nlohmann::json::parse(slurp(result));
  const auto& d = doc["violations"][0]["details"];
  const auto row = h.find("id=\"violation-0\"");
  ASSERT_NE(row, std::string::npos);
  const std::string tr = h.substr(row, h.find("</tr>", row) - row);
  auto ns = [&d](const char* key) { return std::to_string(d[key].get<std::int64_t>()) + " ns"; };
  EXPECT_NE(tr.find("<td class=\"step\">" + ns("backward_step_ns") + "</td>"), std::string::npos)
      << tr;
  EXPECT_NE(tr.find(ns("predicted_step_ns") + " at the reads (" + ns("read_spacing_ns")),
            std::string::npos)
      << tr;
  EXPECT_NE(tr.find("publish-delay term " + ns("publish_delay_term_ns")), std::string::npos) << tr;
}
