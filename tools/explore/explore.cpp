#include "tools/explore/explore.hpp"

#include <time.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/explore/fork_server.hpp"
#include "tools/explore/worker_pool.hpp"

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
  void window(int vcpu, const cpu::WindowSite& site, const cpu::Word* object, bool open,
              sim::Tick now) override {
    windows_.window(vcpu, site, object, open, now);
  }
  void preempted(int vcpu) override { windows_.preempted(vcpu); }

 private:
  Interleavings* interleavings_;
  WindowWatch& windows_;
};

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Which plans of a batch run forked from the scenario's run. A plan's first point comes at
// about `fraction` of the run (its access over the vCPU's accesses in the scenario's run), so
// forking saves about fraction x the run's CPU and costs the measured overhead of a child; the
// batch pays one more run of the scenario for the forks. The choice changes only the cost.
void split_for_forking(const Scenario& s, ExploreOptions::PrefixReuse mode, bool coverage,
                       const std::vector<std::uint64_t>& profile, const ForkCosts& costs,
                       std::vector<Plan>& plans, std::vector<Plan>& forked,
                       std::vector<Plan>& alone) {
  using Mode = ExploreOptions::PrefixReuse;
  std::vector<double> saves(plans.size(), -1);
  double total = 0;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (mode == Mode::kNever || !forkable(s, plans[i], coverage)) continue;
    double fraction = 1;
    for (const sim::Injection& in : plans[i].schedule.injections) {
      const auto v = static_cast<std::size_t>(in.vcpu);
      const double n = v < profile.size() ? static_cast<double>(profile[v]) : 0;
      fraction = std::min(fraction, n > 0 ? static_cast<double>(in.access) / n : 1.0);
    }
    saves[i] = fraction * costs.run_cpu - costs.overhead;
    if (saves[i] > 0) total += saves[i];
  }
  const bool fork = mode == Mode::kAlways || total > costs.run_cpu;
  for (std::size_t i = 0; i < plans.size(); ++i)
    (fork && saves[i] > (mode == Mode::kAlways ? -1e300 : 0) ? forked : alone)
        .push_back(std::move(plans[i]));
}

sim::Json schedule_json(const Schedule& schedule, const std::vector<std::string>* shared) {
  if (!shared || schedule.counted_words.empty() || schedule.counted_words != *shared)
    return schedule.to_json();
  Schedule without = schedule;
  without.counted_words.clear();
  sim::Json j = without.to_json();
  j["counted_words"] = "shared";
  return j;
}

Schedule schedule_from(sim::Json j, const std::vector<std::string>* shared, const char* path) {
  const bool is_shared = shared && j.contains("counted_words") && j["counted_words"] == "shared";
  if (is_shared) j.erase("counted_words");
  Schedule s = Schedule::from_json(sim::Node(j, "explore worker", path));
  if (is_shared) s.counted_words = *shared;
  return s;
}

}  // namespace

sim::Json outcome_json(const Outcome& o, const std::vector<std::string>* shared) {
  sim::Json new_passes = sim::Json::array();
  for (const auto& x : o.new_passes) new_passes.push_back({x.window, x.vcpu, x.first, x.last});
  return {{"index", o.index},
          {"seed", o.seed},
          {"schedule", schedule_json(o.schedule, shared)},
          {"failure", o.failure.to_json()},
          {"fingerprint", o.fingerprint},
          {"coverage", o.coverage},
          {"guest_accesses", o.guest_accesses},
          {"windows_hit", o.windows_hit},
          {"new_passes", new_passes}};
}

Outcome outcome_from(const sim::Json& j, const std::vector<std::string>* shared) {
  Outcome o;
  o.index = j["index"];
  o.seed = j["seed"];
  o.schedule = schedule_from(j["schedule"], shared, "$.schedule");
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

sim::Json plan_json(const Plan& p, const std::vector<std::string>* shared) {
  return {{"index", p.index},
          {"seed", p.seed},
          {"steer_seed", p.steer_seed},
          {"schedule", schedule_json(p.schedule, shared)},
          {"redraw", p.redraw},
          {"steered", p.steered}};
}

Plan plan_from(const sim::Json& j, const std::vector<std::string>* shared) {
  Plan p;
  p.index = j["index"];
  p.seed = j["seed"];
  p.steer_seed = j["steer_seed"];
  p.schedule = schedule_from(j["schedule"], shared, "$.schedule");
  p.redraw = j["redraw"];
  p.steered = j["steered"];
  return p;
}

void finish_outcome(Outcome& o, const RunResult& r, const WindowWatch& windows) {
  o.failure = r.failure;
  o.fingerprint = r.document["fingerprint"];
  o.guest_accesses = r.guest_accesses;
  const std::set<std::string> hit = windows.hit();
  o.windows_hit.assign(hit.begin(), hit.end());
  for (const WindowPass& x : windows.passes())
    o.new_passes.push_back(
        {windows.keys()[static_cast<std::size_t>(x.key)], x.vcpu, x.first, x.last});
}

Outcome run_plan(const Scenario& base, const Plan& plan, bool coverage,
                 const std::set<std::string>& known, sim::StackPool* stacks) {
  Outcome o;
  o.index = plan.index;
  o.seed = plan.seed;
  o.schedule = plan.schedule;
  std::unique_ptr<Scenario> reseeded;
  const Scenario* s = &base;
  if (plan.seed != base.seed) {
    reseeded = Scenario::from_json(base.resolved(), base.file, {}, plan.seed, base.registries);
    s = reseeded.get();
  }
  RunOptions options;
  options.stacks = stacks;
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
  finish_outcome(o, r, windows);
  if (coverage) o.coverage = seen.reached();
  if (plan.index == 0) {
    o.new_passes.clear();
    o.shared_words = seen.shared_words();
    o.guest_accesses = seen.accesses_to(o.shared_words, r.guest_accesses.size());
  }
  return o;
}

WindowProfile window_profile(const Scenario& s, const std::vector<std::string>& shared,
                             sim::StackPool* stacks) {
  WindowWatch windows(shared, static_cast<int>(s.vm.vcpus.value), nullptr);
  RunOptions options;
  options.stacks = stacks;
  options.counted_words = shared;
  Watch watch(nullptr, windows);
  options.observer = &watch;
  run_scenario(s, options);
  return {windows.keys(), windows.passes(), windows.seen()};
}

ReplayFile replay_of(const Scenario& s, const Outcome& o, const std::string& strategy,
                     const std::vector<ReplayPlugin>& plugins) {
  ReplayFile r;
  r.scenario = s.resolved();
  r.scenario["seed"] = o.seed;
  // The scenario's list is relative to its own file; the replay names the plugins its run
  // loaded, by canonical path and content hash.
  r.scenario.erase("plugins");
  r.plugins = plugins;
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
  sim::Json overlapping = sim::Json::array();
  for (const auto& [name, n] : overlaps) overlapping.push_back({{"overlap", name}, {"instances", n}});
  return {{"targets", targets},
          {"aimed_at_every_window", aimed.empty()},
          {"seen", seen},
          {"overlaps", overlapping}};
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

ExploreReport ExploreReport::from_json(const sim::Json& j, const std::string& file) {
  const sim::Node root(j, file, "$");
  ExploreReport r;
  r.strategy = root.at("strategy").as_string();
  r.schedules = root.at("schedules").as_uint(0, UINT64_MAX);
  r.failing_schedules = root.at("failing_schedules").as_uint(0, UINT64_MAX);
  r.first_failure = root.at("first_failure_schedule").as_int(-1, INT64_MAX);
  r.coverage = root.at("coverage").as_uint(0, UINT64_MAX);
  const sim::Node windows = root.at("windows");
  for (std::size_t i = 0; i < windows.at("targets").size(); ++i)
    r.targets.push_back(windows.at("targets").at(i).as_string());
  const bool every = windows.at("aimed_at_every_window").as_bool();
  const sim::Node seen = windows.at("seen");
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const std::string name = seen.at(i).at("window").as_string();
    r.windows_seen[name] = seen.at(i).at("passes").as_uint(0, UINT64_MAX);
    if (const std::uint64_t hit = seen.at(i).at("schedules_hit").as_uint(0, UINT64_MAX)) r.windows_hit[name] = hit;
    if (!every && seen.at(i).at("aimed").as_bool()) r.aimed.push_back(name);
  }
  std::sort(r.aimed.begin(), r.aimed.end());
  const sim::Node overlaps = windows.at("overlaps");
  for (std::size_t i = 0; i < overlaps.size(); ++i)
    r.overlaps[overlaps.at(i).at("overlap").as_string()] =
        overlaps.at(i).at("instances").as_uint(0, UINT64_MAX);
  const sim::Node failures = root.at("failures");
  for (std::size_t i = 0; i < failures.size(); ++i) {
    const sim::Node f = failures.at(i);
    FoundFailure found;
    found.failure.signature = f.at("signature").as_string();
    found.failure.check = f.at("check").as_string();
    found.failure.message = f.at("message").as_string();
    found.first_schedule = f.at("first_schedule").as_uint(0, UINT64_MAX);
    found.schedules = f.at("schedules").as_uint(0, UINT64_MAX);
    r.failures.push_back(std::move(found));
  }
  return r;
}

ExploreReport explore(const Scenario& s, const ExploreOptions& o) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  Strategy strategy(o.strategy, s, o.seed);
  sim::StackPool stacks;  // every run of this process (and of each forked worker) reuses them
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
      report.failures.push_back({out.failure, out.index, 1, replay_of(s, out, o.strategy, o.plugins)});
    }
    return true;
  };
  const Outcome profile = run_plan(s, strategy.plan(0), strategy.wants_coverage(), {}, &stacks);
  strategy.set_profile(profile.guest_accesses, profile.shared_words);
  report.profile = profile.guest_accesses;
  // The second run of the scenario, warm (the first pays the process's first allocations): what
  // one more run costs, for the fork server's choice.
  const double cpu_before = cpu_seconds();
  WindowProfile windows = window_profile(s, profile.shared_words, &stacks);
  ForkCosts fork_costs;
  fork_costs.run_cpu = cpu_seconds() - cpu_before;
  report.windows_seen = windows.seen;
  report.targets = s.explore.targets.value.empty() ? default_targets(s.checks)
                                                   : s.explore.targets.value;
  report.aimed = strategy.set_windows(std::move(windows), report.targets);
  report.overlaps = strategy.aimed_overlaps();
  // -j: workers forked once the strategy knows the profile, each running the plans it is sent.
  const std::vector<std::string>& shared = profile.shared_words;
  WorkerPool pool(o.jobs, [&](const std::string& line) {
    return outcome_json(run_plan(s, plan_from(sim::Json::parse(line), &shared),
                                 strategy.wants_coverage(), strategy.known_windows(), &stacks))
        .dump();
  });
  // A shard takes its own schedules only; unsharded, batches are kBatch consecutive indices.
  auto mine = [&](std::uint64_t i) { return i % o.shard_count == o.shard_index; };
  // Every shard learns from the scenario's own run; shard 0 counts it as schedule 0.
  bool stop = false;
  if (mine(0))
    stop = take(profile) && o.first;
  else
    strategy.feedback(profile);
  for (std::uint64_t next = 1; !stop && next < o.schedules;) {
    if (o.max_wall.count() > 0 && Clock::now() - start >= o.max_wall) {
      report.stopped_by_wall = true;
      break;
    }
    std::vector<Plan> plans;
    for (; next < o.schedules && plans.size() < kBatch; ++next)
      if (mine(next)) plans.push_back(strategy.plan(next));
    if (plans.empty()) break;
    std::vector<Plan> forked, alone;
    split_for_forking(s, o.prefix_reuse, strategy.wants_coverage(), report.profile, fork_costs,
                      plans, forked, alone);
    std::vector<Outcome> outcomes =
        run_forked(s, forked, strategy.known_windows(), o.jobs, fork_costs, &stacks);
    report.forked_schedules += forked.size();
    if (o.jobs <= 1) {
      for (const Plan& p : alone)
        outcomes.push_back(
            run_plan(s, p, strategy.wants_coverage(), strategy.known_windows(), &stacks));
    } else if (!alone.empty()) {
      std::vector<std::string> lines;
      for (const Plan& p : alone) lines.push_back(plan_json(p, &shared).dump());
      for (const std::string& line : pool.run(lines))
        outcomes.push_back(outcome_from(sim::Json::parse(line), &shared));
    }
    std::sort(outcomes.begin(), outcomes.end(),
              [](const Outcome& a, const Outcome& b) { return a.index < b.index; });
    for (const Outcome& out : outcomes) {
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
