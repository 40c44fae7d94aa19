#include "tools/sweep/sweep_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "sim/error.hpp"
#include "tools/sweep/sweep_progress.hpp"
#include "tools/sweep/sweep_report.hpp"
#include "tools/sweep/sweep_results.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;
using sim::Json;

namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  std::size_t run, point;
  std::uint64_t seed;
  std::string json, err;
  Clock::time_point start;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream t;
  t << in.rdbuf();
  return t.str();
}

// The last non-empty line of a run's stderr, shortened: the row's error.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.size() > 400 ? last.substr(0, 400) + "..." : last;
}

// One lock per sweep directory, held while the sweep writes: two sweeps into one DIR would
// race on its work files. A sweep killed a moment ago may still have a run child between fork and
// exec holding the lock's file (it dies with its parent, but not at once): resuming right after a
// kill waits up to two seconds for it before calling the directory taken.
int lock_dir(const std::string& dir) {
  const std::string path = (fs::path(dir) / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw sim::ConfigError(dir + ": cannot create " + path);
  const auto give_up = Clock::now() + std::chrono::seconds(2);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (Clock::now() >= give_up) {
      ::close(fd);
      throw sim::ConfigError(dir + ": another sweep is writing into this directory");
    }
    const timespec pause{0, 20'000'000};
    ::nanosleep(&pause, nullptr);
  }
  return fd;
}

// What the runs of a sweep depend on: a DIR holding runs of the same identity can be resumed even
// when the spec's metrics, plots or model changed.
Json run_identity(const Json& plan) {
  Json sets = Json::array();
  for (const auto& p : plan.at("points")) sets.push_back(p.at("set"));
  return {plan.at("scenario"), plan.at("scenario_fnv1a"), plan.at("seeds"), sets};
}

// Creates DIR (or checks it holds runs of this sweep) and writes DIR/sweep.json.
void prepare_dir(const std::string& dir, const Json& plan) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "runs", ec);
  if (ec)
    throw sim::ConfigError(dir + ": cannot create the sweep directory (" + ec.message() + ")");
  const fs::path spec = fs::path(dir) / "sweep.json";
  if (fs::exists(spec)) {
    Json old;
    try {
      old = Json::parse(slurp(spec.string()));
      if (run_identity(old) != run_identity(plan))
        throw sim::ConfigError(dir +
                               ": holds runs of a different sweep (scenario, its content, "
                               "seeds or points differ); use another -o DIR or remove it");
    } catch (const Json::exception&) {
      throw sim::ConfigError(spec.string() + ": not a sweep.json");
    }
    if (old == plan) return;
  }
  write_file_durably(spec.string(), plan.dump(2) + "\n");
}

RunRecord finish_run(const Child& c, int status) {
  RunRecord r;
  r.run = c.run;
  r.point = c.point;
  r.seed = c.seed;
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - c.start).count();
  const std::string err = last_line(slurp(c.err));
  if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
    r.status = "crashed";
    r.error = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
              strsignal(WTERMSIG(status)) + ")" + (err.empty() ? "" : ": " + err);
    return r;
  }
  r.exit_code = WEXITSTATUS(status);
  r.status = r.exit_code == 0   ? "met"
             : r.exit_code == 1 ? "not-met"
             : r.exit_code == 2 ? "bad-input"
             : r.exit_code == 3 ? "sim-error"
                                : "crashed";
  if (!r.succeeded()) {
    r.error = err.empty() ? "exit status " + std::to_string(r.exit_code) : err;
    return r;
  }
  try {
    const Json doc = Json::parse(slurp(c.json));
    for (const auto& [name, value] : doc.at("metrics").items())
      if (value.is_number()) r.metrics[name] = value.get<double>();
    for (const auto& [name, value] : doc.at("violation_counts").items())
      r.violations[name] = value.get<std::int64_t>();
    r.fingerprint = doc.at("fingerprint").get<std::string>();
  } catch (const Json::exception& e) {
    r.status = "crashed";
    r.error = std::string("unreadable result file: ") + e.what();
  }
  return r;
}

pid_t spawn_run(const SweepSpec& spec, const SweepOptions& o, const Child& c,
                const sigset_t& parent_mask, int lock) {
  std::vector<std::string> args = {o.self, "run", spec.scenario, "--seed", std::to_string(c.seed)};
  for (const auto& s : spec.sets_of(spec.points[c.point])) {
    args.push_back("--set");
    args.push_back(s);
  }
  for (const char* a : {"--json", c.json.c_str(), "-q"}) args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw sim::ConfigError(std::string("cannot start a run: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(lock);  // the run never holds the directory's lock, even before exec
    // Its own process group, so a terminal's ^C reaches only the sweep, which then decides; and
    // it dies with the sweep, so a killed sweep leaves no run writing into DIR.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_WRONLY);
    const int err = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null < 0 || err < 0) ::_exit(127);
    ::dup2(null, 1);
    ::dup2(err, 2);
    ::sigprocmask(SIG_SETMASK, &parent_mask, nullptr);
    ::execv(o.self.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::string self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw sim::ConfigError("cannot find the vcpusim executable (/proc/self/exe)");
  return p.string();
}

int run_sweep(const SweepSpec& spec, const SweepOptions& o) {
  const Json plan = spec.resolved();
  fs::create_directories(o.dir);
  const int lock = lock_dir(o.dir);
  prepare_dir(o.dir, plan);
  const fs::path work = fs::path(o.dir) / "work";
  fs::remove_all(work);  // files of runs a killed sweep never recorded
  fs::create_directories(work);
  auto records = read_records(o.dir);

  std::vector<Child> todo;
  std::size_t total = 0;
  const std::size_t seeds = spec.seeds.size();
  for (std::size_t run = 0; run < spec.points.size() * seeds; ++run) {
    if (run % o.shards != o.shard) continue;
    ++total;
    if (records.count(run)) continue;
    const std::string base = (work / record_name(run)).replace_extension().string();
    todo.push_back({run, run / seeds, spec.seeds[run % seeds], base + ".json", base + ".err", {}});
  }

  // SIGCHLD, SIGINT and SIGTERM are taken synchronously with sigtimedwait.
  sigset_t wanted, old;
  sigemptyset(&wanted);
  for (int s : {SIGCHLD, SIGINT, SIGTERM}) sigaddset(&wanted, s);
  ::sigprocmask(SIG_BLOCK, &wanted, &old);

  Progress progress(std::cerr, o.terminal, total, total - todo.size());
  std::map<pid_t, Child> running;
  std::size_t next = 0, done = 0, failed = 0;
  bool interrupted = false;
  while (!interrupted && (next < todo.size() || !running.empty())) {
    while (next < todo.size() && running.size() < o.jobs) {
      Child c = todo[next++];
      c.start = Clock::now();
      const pid_t pid = spawn_run(spec, o, c, old, lock);
      running.emplace(pid, std::move(c));
    }
    progress.update(done, running.size(), failed);
    const timespec tick{1, 0};
    const int sig = ::sigtimedwait(&wanted, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) interrupted = true;
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      const auto it = running.find(pid);
      if (it == running.end()) continue;
      if (!interrupted) {
        RunRecord r = finish_run(it->second, status);
        write_record(o.dir, r);
        failed += r.succeeded() ? 0 : 1;
        ++done;
        records[r.run] = std::move(r);
      }
      fs::remove(it->second.json);
      fs::remove(it->second.err);
      running.erase(it);
    }
  }
  if (interrupted) {  // unfinished runs are not results: kill them, record nothing of them
    for (const auto& [pid, c] : running) ::kill(pid, SIGKILL);
    for (const auto& [pid, c] : running) ::waitpid(pid, nullptr, 0);
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  progress.finish(done, failed);
  fs::remove_all(work);
  std::cerr << write_sweep_outputs(o.dir, plan, records);
  ::close(lock);
  if (interrupted) {
    std::cerr << "sweep: interrupted; " << records.size()
              << " finished runs are kept, run the same command again to resume\n";
    return kSweepInterrupted;
  }
  if (failed)
    std::cerr << "sweep: " << failed << " runs failed (see the error column of runs.csv)\n";
  return 0;
}

int merge_sweeps(const std::vector<std::string>& dirs, const std::string& out) {
  Json plan;
  std::map<std::size_t, RunRecord> records;
  for (const auto& d : dirs) {
    const fs::path spec = fs::path(d) / "sweep.json";
    if (!fs::is_regular_file(spec))
      throw sim::ConfigError(d + ": not a sweep directory (no sweep.json)");
    Json p;
    try {
      p = Json::parse(slurp(spec.string()));
    } catch (const Json::exception&) {
      throw sim::ConfigError(spec.string() + ": not a sweep.json");
    }
    if (plan.is_null()) plan = p;
    if (run_identity(p) != run_identity(plan))
      throw sim::ConfigError(d + ": holds runs of a different sweep than " + dirs.front());
    for (auto& [run, r] : read_records(d)) records.emplace(run, std::move(r));
  }
  fs::create_directories(out);
  const int lock = lock_dir(out);
  prepare_dir(out, plan);
  const auto present = read_records(out);
  for (const auto& [run, r] : records)
    if (!present.count(run)) write_record(out, r);
  records.insert(present.begin(), present.end());
  std::cerr << write_sweep_outputs(out, plan, records);
  ::close(lock);
  const std::size_t expected = plan.at("points").size() * plan.at("seeds").size();
  if (records.size() < expected) {
    std::cerr << "sweep merge: " << expected - records.size() << " of " << expected
              << " runs are missing (no shard directory holds them); rerun those shards\n";
    return 1;
  }
  return 0;
}

}  // namespace vcpusim::tools
