// The guest's trace vocabulary: the timekeeping update as an async span (from its c0 clock read to
// the publish of the new values) with its VCD signal, and each clock read as an instant on the
// reading vCPU's lane, translated from what the timekeeping model (group "timekeeping") and the
// clock readers (group "clock", one per vCPU) record (docs/trace.md).
#pragma once
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

  std::vector<std::string> groups() const override { return {"timekeeping", "clock"}; }
  void declare(sim::TraceBuilder& b) override;
  void handle(const sim::RecordedEvent& e, sim::TraceBuilder& b) override;

 private:
  std::int64_t tsc_hz_;
  int tk_signal_ = -1;
};

}  // namespace vcpusim::guest
