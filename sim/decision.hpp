// The one source of host-level choices (DESIGN.md "Execution model"): load wake/sleep times,
// slice jitter, preemption placement, delivery delays. Random by default; a script or a search
// can stand in through the same interface.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/components.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

struct Decision {
  Tick time;
  int component;
  std::string what;
  std::int64_t value;
};

class DecisionSource {
 public:
  virtual ~DecisionSource() = default;
  // An exponentially distributed duration with the given mean.
  virtual Tick exponential(Tick now, int component, const std::string& what, Tick mean) = 0;
  // An integer in [0, n).
  virtual std::int64_t choose(Tick now, int component, const std::string& what, std::int64_t n) = 0;
  std::uint64_t count() const { return count_; }
  // The log of every decision grows with simulated time: kept only when asked (tests, replay).
  void keep_log(bool keep) { keep_log_ = keep; }
  // A stream for the guest's own random choices (a workload's think times): guest behaviour, not
  // a host decision, so its draws are not logged. Keyed by the name, seeded by the run's seed.
  virtual Rng guest_stream(const std::string& name) const = 0;
  const std::vector<Decision>& log() const { return log_; }

 protected:
  std::int64_t record(Tick now, int component, const std::string& what, std::int64_t value);

 private:
  std::uint64_t count_ = 0;
  bool keep_log_ = false;
  std::vector<Decision> log_;
};

// Draws from one seeded stream per component, keyed by the component's name (never its id), so
// adding a component does not perturb the others.
class RandomDecisionSource final : public DecisionSource {
 public:
  RandomDecisionSource(std::uint64_t seed, const Components& components)
      : seed_(seed), components_(components) {}
  Tick exponential(Tick now, int component, const std::string& what, Tick mean) override;
  std::int64_t choose(Tick now, int component, const std::string& what, std::int64_t n) override;
  Rng guest_stream(const std::string& name) const override {
    return Rng(seed_, stable_hash("guest/" + name));
  }

 private:
  Rng& stream(int component);
  std::uint64_t seed_;
  const Components& components_;
  std::map<int, Rng> streams_;
};

}  // namespace vcpusim::sim
