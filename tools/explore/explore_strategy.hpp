// explore's strategies: how schedule i of an exploration is drawn. `window` (the default) places
// a few preemption points inside the windows of the scenario's own run (tools/explore/
// windows.hpp), choosing the window first, each named window as likely as any other however
// often it occurs, so a window the run passes through once is found as soon as one passed
// through ten thousand times: PCT's depth bound over windows instead of over all accesses, on
// the targets of the checks in play. `random` takes every
// decision uniformly within its range and adds preemptions at uniform times; `pct` places a few
// preemption points at uniformly chosen shared-memory accesses
// of a vCPU (probabilistic concurrency testing:
// Burckhardt et al., ASPLOS 2010) with lengths spread over orders of magnitude; `cover` keeps
// the schedules that reached a new interleaving of shared words or a new failure and mutates
// them (coverage feedback, as fuzzers do); `seeds` is the baseline: plain runs with seeds
// seed, seed+1, ... (what a loop of `run --seed` does).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/core/rng.hpp"
#include "tools/explore/windows.hpp"
#include "tools/run/scenario.hpp"
#include "tools/run/schedule.hpp"

namespace vcpusim::tools {

const std::vector<std::string>& explore_strategies();

// Draws decisions for one run as its strategy says and keeps those off their default in
// `schedule`. Decisions the base schedule already fixes keep their value.
class ExploreSteer final : public sim::Steer {
 public:
  // redraw: probability (in 1/1024) that a decision not fixed by `base` is redrawn.
  ExploreSteer(Schedule& schedule, sim::Rng rng, unsigned redraw)
      : schedule_(schedule), rng_(rng), redraw_(redraw) {}
  std::int64_t decide(const sim::DecisionPoint& p) override;

 private:
  Schedule& schedule_;
  sim::Rng rng_;
  unsigned redraw_;
};

// What to run as schedule i.
struct Plan {
  std::uint64_t index = 0;
  std::uint64_t seed = 0;        // the scenario's seed for this run (only `seeds` changes it)
  std::uint64_t steer_seed = 0;  // the explore seed: ExploreSteer draws from (steer_seed, index)
  Schedule schedule;             // injections, and decisions fixed before the run
  unsigned redraw = 0;           // ExploreSteer's redraw probability, in 1/1024
  bool steered = false;          // run with an ExploreSteer (else: no steer at all)
};

// What a run of a plan found, as explore keeps it.
struct Outcome {
  std::uint64_t index = 0;
  std::uint64_t seed = 0;
  Schedule schedule;  // as run: the plan's plus the decisions the steer took
  Failure failure;
  std::string fingerprint;
  std::vector<std::uint64_t> coverage;        // `cover` only: interleaving hashes reached
  std::vector<std::uint64_t> guest_accesses;  // per vCPU (schedule 0: to shared words)
  std::vector<std::string> shared_words;      // schedule 0: words more than one vCPU accessed
  std::vector<std::string> windows_hit;       // windows a preemption landed inside
  // Passes through windows the scenario's own run does not have (WindowWatch::kNewPasses of
  // each at most): this schedule opened them, a deeper one can preempt inside them.
  struct NewPass {
    std::string window;
    int vcpu = 0;
    std::uint64_t first = 0, last = 0;
  };
  std::vector<NewPass> new_passes;
};

// The windows of the scenario's own run, with accesses counted on its shared words.
struct WindowProfile {
  std::vector<std::string> keys;
  std::vector<WindowPass> passes;
  std::map<std::string, std::uint64_t> seen;  // passes per window
};

class Strategy {
 public:
  Strategy(std::string name, const Scenario& s, std::uint64_t seed);
  const std::string& name() const { return name_; }
  bool wants_coverage() const { return name_ == "cover"; }
  // The profile: shared-memory accesses per vCPU in the scenario's own run (schedule 0).
  // Preemption points go to accesses of words more than one vCPU touched (PCT's steps: where
  // another CPU can observe the difference), counted per vCPU.
  void set_profile(const std::vector<std::uint64_t>& accesses, std::vector<std::string> shared) {
    ops_ = accesses;
    shared_ = std::move(shared);
  }
  // The windows of the scenario's own run and the patterns that aim at some of them (none:
  // every window). Returns the windows aimed at (empty when none matched: then every window).
  std::vector<std::string> set_windows(WindowProfile profile,
                                       const std::vector<std::string>& targets);
  // Schedule i; for `cover`, from the corpus as of the last feedback().
  Plan plan(std::uint64_t index) const;
  // Results in index order; `cover` keeps those that reached something new.
  void feedback(const Outcome& o);
  std::size_t coverage() const { return seen_.size(); }
  // The windows of the scenario's own run, by name (set_windows).
  const std::set<std::string>& known_windows() const { return known_; }
  // The overlaps aimed at, by name, with their instances (set_windows).
  const std::map<std::string, std::uint64_t>& aimed_overlaps() const { return overlap_counts_; }

 private:
  sim::Injection access_point(sim::Rng& rng, sim::Injection::Kind kind,
                              const std::vector<int>& vcpus) const;
  sim::Tick length(sim::Rng& rng, bool log_spread) const;
  void add_random(Plan& p, sim::Rng& rng) const;
  void add_pct(Plan& p, sim::Rng& rng) const;
  void add_window(Plan& p, sim::Rng& rng) const;
  void deepen(Plan& p, sim::Rng& rng) const;
  std::optional<sim::Injection> window_point(sim::Rng& rng, sim::Injection::Kind kind,
                                             const std::vector<int>& vcpus) const;
  std::optional<sim::Injection> overlap_point(
      sim::Rng& rng, sim::Injection::Kind kind, const std::vector<int>& vcpus,
      const std::vector<std::vector<WindowOverlap>>& overlaps) const;
  void mutate(Plan& p, sim::Rng& rng) const;

  std::string name_;
  const Scenario& scenario_;
  std::uint64_t seed_;
  std::vector<int> preemptible_;
  std::vector<int> nmi_vcpus_;
  std::vector<std::uint64_t> ops_;
  std::vector<std::string> shared_;
  std::vector<Schedule> corpus_;
  std::set<std::uint64_t> seen_;
  WindowProfile windows_;
  std::set<std::string> known_;
  // Per aimed window (in the order first seen), its passes (indices into windows_.passes) by
  // vCPUs explore may preempt, and by those it may send NMIs; named windows apart from pairs;
  // then the overlaps of two named windows about one object, one of them aimed (by name),
  // where one of the two vCPUs is allowed.
  struct AimedWindows {
    std::vector<std::vector<std::size_t>> named, pairs;
    std::vector<std::vector<WindowOverlap>> overlaps;
  };
  // Overlaps kept per name: enough instances to choose from, bounded on lock-heavy runs.
  static constexpr std::size_t kOverlapsPerName = 4096;
  AimedWindows aimed_preempt_, aimed_nmi_;
  std::map<std::string, std::uint64_t> overlap_counts_;
  // `window`: schedules that opened windows the scenario's own run does not have, with their
  // passes through them (aimed ones only), in the order found.
  struct Lead {
    Schedule schedule;
    std::vector<Outcome::NewPass> passes;
  };
  std::vector<Lead> leads_;
  std::set<std::string> opened_;  // new windows some lead opened
  std::vector<std::string> targets_;
  bool aim_all_ = true;
};

}  // namespace vcpusim::tools
