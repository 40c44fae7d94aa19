// Issue 22, files vcpusim writes: an output option never replaces a device, a FIFO or a socket;
// explore writes only into a directory it made, found empty or marked before, and one explore
// at a time; shrink replaces only the passing file an earlier shrink wrote.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "cli_util.hpp"
#include "scenario_util.hpp"
#include "sim/config/config.hpp"
#include "text_file.hpp"

namespace vcpusim::test {
namespace {

using vcpusim::test::write;

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

mode_t type_of(const fs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

void expect_refused(const CliResult& r, const std::string& says) {
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
}

// Every output option of every command, given a FIFO, a character device (the kind /dev/null
// is, made here with mknod when the test runs as root) or a symlink to the FIFO: refused with
// exit 2, the special file still what it was, and no temporary file left beside it.
TEST(OutputSafety, DeviceNodeIsNeverReplaced) {
  TempDir tmp;
  const fs::path fifo = tmp.path() / "fifo", dev = tmp.path() / "null", link = tmp.path() / "link";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink(fifo, link);
  std::vector<std::pair<fs::path, std::string>> targets = {{fifo, "is a FIFO"},
                                                           {link, "is a symlink to a FIFO"}};
  if (::mknod(dev.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0)
    targets.push_back({dev, "is a character device"});
  else
    std::cerr << "not root: the character-device case is left out\n";
  // The inputs need not be valid: every output is checked before any input is read.
  const fs::path input = tmp.path() / "input.json";
  write(input, "{}\n");
  const std::set<std::string> before = names_in(tmp.path());
  for (const auto& [target, says] : targets) {
    const std::string t = target.string(), in = input.string();
    const std::vector<std::vector<std::string>> commands = {
        {"run", scenario_path("vdso-time-backwards.json"), "-q", "--json", t},
        {"run", scenario_path("vdso-time-backwards.json"), "-q", "--trace", t},
        {"run", scenario_path("vdso-time-backwards.json"), "-q", "--vcd", t},
        {"report", in, "-o", t},
        {"report", "--diff", in, in, "-o", t},
        {"shrink", in, "-o", t},
    };
    for (const auto& args : commands) {
      SCOPED_TRACE(args[0] + " " + args[args.size() - 2] + " " + t);
      expect_refused(run_cli(args),
                     says + "; allowed: a regular file or a name that does not exist yet");
    }
  }
  // shrink's second output, the passing run beside MIN, is checked the same way.
  const fs::path passing = tmp.path() / "min.passing.json";
  ASSERT_EQ(::mkfifo(passing.c_str(), 0600), 0);
  expect_refused(run_cli({"shrink", input.string(), "-o", (tmp.path() / "min.json").string()}),
                 "-o (the passing run beside it) " + sim::quote(passing.string()) + ": is a FIFO");
  EXPECT_EQ(type_of(passing), S_IFIFO);
  fs::remove(passing);

  EXPECT_EQ(type_of(fifo), S_IFIFO);
  EXPECT_EQ(type_of(link), S_IFLNK);
  EXPECT_EQ(fs::read_symlink(link), fifo);
  if (targets.size() == 3) {
    struct stat st {};
    ASSERT_EQ(::lstat(dev.c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, ::makedev(1, 3));
  }
  EXPECT_EQ(names_in(tmp.path()), before) << "a temporary file was left behind";
}

// The control: a regular file and a symlink to one are still replaced (the link by the file).
TEST(OutputSafety, RegularFilesAreStillReplaced) {
  TempDir tmp;
  const fs::path out = tmp.path() / "r.json", victim = tmp.path() / "victim",
                 link = tmp.path() / "link.json";
  write(out, "old\n");
  write(victim, "precious\n");
  fs::create_symlink(victim, link);
  for (const fs::path& p : {out, link}) {
    const CliResult r = run_cli({"run", scenario_path("vdso-time-backwards.json"), "-q", "--set",
                                 "duration=1ms", "--json", p.string()});
    EXPECT_LE(r.status, 1) << r.err;
    EXPECT_EQ(type_of(p), S_IFREG);
    EXPECT_TRUE(sim::Json::accept(read_file(p)));
  }
  EXPECT_EQ(read_file(victim), "precious\n");
}

const std::string kFast = scenario_path("explore/pv-hash-race-unplaced.json");

// Whether some process holds a write lock on `file` (the marker explore locks), and which.
pid_t lock_holder(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  const bool ok = ::fcntl(fd, F_GETLK, &probe) == 0;
  ::close(fd);
  return ok && probe.l_type != F_UNLCK ? probe.l_pid : 0;
}

// A running explore (two worker processes) holds its directory: a second explore into it is
// refused and writes nothing. Killing the first frees the directory at once, although its
// workers may still be running.
TEST(ExploreSafety, SecondExploreIntoTheSameDirectoryIsRefused) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "out", marker = dir / ".vcpusim-explore";
  const pid_t first = ::fork();
  ASSERT_GE(first, 0);
  if (first == 0) {
    ::freopen("/dev/null", "w", stdout);
    ::execl(VCPUSIM_BINARY, VCPUSIM_BINARY, "explore", kFast.c_str(), "--schedules", "1000000000",
            "-j", "2", "-q", "-o", dir.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool running = true;
  pid_t holder = 0;
  while (running && holder == 0) {  // until it holds the lock (or ends, which fails the test)
    holder = lock_holder(marker);
    int status = 0;
    running = ::waitpid(first, &status, WNOHANG) == 0;
    if (holder == 0) ::usleep(10000);
  }
  ASSERT_TRUE(running) << "the first explore ended before it held " << marker;
  EXPECT_EQ(holder, first);

  const CliResult second =
      run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", dir.string()});
  expect_refused(second, "-o " + sim::quote(dir.string()) +
                             ": another vcpusim explore is writing into this directory");
  EXPECT_FALSE(fs::exists(dir / "explore.json"));

  ::kill(first, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(first, &status, 0), first);
  const CliResult third = run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", dir.string()});
  EXPECT_LE(third.status, 1) << third.err;
  EXPECT_TRUE(fs::exists(dir / "explore.json"));
}

// explore -o DIR never writes among files it did not write: a non-empty directory without its
// marker, a marker that is a planted symlink, and a regular file are refused, all untouched; an
// empty directory someone else made is taken and marked.
TEST(ExploreSafety, DirectoryItDidNotMakeIsNotWritten) {
  TempDir tmp;
  const fs::path mine = tmp.path() / "mine";
  fs::create_directories(mine);
  write(mine / "notes.txt", "mine\n");
  write(mine / "explore.json", "my own explore.json\n");
  expect_refused(run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", mine.string()}),
                 "is not empty and was not written by vcpusim explore; allowed: a new or empty "
                 "directory, or one vcpusim explore wrote before (it holds .vcpusim-explore)");
  EXPECT_EQ(names_in(mine), (std::set<std::string>{"notes.txt", "explore.json"}));
  EXPECT_EQ(read_file(mine / "explore.json"), "my own explore.json\n");

  const fs::path planted = tmp.path() / "planted", victim = tmp.path() / "victim";
  fs::create_directories(planted);
  write(victim, "precious\n");
  fs::create_symlink(victim, planted / ".vcpusim-explore");
  expect_refused(run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", planted.string()}),
                 "cannot open its marker .vcpusim-explore");
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_EQ(names_in(planted), (std::set<std::string>{".vcpusim-explore"}));

  const fs::path file = tmp.path() / "file";
  write(file, "a file\n");
  const CliResult r = run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", file.string()});
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(read_file(file), "a file\n");

  const fs::path empty = tmp.path() / "empty";
  fs::create_directories(empty);
  const CliResult ok = run_cli({"explore", kFast, "--schedules", "2", "-q", "-o", empty.string()});
  EXPECT_LE(ok.status, 1) << ok.err;
  EXPECT_TRUE(fs::exists(empty / ".vcpusim-explore"));
  EXPECT_TRUE(fs::exists(empty / "explore.json"));
}

// In its own directory explore removes the replay files an earlier explore wrote and this one
// did not (they would pass for its findings), and nothing else: not other files, not a link.
TEST(ExploreSafety, AnEarlierExploresStaleReplaysAreRemoved) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "out", victim = tmp.path() / "victim";
  write(victim, "precious\n");
  // One schedule: the scenario's own run, which passes, so no replay file.
  auto explore = [&] {
    return run_cli({"explore", kFast, "--schedules", "1", "-q", "-o", dir.string()});
  };
  ASSERT_EQ(explore().status, 0);
  write(dir / "failure-3.replay.json", "an earlier explore's\n");
  write(dir / "notes.txt", "mine\n");
  fs::create_symlink(victim, dir / "failure-4.replay.json");
  const CliResult r = explore();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(names_in(dir), (std::set<std::string>{".vcpusim-explore", "explore.json", "notes.txt",
                                                  "failure-4.replay.json"}));
  EXPECT_EQ(read_file(victim), "precious\n");
}

// shrink writes MIN.passing.json beside MIN, a name the user did not give: a file there that an
// earlier shrink did not write is refused and left as it was.
TEST(ShrinkSafety, APassingFileItDidNotWriteIsNotReplaced) {
  TempDir tmp;
  const fs::path min = tmp.path() / "min.json", passing = tmp.path() / "min.passing.json";
  const fs::path input = tmp.path() / "found.json";
  write(input, "{}\n");
  write(passing, "mine\n");
  expect_refused(run_cli({"shrink", input.string(), "-o", min.string()}),
                 "exists and is not a replay vcpusim shrink wrote");
  EXPECT_EQ(read_file(passing), "mine\n");
  EXPECT_FALSE(fs::exists(min));
}

}  // namespace
}  // namespace vcpusim::test
