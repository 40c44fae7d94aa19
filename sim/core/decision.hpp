// The one source of host-level choices (DESIGN.md "Execution model"): load wake/sleep times,
// timer delivery jitter, placement ties, latencies within a configured range. Random by default;
// a Steer (explore's strategies, a replay file) can stand in for any of them through the same
// interface, and every decision carries a stable key so a log of them replays the run.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/core/rng.hpp"
#include "sim/record/components.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

// What kind of choice a decision is; the kind fixes what its default run does.
enum class DecisionKind {
  kExponential,  // a random duration with a mean (drawn from the component's stream)
  kUniform,      // uniform in [lo, hi] (drawn from the component's stream)
  kNominal,      // a choice a real host could make otherwise in [lo, hi]; the default run takes lo
};

// A decision's identity across runs: who made it, what it is, and how many of the same the
// component made before (so a replay matches by key, never by position in the log).
struct DecisionKey {
  std::string component;
  std::string what;
  std::uint64_t index = 0;
  bool operator<(const DecisionKey& o) const {
    return std::tie(component, what, index) < std::tie(o.component, o.what, o.index);
  }
  bool operator==(const DecisionKey& o) const {
    return component == o.component && what == o.what && index == o.index;
  }
  std::string str() const;
};

struct Decision {
  Tick time;
  int component;
  std::string what;
  std::int64_t value;
  std::uint64_t index = 0;
};

// One decision being made: its key, kind, range [lo, hi] (unbounded above for kExponential, whose
// mean is `mean`) and the value the default run takes.
struct DecisionPoint {
  Tick now;
  const DecisionKey& key;
  DecisionKind kind;
  std::int64_t lo;
  std::int64_t hi;
  std::int64_t default_value;
  std::int64_t mean = 0;
};

// Stands in for the default choice: returns the value to take (within the point's range).
class Steer {
 public:
  virtual ~Steer() = default;
  virtual std::int64_t decide(const DecisionPoint& point) = 0;
};

class DecisionSource {
 public:
  virtual ~DecisionSource() = default;
  // An exponentially distributed duration with the given mean.
  virtual Tick exponential(Tick now, int component, const std::string& what, Tick mean) = 0;
  // An integer in [0, n), uniform.
  virtual std::int64_t choose(Tick now, int component, const std::string& what, std::int64_t n) = 0;
  // A host choice among n alternatives that the default run resolves as 0 (a tie broken by the
  // lowest id, the shortest latency of a range): only a steer takes another one.
  virtual std::int64_t nominal(Tick now, int component, const std::string& what,
                               std::int64_t n) = 0;
  std::uint64_t count() const { return count_; }
  // The log of every decision grows with simulated time: kept only when asked (tests, replay).
  void keep_log(bool keep) { keep_log_ = keep; }
  // A stream for the guest's own random choices (a workload's think times): guest behaviour, not
  // a host decision, so its draws are not logged. Keyed by the name, seeded by the run's seed.
  virtual Rng guest_stream(const std::string& name) const = 0;
  const std::vector<Decision>& log() const { return log_; }

 protected:
  std::int64_t record(Tick now, int component, const std::string& what, std::int64_t value,
                      std::uint64_t index = 0);

 private:
  std::uint64_t count_ = 0;
  bool keep_log_ = false;
  std::vector<Decision> log_;
};

// Draws from one seeded stream per component, keyed by the component's name (never its id), so
// adding a component does not perturb the others. With a steer, every draw is still made (so the
// decisions a steer leaves alone keep their default values) and the steer has the last word.
class RandomDecisionSource final : public DecisionSource {
 public:
  RandomDecisionSource(std::uint64_t seed, const Components& components)
      : seed_(seed), components_(components) {}
  void set_steer(Steer* steer) { steer_ = steer; }
  Tick exponential(Tick now, int component, const std::string& what, Tick mean) override;
  std::int64_t choose(Tick now, int component, const std::string& what, std::int64_t n) override;
  std::int64_t nominal(Tick now, int component, const std::string& what, std::int64_t n) override;
  Rng guest_stream(const std::string& name) const override {
    return Rng(seed_, stable_hash("guest/" + name));
  }

 private:
  Rng& stream(int component);
  std::int64_t steer(Tick now, int component, const std::string& what, DecisionKind kind,
                     std::int64_t lo, std::int64_t hi, std::int64_t value, std::int64_t mean = 0);
  std::uint64_t seed_;
  const Components& components_;
  std::map<int, Rng> streams_;
  Steer* steer_ = nullptr;
  std::map<std::pair<int, std::string>, std::uint64_t> occurrences_;  // only with a steer
};

// A host event a schedule adds to the scenario (explore's preemption points, injected NMIs):
// at a time, or as the vCPU starts its access-th access to shared memory (counting from 1: the
// loads, stores and atomics PCT counts as steps, where another CPU can observe an interleaving).
struct Injection {
  enum class Kind { kPreempt, kNmi };
  Kind kind = Kind::kPreempt;
  int vcpu = 0;
  Tick at = -1;              // a time, or -1 when placed by `access`
  std::uint64_t access = 0;  // a shared-memory access of `vcpu`, or 0 when placed by `at`
  Tick length = 0;           // kPreempt: how long the host keeps the vCPU's pCPU
  bool operator==(const Injection& o) const {
    return kind == o.kind && vcpu == o.vcpu && at == o.at && access == o.access &&
           length == o.length;
  }
};

}  // namespace vcpusim::sim
