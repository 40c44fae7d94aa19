// The guest's trace vocabulary: the timekeeping update as an async span (from its c0 clock read to
// the publish of the new values) with its VCD signal, and each clock read as an instant on the
// reading vCPU's lane, translated from what the timekeeping model (group "timekeeping") and the
// clock readers (group "clock", one per vCPU) record (docs/trace.md). RCU (group "rcu"): each
// grace period as an async span "RCU GP" on the grace-period kthread's vCPU, a mark on the lane of
// the vCPU whose quiescent state ended it ("GP waited for this vCPU"), per-vCPU quiescent-state
// marks, and read sections as spans "vCPUn rcu read".
#pragma once
#include <map>
#include <string>
#include <vector>

#include "sim/trace.hpp"

namespace vcpusim::guest {

class GuestTraceVocabulary final : public sim::TraceVocabulary {
 public:
  // tsc_hz dates an update from its c0 TSC read.
  explicit GuestTraceVocabulary(std::int64_t tsc_hz) : tsc_hz_(tsc_hz) {}
  // The trace categories it emits.
  static const std::vector<std::string>& categories();

  std::vector<std::string> groups() const override { return {"timekeeping", "clock", "rcu"}; }
  void declare(sim::TraceBuilder& b) override;
  void handle(const sim::RecordedEvent& e, sim::TraceBuilder& b) override;

 private:
  void handle_rcu(const sim::RecordedEvent& e, sim::TraceBuilder& b);

  std::int64_t tsc_hz_;
  int tk_signal_ = -1;
  std::map<std::int64_t, int> rcu_readers_;  // open read-section spans per vCPU
};

}  // namespace vcpusim::guest
