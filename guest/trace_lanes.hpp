// The guest's trace vocabulary: the timekeeping update as an async span (from its c0 clock read to
// the publish of the new values) with its VCD signal, and the clock reads, translated from what
// the timekeeping model (group "timekeeping") and the clock readers (group "clock", one per vCPU)
// record (docs/trace.md). Reads are most of a run's events: by default each reader gets a counter
// of its reads per 100 us and only the reads near a violation are drawn one by one; with `read`
// in --trace-kinds every read is an instant. RCU (group "rcu"): each grace period as an async
// span "RCU GP" on the grace-period kthread's vCPU, a mark on the lane of the vCPU whose
// quiescent state ended it ("GP waited for this vCPU"), per-vCPU quiescent-state marks, and read
// sections as spans "vCPUn rcu read". The notes guest models record on a vCPU's lane
// (trace_kinds.hpp), claimed by kind: lock holds and seqcount write sections as async spans, and
// lock_torture's holder and waiter preemptions as marks.
#pragma once
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "sim/trace/trace.hpp"

namespace vcpusim::guest {

class GuestTraceVocabulary final : public sim::TraceVocabulary {
 public:
  // tsc_hz dates an update from its c0 TSC read.
  explicit GuestTraceVocabulary(std::int64_t tsc_hz) : tsc_hz_(tsc_hz) {}
  // The trace categories it emits.
  static const std::vector<std::string>& categories();

  std::vector<std::string> groups() const override { return {"timekeeping", "clock", "rcu"}; }
  std::vector<std::string> kinds() const override;
  void declare(sim::TraceBuilder& b) override;
  void handle(const sim::EventView& e, sim::TraceBuilder& b) override;
  void finish(sim::TraceBuilder& b) override;
  // An open bin's counter is dated at its start, and an update's span at its c0 read.
  sim::Tick hold() const override;

  static constexpr sim::Tick kReadBin = 100 * sim::kMicrosecond;
  // Reads this close to a violation are drawn one by one.
  static constexpr sim::Tick kReadsAround = 50 * sim::kMicrosecond;

 private:
  struct ReadBin {
    sim::Tick start = -1;  // -1: no read yet
    std::int64_t count = 0;
  };
  void handle_rcu(const sim::EventView& e, sim::TraceBuilder& b);
  void vcpu_note(const sim::EventView& e, sim::TraceBuilder& b);
  void read(int vcpu, const sim::EventView& e, sim::TraceBuilder& b);
  void close_bin(int vcpu, sim::TraceBuilder& b, sim::Tick next);
  const std::string& read_name(const char* kind);
  sim::Tick c0_time(std::int64_t c0, sim::Tick now) const;

  std::int64_t tsc_hz_;
  int tk_signal_ = -1;
  bool reads_ = false;  // the read category is wanted
  bool every_read_ = false;
  sim::Tick from_ = 0;                      // the window start
  sim::Tick update_begin_ = sim::kForever;  // the start of the update being computed (tk.read)
  enum class Group { kOther, kClock, kRcu, kVcpu };
  std::vector<Group> group_;                                    // per component id
  std::vector<int> lane_;                                       // per vCPU
  std::deque<std::pair<const char*, std::string>> read_names_;  // by interned kind (stable)
  std::vector<ReadBin> bins_;                                   // per vCPU
  std::map<std::int64_t, int> rcu_readers_;                     // open read-section spans per vCPU
};

}  // namespace vcpusim::guest
