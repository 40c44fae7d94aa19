#include "tools/explore/shrink.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

#include "sim/core/stack_pool.hpp"
#include "sim/error.hpp"
#include "tools/explore/explore.hpp"
#include "tools/explore/shrink_explain.hpp"

namespace vcpusim::tools {
namespace {

using sim::Json;
using sim::Tick;

// One schedule item: a decision off its default, or an injection.
struct Item {
  bool decision = false;
  sim::DecisionKey key;
  std::int64_t value = 0;
  sim::Injection injection;
};

std::vector<Item> items_of(const Schedule& s) {
  std::vector<Item> out;
  for (const auto& [k, v] : s.decisions) out.push_back({true, k, v, {}});
  for (const auto& in : s.injections) out.push_back({false, {}, 0, in});
  return out;
}

Schedule schedule_of(const std::vector<Item>& items, const std::vector<std::string>& words) {
  Schedule s;
  s.counted_words = words;
  for (const Item& i : items) {
    if (i.decision)
      s.decisions[i.key] = i.value;
    else
      s.injections.push_back(i.injection);
  }
  return s;
}

std::string describe(const Item& i) {
  return i.decision ? describe_decision(i.key, i.value) : describe_injection(i.injection);
}

Tick duration_of(const Json& scenario) {
  const Json& d = scenario.at("duration");
  if (d.is_string()) return sim::parse_duration(d.get<std::string>()).value_or(0);
  return 0;
}

std::size_t array_size(const Json& j, const char* a, const char* b) {
  return j.contains(a) && j[a].contains(b) && j[a][b].is_array() ? j[a][b].size() : 0;
}

Tick round_up(Tick t, Tick unit) {
  return (t + unit - 1) / unit * unit;
}

// Filters a list of vCPU numbers to those below n; false when nothing is left of a non-empty one.
bool keep_below(Json& list, int n) {
  if (!list.is_array()) return true;
  const bool had = !list.empty();
  Json kept = Json::array();
  for (const Json& v : list)
    if (!v.is_number_integer() || v.get<int>() < n) kept.push_back(v);
  list = kept;
  return !had || !list.empty();
}

class Shrinker {
 public:
  Shrinker(const ReplayFile& input, const std::string& file, const ShrinkOptions& o)
      : file_(file), options_(o), signature_(input.failure.signature), best_(input) {}

  // Runs a candidate; true when it fails with the signature (and then it becomes the best).
  bool try_candidate(const Json& scenario, const Schedule& schedule) {
    if (runs_ >= options_.max_runs) {
      exhausted_ = true;
      return false;
    }
    std::unique_ptr<Scenario> s;
    try {
      s = Scenario::from_json(
          scenario, file_, {}, std::nullopt,
          options_.plugins ? options_.plugins->registries() : guest::builtin_registries());
    } catch (const sim::ConfigError&) {
      return false;  // an invalid reduction: skipped, not a run
    }
    for (const auto& in : schedule.injections)
      if (in.vcpu >= s->vm.vcpus.value) return false;
    ++runs_;
    bool fails = false;
    Failure failure;
    try {
      ReplayFile r;
      r.scenario = scenario;
      r.schedule = schedule;
      r.plugins = best_.plugins;
      RunOptions run;
      run.stacks = &stacks_;
      const Replayed out = run_replay(r, file_, run, options_.plugins);
      failure = out.result.failure;
      fails = failure.signature == signature_;
    } catch (const sim::ConfigError&) {  // a decision outside the reduced scenario's range
    } catch (const sim::SimError&) {
    }
    if (fails) {
      best_.scenario = scenario;
      best_.schedule = schedule;
      best_.failure = failure;
    }
    if (options_.progress) options_.progress(runs_, ShrinkSize::of(best_));
    return fails;
  }
  bool try_schedule(const Schedule& s) { return try_candidate(best_.scenario, s); }
  bool try_scenario(const Json& j) { return try_candidate(j, best_.schedule); }

  // ddmin over the schedule's items: removes chunks while the failure persists.
  bool drop_items() {
    std::vector<Item> items = items_of(best_.schedule);
    const std::size_t before = items.size();
    std::size_t n = 2;
    while (!items.empty() && !exhausted_) {
      n = std::min(n, items.size());
      bool reduced = false;
      for (std::size_t c = 0; c < n && !reduced; ++c) {
        const std::size_t from = items.size() * c / n, to = items.size() * (c + 1) / n;
        std::vector<Item> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(from));
        rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(to), items.end());
        if (try_schedule(schedule_of(rest, best_.schedule.counted_words))) {
          items = rest;
          n = std::max<std::size_t>(n - 1, 2);
          reduced = true;
        }
      }
      if (!reduced) {
        if (n >= items.size()) break;
        n = std::min(n * 2, items.size());
      }
    }
    return items_of(best_.schedule).size() < before;
  }

  // The shortest duration that still fails, by bisection between the failure and the end.
  bool shorten_duration() {
    const Tick unit = sim::kMicrosecond;
    Tick hi = duration_of(best_.scenario);
    Tick lo = best_.failure.time;  // a run that ends at the failure does not see it
    const Tick start = hi;
    auto attempt = [&](Tick d) {
      Json j = best_.scenario;
      j["duration"] = sim::format_duration(d);
      return try_scenario(j);
    };
    const Tick tight = round_up(lo + 1, unit) + unit;
    if (tight < hi && attempt(tight)) return true;
    if (tight < hi) lo = tight;
    while (hi - lo > std::max(unit, start / 1000) && !exhausted_) {
      const Tick mid = round_up(lo + (hi - lo) / 2, unit);
      if (mid >= hi || mid <= lo) break;
      if (attempt(mid))
        hi = mid;
      else
        lo = mid;
    }
    return duration_of(best_.scenario) < start;
  }

  // Removes whole entries of a scenario array (host.load, guest.workloads), last first.
  bool drop_entries(const char* section, const char* key) {
    bool changed = false;
    for (std::size_t i = array_size(best_.scenario, section, key); i-- > 0 && !exhausted_;) {
      Json j = best_.scenario;
      j[section][key].erase(i);
      if (try_scenario(j)) changed = true;
    }
    return changed;
  }

  // Drops the last vCPU while nothing in the schedule or the timekeeping model refers to it.
  bool drop_vcpus() {
    bool changed = false;
    while (!exhausted_) {
      Json j = best_.scenario;
      const int n = j["vm"].value("vcpus", 1);
      if (n <= 1) break;
      const int gone = n - 1;
      bool referred = false;
      for (const auto& in : best_.schedule.injections) referred = referred || in.vcpu == gone;
      if (j.contains("guest") && j["guest"].contains("timekeeping") &&
          j["guest"]["timekeeping"].value("cpu", 0) == gone)
        referred = true;
      if (referred) break;
      j["vm"]["vcpus"] = gone;
      if (j["vm"].contains("pinning") && j["vm"]["pinning"].is_array() &&
          j["vm"]["pinning"].size() > static_cast<std::size_t>(gone))
        j["vm"]["pinning"].erase(static_cast<std::size_t>(gone));
      if (j.contains("guest") && j["guest"].contains("workloads")) {
        Json kept = Json::array();
        for (Json w : j["guest"]["workloads"])
          if (!w.contains("vcpus") || keep_below(w["vcpus"], gone)) kept.push_back(w);
        j["guest"]["workloads"] = kept;
      }
      if (j.contains("explore"))
        for (const char* k : {"vcpus", "nmi_vcpus"})
          if (j["explore"].contains(k)) keep_below(j["explore"][k], gone);
      if (!try_scenario(j)) break;
      changed = true;
    }
    return changed;
  }

  // Halves the integer fields of each workload (counts of iterations, readers, ...).
  bool halve_counts() {
    bool changed = false;
    const std::size_t n = array_size(best_.scenario, "guest", "workloads");
    for (std::size_t w = 0; w < n; ++w) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : best_.scenario["guest"]["workloads"][w].items())
        if (v.is_number_integer() && k != "vcpus") keys.push_back(k);
      for (const std::string& k : keys)
        while (!exhausted_) {
          Json j = best_.scenario;
          Json& v = j["guest"]["workloads"][w][k];
          if (v.get<std::int64_t>() <= 1) break;
          v = v.get<std::int64_t>() / 2;
          if (!try_scenario(j)) break;
          changed = true;
        }
    }
    return changed;
  }

  // Each preemption as short as still fails; each access-placed injection as early.
  bool tighten_injections() {
    bool changed = false;
    for (std::size_t i = 0; i < best_.schedule.injections.size() && !exhausted_; ++i) {
      auto attempt = [&](auto edit) {
        Schedule s = best_.schedule;
        edit(s.injections[i]);
        return try_schedule(s);
      };
      const sim::Injection original = best_.schedule.injections[i];
      if (original.kind == sim::Injection::Kind::kPreempt) {
        Tick lo = 0, hi = original.length;
        const Tick resolution = std::max<Tick>(sim::kNanosecond, original.length / 1024);
        while (hi - lo > resolution && !exhausted_) {
          const Tick mid = round_up(lo + (hi - lo) / 2, sim::kNanosecond);
          if (mid >= hi) break;
          if (attempt([mid](sim::Injection& in) { in.length = mid; }))
            hi = mid;
          else
            lo = mid;
        }
      }
      if (original.access > 1) {
        std::uint64_t lo = 0, hi = best_.schedule.injections[i].access;
        while (hi - lo > 1 && !exhausted_) {
          const std::uint64_t mid = lo + (hi - lo) / 2;
          if (attempt([mid](sim::Injection& in) { in.access = mid; }))
            hi = mid;
          else
            lo = mid;
        }
      }
      changed = changed || !(best_.schedule.injections[i] == original);
    }
    return changed;
  }

  const ReplayFile& best() const { return best_; }
  std::uint64_t runs() const { return runs_; }
  bool exhausted() const { return exhausted_; }

 private:
  std::string file_;
  const ShrinkOptions& options_;
  std::string signature_;
  ReplayFile best_;
  std::uint64_t runs_ = 0;
  bool exhausted_ = false;
  sim::StackPool stacks_;  // kept from candidate to candidate: a shrink runs hundreds
};

}  // namespace

ShrinkSize ShrinkSize::of(const ReplayFile& r) {
  ShrinkSize s;
  s.decisions = r.schedule.decisions.size();
  s.injections = r.schedule.injections.size();
  s.duration = duration_of(r.scenario);
  s.vcpus = r.scenario.contains("vm") ? r.scenario["vm"].value("vcpus", 1) : 1;
  s.load_tasks = array_size(r.scenario, "host", "load");
  s.workloads = array_size(r.scenario, "guest", "workloads");
  return s;
}

std::string ShrinkSize::str() const {
  auto n = [](std::size_t k, const char* one, const char* many) {
    return std::to_string(k) + " " + (k == 1 ? one : many);
  };
  return n(decisions, "decision", "decisions") + ", " + n(injections, "injection", "injections") +
         ", " + sim::format_duration(duration) + ", " +
         n(static_cast<std::size_t>(vcpus), "vCPU", "vCPUs") + ", " +
         n(load_tasks, "load task", "load tasks") + ", " + n(workloads, "workload", "workloads");
}

std::string readable_time(Tick t) {
  return sim::format_time(t);
}

std::string describe_decision(const sim::DecisionKey& key, std::int64_t value) {
  std::string out = "decision " + key.str() + " = " + std::to_string(value);
  for (const char* unit : {"phase", "length", "idle", "busy", "latency", "jitter", "delay"})
    if (key.what.find(unit) != std::string::npos) {
      out += " (" + readable_time(value) + ")";
      break;
    }
  return out;
}

std::string describe_injection(const sim::Injection& in) {
  std::string out = in.kind == sim::Injection::Kind::kNmi ? "NMI to vCPU" : "preemption of vCPU";
  out += std::to_string(in.vcpu);
  out += in.access > 0 ? " at its shared-memory access " + std::to_string(in.access)
                       : " at " + readable_time(in.at);
  if (in.kind == sim::Injection::Kind::kPreempt) out += " for " + readable_time(in.length);
  return out;
}

ShrinkResult shrink(const ReplayFile& input, const std::string& file, const ShrinkOptions& o) {
  if (input.failure.signature.empty())
    throw sim::ConfigError(file + ": the replay records no failure; allowed: a failing replay " +
                           "written by explore or shrink");
  const Replayed first = run_replay(input, file, {}, o.plugins);
  if (first.result.failure.signature != input.failure.signature)
    throw sim::ConfigError(file + ": the replay does not reproduce its failure \"" +
                           input.failure.signature + "\" (the run " +
                           (first.result.failure.signature.empty()
                                ? std::string("passed")
                                : "failed with \"" + first.result.failure.signature + "\"") +
                           "); allowed: a replay whose run fails as recorded");
  ShrinkResult out;
  out.before = ShrinkSize::of(input);
  ReplayFile start = input;
  start.failure = first.result.failure;
  Shrinker s(start, file, o);
  // Duration first: every later run is shorter. Then repeat the reductions until none helps.
  s.shorten_duration();
  for (int pass = 0; pass < 4 && !s.exhausted(); ++pass) {
    bool changed = s.drop_items();
    changed = s.drop_entries("host", "load") || changed;
    changed = s.drop_entries("guest", "workloads") || changed;
    changed = s.drop_vcpus() || changed;
    changed = s.halve_counts() || changed;
    changed = s.tighten_injections() || changed;
    changed = s.shorten_duration() || changed;
    if (!changed) break;
  }
  out.runs = s.runs();
  out.budget_exhausted = s.exhausted();
  out.min = s.best();
  out.min.origin = "shrink of " + file;

  RunOptions traced;
  traced.keep_events = true;
  const Replayed last = run_replay(out.min, file, traced, o.plugins);
  out.min.failure = last.result.failure;
  out.min.fingerprint = last.result.document["fingerprint"];
  out.after = ShrinkSize::of(out.min);
  out.explanation = explain_failure(*last.scenario, last.result);

  // The nearest passing run: one schedule item undone (a run with another failure only when
  // no single undo passes).
  const std::vector<Item> items = items_of(out.min.schedule);
  for (int want_clean = 1; want_clean >= 0 && !out.passing; --want_clean)
    for (std::size_t i = 0; i < items.size() && !out.passing; ++i) {
      std::vector<Item> rest = items;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
      ReplayFile p = out.min;
      p.schedule = schedule_of(rest, out.min.schedule.counted_words);
      const Replayed r = run_replay(p, file, {}, o.plugins);
      const std::string& sig = r.result.failure.signature;
      if (want_clean ? !sig.empty() : sig == out.min.failure.signature) continue;
      p.failure = r.result.failure;
      p.fingerprint = r.result.document["fingerprint"];
      p.origin = "shrink of " + file + ", nearest passing run: " + describe(items[i]) + " undone";
      out.undone = describe(items[i]);
      out.passing = p;
    }
  return out;
}

}  // namespace vcpusim::tools
