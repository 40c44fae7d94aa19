#include "tools/explore/explore.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>

#include "sim/error.hpp"
#include "sim/scenario_file.hpp"

namespace vcpusim::tools {
namespace {

// Conflicting accesses to a shared word from two vCPUs in a row (at least one a write): the
// interleavings `cover` counts. Keyed by the word's name, never its address.
class Interleavings {
 public:
  void access(int vcpu, const cpu::Word& w, bool write) {
    const auto id = static_cast<std::size_t>(w.id);
    if (id >= last_.size()) {
      last_.resize(id + 1, {-1, false});
      names_.resize(id + 1, 0);
    }
    if (names_[id] == 0) names_[id] = sim::stable_hash(w.name) | 1;
    auto& [prev, prev_write] = last_[id];
    if (prev >= 0 && prev != vcpu && (write || prev_write)) {
      std::uint64_t h = names_[id];
      for (std::uint64_t x :
           {static_cast<std::uint64_t>(prev), static_cast<std::uint64_t>(vcpu),
            static_cast<std::uint64_t>(prev_write), static_cast<std::uint64_t>(write)})
        h = (h ^ x) * 0x100000001b3ULL;
      reached_.insert(h);
    }
    prev = vcpu;
    prev_write = write;
    auto& who = by_word_[w.name];
    if (static_cast<std::size_t>(vcpu) >= who.size())
      who.resize(static_cast<std::size_t>(vcpu) + 1, 0);
    ++who[static_cast<std::size_t>(vcpu)];
  }
  // Words more than one vCPU accessed (sorted by name).
  std::vector<std::string> shared_words() const {
    std::vector<std::string> out;
    for (const auto& [name, who] : by_word_)
      if (std::count_if(who.begin(), who.end(), [](std::uint64_t n) { return n > 0; }) > 1)
        out.push_back(name);
    return out;
  }
  // Per vCPU, its accesses to those words.
  std::vector<std::uint64_t> accesses_to(const std::vector<std::string>& names,
                                         std::size_t vcpus) const {
    std::vector<std::uint64_t> out(vcpus, 0);
    for (const std::string& n : names) {
      const auto& who = by_word_.at(n);
      for (std::size_t v = 0; v < who.size() && v < vcpus; ++v) out[v] += who[v];
    }
    return out;
  }
  std::vector<std::uint64_t> reached() const { return {reached_.begin(), reached_.end()}; }

 private:
  std::vector<std::pair<int, bool>> last_;
  std::vector<std::uint64_t> names_;
  std::set<std::uint64_t> reached_;
  std::map<std::string, std::vector<std::uint64_t>> by_word_;  // accesses per vCPU
};

// What a run tells explore: its interleavings (coverage, the profile) and its windows.
class Watch final : public cpu::RunObserver {
 public:
  Watch(Interleavings* interleavings, WindowWatch& windows)
      : interleavings_(interleavings), windows_(windows) {}
  void access(int vcpu, const cpu::Word& w, bool write) override {
    if (interleavings_) interleavings_->access(vcpu, w, write);
    windows_.access(vcpu, w, write);
  }
  void window(int vcpu, const cpu::WindowSite& site, const cpu::Word* object, bool open) override {
    windows_.window(vcpu, site, object, open);
  }
  void preempted(int vcpu) override { windows_.preempted(vcpu); }

 private:
  Interleavings* interleavings_;
  WindowWatch& windows_;
};

sim::Json outcome_json(const Outcome& o) {
  sim::Json new_passes = sim::Json::array();
  for (const auto& x : o.new_passes) new_passes.push_back({x.window, x.vcpu, x.first, x.last});
  return {{"index", o.index},
          {"seed", o.seed},
          {"schedule", o.schedule.to_json()},
          {"failure", o.failure.to_json()},
          {"fingerprint", o.fingerprint},
          {"coverage", o.coverage},
          {"guest_accesses", o.guest_accesses},
          {"windows_hit", o.windows_hit},
          {"new_passes", new_passes}};
}

Outcome outcome_from(const sim::Json& j) {
  Outcome o;
  o.index = j["index"];
  o.seed = j["seed"];
  o.schedule = Schedule::from_json(sim::Node(j["schedule"], "explore worker", "$.schedule"));
  o.failure = Failure::from_json(sim::Node(j["failure"], "explore worker", "$.failure"));
  o.fingerprint = j["fingerprint"];
  o.coverage = j["coverage"].get<std::vector<std::uint64_t>>();
  o.guest_accesses = j["guest_accesses"].get<std::vector<std::uint64_t>>();
  o.windows_hit = j["windows_hit"].get<std::vector<std::string>>();
  for (const auto& x : j["new_passes"])
    o.new_passes.push_back({x[0].get<std::string>(), x[1].get<int>(), x[2].get<std::uint64_t>(),
                            x[3].get<std::uint64_t>()});
  return o;
}

// Each worker process runs a contiguous share of the batch and writes one JSON line per
// outcome; the parent reads them back in index order.
std::vector<Outcome> run_batch(const Scenario& s, const std::vector<Plan>& plans, int jobs,
                               bool coverage, const std::set<std::string>& known) {
  std::vector<Outcome> out;
  if (jobs <= 1 || plans.size() <= 1) {
    for (const Plan& p : plans) out.push_back(run_plan(s, p, coverage, known));
    return out;
  }
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(jobs), plans.size());
  struct Worker {
    pid_t pid;
    int fd;
  };
  std::vector<Worker> workers;
  std::cout.flush();
  std::cerr.flush();
  for (std::size_t w = 0; w < n; ++w) {
    const std::size_t from = plans.size() * w / n, to = plans.size() * (w + 1) / n;
    int fds[2];
    if (pipe(fds) != 0) throw sim::SimError("explore: pipe failed");
    const pid_t pid = fork();
    if (pid < 0) throw sim::SimError("explore: fork failed");
    if (pid == 0) {
      close(fds[0]);
      int status = 0;
      try {
        for (std::size_t i = from; i < to; ++i) {
          const std::string line = outcome_json(run_plan(s, plans[i], coverage, known)).dump() + "\n";
          for (std::size_t done = 0; done < line.size();) {
            const ssize_t k = write(fds[1], line.data() + done, line.size() - done);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) _exit(4);
            done += static_cast<std::size_t>(k);
          }
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "vcpusim explore: worker: %s\n", e.what());
        status = 3;
      }
      close(fds[1]);
      _exit(status);
    }
    close(fds[1]);
    workers.push_back({pid, fds[0]});
  }
  std::string failed;
  for (const Worker& w : workers) {
    std::string text;
    char buf[1 << 16];
    for (;;) {
      const ssize_t k = read(w.fd, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      text.append(buf, static_cast<std::size_t>(k));
    }
    close(w.fd);
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = "a worker process failed";
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t nl = text.find('\n', at);
      if (nl == std::string::npos) break;
      out.push_back(outcome_from(sim::Json::parse(text.substr(at, nl - at))));
      at = nl + 1;
    }
  }
  if (!failed.empty() || out.size() != plans.size())
    throw sim::SimError("explore: " +
                        (failed.empty() ? std::string("a worker lost results") : failed));
  return out;
}

}  // namespace

Outcome run_plan(const Scenario& base, const Plan& plan, bool coverage,
                 const std::set<std::string>& known) {
  Outcome o;
  o.index = plan.index;
  o.seed = plan.seed;
  o.schedule = plan.schedule;
  std::unique_ptr<Scenario> reseeded;
  const Scenario* s = &base;
  if (plan.seed != base.seed) {
    reseeded = Scenario::from_json(base.resolved(), base.file, {}, plan.seed);
    s = reseeded.get();
  }
  RunOptions options;
  ExploreSteer steer(
      o.schedule,
      sim::Rng(sim::stable_hash("explore-steer/" + std::to_string(plan.steer_seed)), plan.index),
      plan.redraw);
  if (plan.steered) options.steer = &steer;
  options.injections = plan.schedule.injections;
  options.counted_words = plan.schedule.counted_words;
  Interleavings seen;
  WindowWatch windows(plan.schedule.counted_words, static_cast<int>(s->vm.vcpus.value), &known);
  Watch watch(coverage || plan.index == 0 ? &seen : nullptr, windows);
  options.observer = &watch;
  const RunResult r = run_scenario(*s, options);
  o.failure = r.failure;
  o.fingerprint = r.document["fingerprint"];
  o.guest_accesses = r.guest_accesses;
  if (coverage) o.coverage = seen.reached();
  const std::set<std::string> hit = windows.hit();
  o.windows_hit.assign(hit.begin(), hit.end());
  if (plan.index > 0)
    for (const WindowPass& x : windows.passes())
      o.new_passes.push_back(
          {windows.keys()[static_cast<std::size_t>(x.key)], x.vcpu, x.first, x.last});
  if (plan.index == 0) {
    o.shared_words = seen.shared_words();
    o.guest_accesses = seen.accesses_to(o.shared_words, r.guest_accesses.size());
  }
  return o;
}

WindowProfile window_profile(const Scenario& s, const std::vector<std::string>& shared) {
  WindowWatch windows(shared, static_cast<int>(s.vm.vcpus.value), nullptr);
  RunOptions options;
  options.counted_words = shared;
  Watch watch(nullptr, windows);
  options.observer = &watch;
  run_scenario(s, options);
  return {windows.keys(), windows.passes(), windows.seen()};
}

ReplayFile replay_of(const Scenario& s, const Outcome& o, const std::string& strategy) {
  ReplayFile r;
  r.scenario = s.resolved();
  r.scenario["seed"] = o.seed;
  r.schedule = o.schedule;
  r.failure = o.failure;
  r.fingerprint = o.fingerprint;
  r.origin = "explore --strategy " + strategy + ", schedule " + std::to_string(o.index);
  return r;
}

sim::Json ExploreReport::windows_json() const {
  sim::Json seen = sim::Json::array();
  for (const auto& [name, passes] : windows_seen) {
    const auto it = windows_hit.find(name);
    seen.push_back({{"window", name},
                    {"passes", passes},
                    {"aimed", std::binary_search(aimed.begin(), aimed.end(), name)},
                    {"schedules_hit", it == windows_hit.end() ? 0 : it->second}});
  }
  return {{"targets", targets}, {"aimed_at_every_window", aimed.empty()}, {"seen", seen}};
}

sim::Json ExploreReport::to_json() const {
  sim::Json f = sim::Json::array();
  for (const FoundFailure& x : failures)
    f.push_back({{"signature", x.failure.signature},
                 {"check", x.failure.check},
                 {"first_schedule", x.first_schedule},
                 {"schedules", x.schedules},
                 {"message", x.failure.message}});
  return {{"strategy", strategy},
          {"schedules", schedules},
          {"failing_schedules", failing_schedules},
          {"first_failure_schedule", first_failure},
          {"coverage", coverage},
          {"windows", windows_json()},
          {"failures", f}};
}

ExploreReport explore(const Scenario& s, const ExploreOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Strategy strategy(o.strategy, s, o.seed);
  ExploreReport report;
  report.strategy = o.strategy;
  auto take = [&](const Outcome& out) {
    ++report.schedules;
    strategy.feedback(out);
    for (const std::string& w : out.windows_hit) ++report.windows_hit[w];
    if (out.failure.signature.empty()) return false;
    ++report.failing_schedules;
    if (report.first_failure < 0) report.first_failure = static_cast<std::int64_t>(out.index);
    auto it = std::find_if(
        report.failures.begin(), report.failures.end(),
        [&](const FoundFailure& f) { return f.failure.signature == out.failure.signature; });
    if (it != report.failures.end()) {
      ++it->schedules;
    } else {
      report.failures.push_back({out.failure, out.index, 1, replay_of(s, out, o.strategy)});
    }
    return true;
  };
  const Outcome profile = run_plan(s, strategy.plan(0), strategy.wants_coverage());
  strategy.set_profile(profile.guest_accesses, profile.shared_words);
  report.profile = profile.guest_accesses;
  WindowProfile windows = window_profile(s, profile.shared_words);
  report.windows_seen = windows.seen;
  report.targets = s.explore.targets.value.empty() ? default_targets(s.checks)
                                                   : s.explore.targets.value;
  report.aimed = strategy.set_windows(std::move(windows), report.targets);
  bool stop = take(profile) && o.first;
  for (std::uint64_t next = 1; !stop && next < o.schedules; next += kBatch) {
    if (o.max_wall.count() > 0 && Clock::now() - start >= o.max_wall) {
      report.stopped_by_wall = true;
      break;
    }
    std::vector<Plan> plans;
    for (std::uint64_t i = next; i < std::min(o.schedules, next + kBatch); ++i)
      plans.push_back(strategy.plan(i));
    for (const Outcome& out : run_batch(s, plans, o.jobs, strategy.wants_coverage(), strategy.known_windows())) {
      if (take(out) && o.first) {
        stop = true;
        break;
      }
    }
    if (o.progress) o.progress(report.schedules, report.failing_schedules);
  }
  report.coverage = strategy.coverage();
  report.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace vcpusim::tools
