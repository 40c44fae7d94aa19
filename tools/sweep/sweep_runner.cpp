#include "tools/sweep/sweep_runner.hpp"

#include <fcntl.h>
#include <signal.h>
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
#include "tools/sweep/sweep_dir.hpp"
#include "tools/sweep/sweep_plan.hpp"
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
  std::string json, err;  // in DIR/work
  Clock::time_point start, deadline;
  bool over_wall = false;  // killed by --max-run-wall: never a result
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream t;
  t << in.rdbuf();
  return t.str();
}

// The last non-empty line of a run's stderr, shortened and made printable: the row's error.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return sim::printable(last.size() > 400 ? last.substr(0, 400) + "..." : last);
}

}  // namespace

// Checks DIR holds runs of this sweep (or none yet) and writes DIR/sweep.json and DIR/runs.
void prepare_sweep_dir(const std::string& dir, const Json& plan) {
  std::error_code ec;
  fs::create_directory(fs::path(dir) / "runs", ec);
  if (ec) throw sim::ConfigError(dir + ": cannot create runs/ (" + ec.message() + ")");
  ::close(open_directory((fs::path(dir) / "runs").string()));  // a real directory, not a link
  const fs::path spec = fs::path(dir) / "sweep.json";
  if (fs::exists(fs::symlink_status(spec, ec))) {
    const Json old = read_plan(spec.string());
    check_grows(old, plan, dir);
    if (old == plan) return;
  }
  write_file_durably(spec.string(), plan.dump(2) + "\n");
}

namespace {

RunRecord finish_run(const Json& plan, const Child& c, int status, std::uint64_t budget) {
  RunRecord r = new_record(plan, c.run);
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
    r.fingerprint = doc.at("fingerprint").get<std::string>();
    // Stopped by its step budget: a deterministic partial run, kept out of the statistics. Any
    // other early stop (a SIGINT sent to the run itself) is no result at all.
    if (!doc.at("complete").get<bool>()) {
      const bool spent = doc.at("metrics").at("sim.steps").get<std::uint64_t>() >= budget;
      r.status = spent ? "budget-exceeded" : "crashed";
      r.error = spent ? "budget exceeded: stopped after run_budget " + std::to_string(budget) +
                            " steps, at " +
                            sim::format_duration(doc.at("simulated_ns").get<sim::Tick>() *
                                                 sim::kNanosecond) +
                            " of simulated time"
                      : "stopped early: " + err;
      if (!spent) r.fingerprint.clear();
      return r;
    }
    for (const auto& [name, value] : doc.at("metrics").items())
      if (value.is_number()) r.metrics[name] = value.get<double>();
    for (const auto& [name, value] : doc.at("violation_counts").items())
      r.violations[name] = value.get<std::int64_t>();
  } catch (const Json::exception& e) {
    r.status = "crashed";
    r.fingerprint.clear();
    r.metrics.clear();
    r.violations.clear();
    r.error = std::string("unreadable result file: ") + e.what();
  }
  return r;
}

pid_t spawn_run(const SweepSpec& spec, const SweepOptions& o, const Child& c, int err,
                const sigset_t& parent_mask, int lock) {
  std::vector<std::string> args = {o.self, "run", spec.scenario, "--seed", std::to_string(c.seed)};
  for (const auto& s : spec.sets_of(spec.points[c.point])) {
    args.push_back("--set");
    args.push_back(s);
  }
  for (const std::string& a : {std::string("--max-steps"), std::to_string(spec.run_budget),
                               std::string("--json"), c.json, std::string("-q")})
    args.push_back(a);
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
    if (null < 0) ::_exit(127);
    ::dup2(null, 1);
    ::dup2(err, 2);
    ::sigprocmask(SIG_SETMASK, &parent_mask, nullptr);
    ::execv(o.self.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// How long to wait for the next child or signal: a second (the progress), or less when a run's
// wall limit comes sooner.
timespec wait_time(const std::map<pid_t, Child>& running) {
  auto wait = std::chrono::nanoseconds(std::chrono::seconds(1));
  const auto now = Clock::now();
  for (const auto& [pid, c] : running)
    if (!c.over_wall) wait = std::min(wait, std::chrono::nanoseconds(c.deadline - now));
  wait = std::max(wait, std::chrono::nanoseconds(std::chrono::milliseconds(1)));
  return {static_cast<std::time_t>(wait.count() / 1000000000),
          static_cast<long>(wait.count() % 1000000000)};
}

}  // namespace

int run_sweep(const SweepSpec& spec, const SweepOptions& o) {
  const Json plan = spec.resolved();
  const std::string dir = claim_sweep_dir(o.dir, {spec.file, spec.scenario});
  const FdGuard lock{lock_sweep_dir(dir)};
  prepare_sweep_dir(dir, plan);
  remove_temporaries(dir, "");
  remove_temporaries(dir, "runs");
  renew_subdir(dir, "work");  // files of runs a killed sweep never recorded
  const fs::path work = fs::path(dir) / "work";
  const FdGuard work_fd{open_directory(work.string())};
  auto records = read_records(dir, plan);

  std::vector<Child> todo;
  std::size_t total = 0;
  const std::size_t seeds = spec.seeds.size();
  for (std::size_t run = 0; run < spec.points.size() * seeds; ++run) {
    if (run % o.shards != o.shard) continue;
    ++total;
    if (records.count(run)) continue;
    const std::string base = (work / record_name(run_id(plan, run))).replace_extension().string();
    todo.push_back(
        {run, run / seeds, spec.seeds[run % seeds], base + ".json", base + ".err", {}, {}});
  }

  // SIGCHLD, SIGINT and SIGTERM are taken synchronously with sigtimedwait.
  sigset_t wanted, old;
  sigemptyset(&wanted);
  for (int s : {SIGCHLD, SIGINT, SIGTERM}) sigaddset(&wanted, s);
  ::sigprocmask(SIG_BLOCK, &wanted, &old);

  // Runs of this shard DIR already holds (this spec's, or a smaller spec's it grows) are kept.
  std::cout << "sweep: " << total - todo.size() << " runs kept, " << todo.size() << " new (of "
            << total << ")\n"
            << std::flush;
  Progress progress(std::cerr, o.terminal, total, total - todo.size());
  std::map<pid_t, Child> running;
  std::size_t next = 0, done = 0, failed = 0, over_wall = 0;
  bool interrupted = false;
  while (!interrupted && (next < todo.size() || !running.empty())) {
    while (next < todo.size() && running.size() < o.jobs) {
      Child c = todo[next++];
      // Created here, exclusively: never a file or link that was already there.
      const std::string err_name = fs::path(c.err).filename().string();
      const FdGuard err{::openat(work_fd.fd, err_name.c_str(),
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)};
      if (err.fd < 0)
        throw sim::ConfigError(c.err + ": cannot create the run's error file (" +
                               std::strerror(errno) + ")");
      c.start = Clock::now();
      c.deadline = c.start + std::chrono::nanoseconds(o.max_run_wall / sim::kNanosecond);
      const pid_t pid = spawn_run(spec, o, c, err.fd, old, lock.fd);
      running.emplace(pid, std::move(c));
    }
    progress.update(done, running.size(), failed);
    const timespec tick = wait_time(running);
    const int sig = ::sigtimedwait(&wanted, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) interrupted = true;
    // The wall limit is a safety net for a run its step budget cannot stop: it is killed and
    // not recorded (wall time never decides a result), and the sweep ends incomplete.
    for (auto& [pid, c] : running)
      if (!c.over_wall && Clock::now() >= c.deadline) {
        ::kill(pid, SIGKILL);
        c.over_wall = true;
      }
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      const auto it = running.find(pid);
      if (it == running.end()) continue;
      if (it->second.over_wall) {
        ++over_wall;
      } else if (!interrupted) {
        RunRecord r = finish_run(plan, it->second, status, spec.run_budget);
        write_record(dir, plan, r);
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
  renew_subdir(dir, "work");
  std::cerr << write_sweep_outputs(dir, plan, records);
  if (interrupted) {
    std::cerr << "sweep: interrupted; " << records.size()
              << " finished runs are kept, run the same command again to resume\n";
    return kSweepInterrupted;
  }
  if (failed)
    std::cerr << "sweep: " << failed << " runs failed (see the error column of runs.csv)\n";
  if (over_wall) {
    std::cerr << "sweep: " << over_wall << " runs took longer than --max-run-wall "
              << sim::format_duration(o.max_run_wall)
              << " and were killed; they are not recorded and the sweep is incomplete (lower "
                 "run_budget or raise --max-run-wall, then run the same command again)\n";
    return kSweepIncomplete;
  }
  return 0;
}

}  // namespace vcpusim::tools
