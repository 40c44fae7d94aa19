// The host's and the vCPUs' trace vocabulary: pCPU lanes (which host thread runs), vCPU lanes
// (host state with the guest's user-mode, interrupt, spin and halt frames nested inside), IPI and
// pv-kick flows, runnable and waiter counters, and their VCD signals, translated from what the
// scheduler (group "pcpu") and the vCPUs (group "vcpu") record (docs/trace.md). Notes a guest
// model records on a vCPU (lock holds, seqcount writes) are claimed by the guest's vocabulary.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "sim/record/components.hpp"
#include "sim/trace/trace.hpp"

namespace vcpusim::cpu {

// Lane ids in the Chrome trace: process 1 holds the pCPU lanes, process 2 the vCPU lanes.
constexpr int kHostPid = 1;
constexpr int kVmPid = 2;
inline int pcpu_tid(int pcpu) {
  return 10000 + pcpu;
}
inline int vcpu_tid(int vcpu) {
  return 20000 + vcpu;
}

// VCD vCPU state codes.
enum VcpuStateCode : int {
  kVcdHalted = 0,
  kVcdRunning = 1,
  kVcdPreempted = 2,
  kVcdRunnable = 3,  // woken, waiting for a pCPU
  kVcdIrq = 4,
  kVcdNmi = 5,
  kVcdSpinning = 6,
  kVcdOff = 7,  // not started
};

class HostTraceVocabulary final : public sim::TraceVocabulary {
 public:
  explicit HostTraceVocabulary(const sim::Components& components);
  // The trace categories it emits.
  static const std::vector<std::string>& categories();

  std::vector<std::string> groups() const override { return {"pcpu", "vcpu"}; }
  void declare(sim::TraceBuilder& b) override;
  void handle(const sim::EventView& e, sim::TraceBuilder& b) override;
  void finish(sim::TraceBuilder& b) override;

 private:
  enum class Host { kOff, kRunning, kPreempted, kRunnable, kSleeping, kThrottled };
  enum class FrameKind { kIrq, kNmi, kSpin, kHalt, kUser };
  struct Frame {  // guest-side state of a vCPU, nested inside its host state
    FrameKind kind;
    sim::TraceSlice slice;
    std::int64_t id = 0;  // spun-on id
  };

  std::string thread_name(std::int64_t tid) const;
  int vlane(int v) const { return pcpus_ + v; }
  void sched(int p, const sim::EventView& e);
  void vcpu_event(int v, const sim::EventView& e);
  void move_thread(std::int64_t tid, int pcpu, int state);
  void emit_runnable(int p);
  void emit_waiters(std::int64_t id);
  sim::TraceSlice level0(int v) const;
  bool frame_shown(int v, const Frame& f) const;
  void relayout(int v);
  void push_frame(int v, Frame f);
  bool pop_frame(int v, FrameKind kind, const std::string* name, std::int64_t id, bool by_id);
  void update_vcpu_signal(int v);
  void set_host(int v, Host h);
  sim::TraceFlow start_flow(int from_vcpu, const std::string& name, sim::Tick at);
  void finish_kicks(int v);

  sim::TraceBuilder* b_ = nullptr;
  int pcpus_ = 0;
  int vcpus_ = 0;
  std::map<int, std::string> thread_names_;  // host thread id -> name, for load tasks
  std::vector<Host> host_;
  std::vector<std::vector<Frame>> frames_;
  std::vector<std::array<std::vector<sim::TraceFlow>, 3>> pending_;
  std::vector<std::vector<sim::TraceFlow>> kicks_;
  std::vector<std::int64_t> current_;
  std::vector<int> thread_pcpu_;
  std::vector<int> thread_state_;
  std::vector<std::int64_t> runnable_vcpus_;
  std::map<std::int64_t, std::int64_t> waiters_;
  std::vector<int> owner_signal_;  // per pCPU
  std::vector<int> state_signal_;  // per vCPU
};

}  // namespace vcpusim::cpu
