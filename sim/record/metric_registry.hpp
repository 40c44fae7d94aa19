// Run metrics, each declared once by the code that counts it (as gem5 declares its stats): a name,
// a unit and a line of doc. A metric counted once per vCPU, pCPU or lock has a name pattern:
// `<N>` stands for an index ("vcpu<N>.steal_ns") and `{a,b}` for one of the words listed
// ("ipi.to_{running,halted,preempted}"; a word may hold a <N>). The code that counts declares its
// metrics as members of a MetricGroup and emits them through those members (Metrics::set with
// the declaration, the placeholders filled in order), so a metric cannot be emitted under a name
// it was not declared with. The registry of every declared metric (a sim::Registry of
// MetricSpec) lets `vcpusim metrics` list them, and expect blocks and sweep specs name only
// metrics that exist, with the nearest declared name suggested for a typo.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/config/registry.hpp"
#include "sim/record/metrics.hpp"

namespace vcpusim::sim {

// What one declared metric's value is.
enum class MetricShape {
  kNumber,   // a number
  kSummary,  // samples: NAME.count, .min, .p50, .p99, .max (absent when nothing was sampled)
  kText,     // a string (which algorithm ran)
  kObject,   // JSON details, an object or a list (not a number: no bound, no sweep column)
};

struct MetricSpec {
  std::string name;  // the pattern
  std::string unit;  // of the value (of a summary's statistics; NAME.count counts samples)
  std::string doc;
  MetricShape shape = MetricShape::kNumber;
  std::string group;  // the component that declares it: the heading it is listed under
};

using MetricRegistry = Registry<MetricSpec>;

// The statistics of a summary, in the order they are listed.
const std::vector<std::string>& summary_parts();

// SimError unless `pattern` is well formed (braces closed, not nested, no empty word).
void check_metric_pattern(const std::string& pattern);
// True when `name` is one of the names `pattern` stands for.
bool metric_pattern_matches(const std::string& pattern, const std::string& name);

// What an emitted (or asked for) metric name is: its declaration and, for a summary, which
// statistic ("p99"; empty for other shapes).
struct MetricMatch {
  const MetricSpec* spec = nullptr;
  std::string part;
  // The unit of this name's value: a summary's ".count" counts samples.
  std::string unit() const;
  // A number (bounds and sweep columns apply), not text or an object.
  bool numeric() const;
};

// Every declaration `name` resolves to (exactly one for a well-declared registry).
std::vector<MetricMatch> resolve_metric(const MetricRegistry& registry, const std::string& name);
// The declared name nearest to `name` by edit distance (a <N> matches any number at no cost),
// written as declared ("vcpu<N>.steal_ns", a summary with its statistic); "" for an empty
// registry.
std::string nearest_metric(const MetricRegistry& registry, const std::string& name);
// The numeric metric `name` (an input's: an expect bound, a sweep column) resolves to; else fails
// at `where` with one message: the name, the nearest declared one, where the list is.
MetricMatch require_numeric_metric(const Node& where, const std::string& name,
                                   const MetricRegistry& registry);

class MetricGroup;

// The declaration of one metric, a member of its group. Its owner emits the value after the run
// with Metrics::set / set_summary; the subclasses below hold their value and their group emits it.
class Metric {
 public:
  Metric(MetricGroup& group, const char* name, const char* unit, const char* doc,
         MetricShape shape = MetricShape::kNumber);
  virtual ~Metric() = default;
  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;
  const MetricSpec& spec() const { return spec_; }
  // The name emitted: the pattern with each placeholder replaced by `args`, in order; SimError
  // (an internal error) when they do not fit it.
  std::string name(const std::vector<std::string>& args = {}) const;
  // Adds the value it holds, if it holds one (Counter, Distribution).
  virtual void collect(Metrics& out) const {}

 private:
  MetricSpec spec_;
};

// A count that its owner increments; MetricGroup::collect emits it.
class Counter final : public Metric {
 public:
  Counter(MetricGroup& group, const char* name, const char* doc, const char* unit = "count")
      : Metric(group, name, unit, doc) {}
  Counter& operator++() {
    ++value_;
    return *this;
  }
  Counter& operator+=(std::uint64_t n) {
    value_ += n;
    return *this;
  }
  std::uint64_t value() const { return value_; }
  void collect(Metrics& out) const override;

 private:
  std::uint64_t value_ = 0;
};

// Samples that their owner adds; MetricGroup::collect emits their summary.
class Distribution final : public Metric {
 public:
  Distribution(MetricGroup& group, const char* name, const char* unit, const char* doc)
      : Metric(group, name, unit, doc, MetricShape::kSummary) {}
  void add(std::int64_t v) { samples_.add(v); }
  const Samples& samples() const { return samples_; }
  void collect(Metrics& out) const override;

 private:
  Samples samples_;
};

// The metrics one component declares, in declaration order (as a ParamSet holds its params).
class MetricGroup {
 public:
  // `name`: the component, the heading its metrics are listed under.
  explicit MetricGroup(std::string name) : name_(std::move(name)) {}
  virtual ~MetricGroup() = default;
  MetricGroup(const MetricGroup&) = delete;
  MetricGroup& operator=(const MetricGroup&) = delete;
  const std::string& name() const { return name_; }
  const std::vector<const Metric*>& metrics() const { return metrics_; }
  // Adds every declaration to `registry` (SimError for a name declared twice).
  void declare(MetricRegistry& registry) const;
  // Emits the values of the members that hold one (Counter, Distribution).
  void collect(Metrics& out) const;

 private:
  friend class Metric;
  std::string name_;
  std::vector<const Metric*> metrics_;
};

}  // namespace vcpusim::sim
