// Invariant checkers and the violations they report. Checkers see generic observations (a time
// value read by a CPU, a wait); they never know a guest algorithm by name.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sim/time.hpp"

namespace vcpusim::sim {

struct Violation {
  std::string check;
  Tick time = 0;
  std::vector<int> cpus;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
  nlohmann::json to_json() const;
};

// Counts every violation; keeps the first kKept of each check in full.
class Violations {
 public:
  static constexpr std::size_t kKept = 1000;
  void report(Violation v);
  // Sees each kept violation as it is reported (the streamed trace draws them).
  void set_observer(std::function<void(const Violation&)> observer) {
    observer_ = std::move(observer);
  }
  const std::vector<Violation>& list() const { return list_; }
  std::size_t count(const std::string& check) const;
  std::size_t total() const;
  const std::map<std::string, std::size_t>& counts() const { return counts_; }

 private:
  std::vector<Violation> list_;
  std::map<std::string, std::size_t> counts_;
  std::function<void(const Violation&)> observer_;
};

// monotonic_time: per reader, and across CPUs in real-time order: a read that starts after
// another one ended must not return a smaller value. Reads that are still catching up with an
// already reported value belong to that violation's episode and are only counted. One violation
// per episode: while some reader is behind, another reader going behind joins the same episode
// (one stale clock seen by several readers); per-reader episode counts are kept beside it.
class MonotonicTimeCheck {
 public:
  static constexpr const char* kName = "monotonic_time";
  explicit MonotonicTimeCheck(Violations& out) : out_(out) {}

  // Extra details for a violation (a model's own prediction of the step, for example), given the
  // end times of the earlier and the later read.
  using ContextProvider =
      std::function<void(Tick earlier_end, Tick later_end, nlohmann::json& details)>;
  void add_context(ContextProvider p) { context_.push_back(std::move(p)); }

  void read_started(int cpu);
  void read_finished(int cpu, Tick start, Tick end, std::int64_t value_ns, const char* clock);
  std::uint64_t reads() const { return reads_; }
  // Reads below their reference, including those of an episode already reported.
  std::uint64_t backward_reads() const { return backward_reads_; }
  // Per reader (by cpu): the episodes in which it read backwards.
  const std::vector<std::uint64_t>& episodes_by_reader() const { return reader_episodes_; }

 private:
  struct Read {
    int cpu = -1;
    Tick start = 0;
    Tick end = 0;
    std::int64_t value = INT64_MIN;
  };
  void violate(int cpu, Tick start, Tick end, std::int64_t value, const Read& earlier,
               const char* scope, const char* clock);

  Violations& out_;
  std::vector<ContextProvider> context_;
  Read max_ended_;              // the largest value among reads that have ended
  std::vector<Read> snapshot_;  // per CPU: max_ended_ when its current read started
  std::vector<Read> last_;      // per CPU: its previous read
  static constexpr std::int64_t kNoEpisode = INT64_MIN;
  std::vector<std::int64_t> behind_;  // per CPU: the reference of its open backward episode
  std::vector<std::uint64_t> reader_episodes_;
  std::uint64_t reads_ = 0;
  std::uint64_t backward_reads_ = 0;
};

}  // namespace vcpusim::sim
