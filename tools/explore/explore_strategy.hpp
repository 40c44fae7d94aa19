// explore's strategies: how schedule i of an exploration is drawn. `random` takes every
// decision uniformly within its range and adds preemptions at uniform times; `pct` places a few
// preemption points at uniformly chosen shared-memory accesses
// of a vCPU (probabilistic concurrency testing:
// Burckhardt et al., ASPLOS 2010) with lengths spread over orders of magnitude; `cover` keeps
// the schedules that reached a new interleaving of shared words or a new failure and mutates
// them (coverage feedback, as fuzzers do); `seeds` is the baseline: plain runs with seeds
// seed, seed+1, ... (what a loop of `run --seed` does).
#pragma once
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/rng.hpp"
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
  // Schedule i; for `cover`, from the corpus as of the last feedback().
  Plan plan(std::uint64_t index) const;
  // Results in index order; `cover` keeps those that reached something new.
  void feedback(const Outcome& o);
  std::size_t coverage() const { return seen_.size(); }

 private:
  sim::Injection access_point(sim::Rng& rng, sim::Injection::Kind kind,
                              const std::vector<int>& vcpus) const;
  sim::Tick length(sim::Rng& rng, bool log_spread) const;
  void add_random(Plan& p, sim::Rng& rng) const;
  void add_pct(Plan& p, sim::Rng& rng) const;
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
};

}  // namespace vcpusim::tools
