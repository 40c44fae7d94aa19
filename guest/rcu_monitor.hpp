// Host-side observer of the RCU model: what the checks rcu_reader_spans_gp and rcu_stall need
// (open read-side sections, each grace period's start and the CPUs it still waits for), the
// metrics (synchronize_rcu latency, grace periods, pending callbacks, who held each long grace
// period) and the recorded events the trace draws (grace-period spans, quiescent-state marks,
// reader sections). Guest code never reads it.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cpu/machine.hpp"
#include "guest/rcu_params.hpp"
#include "sim/metrics.hpp"

namespace vcpusim::guest {

// Why a CPU's quiescent state was reported (rcu.qs.* metrics, the trace mark's argument).
enum class QsReason { kContextSwitch = 0, kIdle = 1, kCondResched = 2, kFqsIdle = 3 };

class RcuMonitor {
 public:
  static constexpr const char* kSpansGp = "rcu_reader_spans_gp";
  static constexpr const char* kStall = "rcu_stall";

  RcuMonitor(cpu::Machine& machine, const RcuParams& params);
  void set_reporting(bool spans_gp, bool stall) {
    report_spans_ = spans_gp;
    report_stall_ = stall;
  }

  void reader_begin(int cpu, const std::string& task, sim::Tick now);
  void reader_end(int cpu, const std::string& task, sim::Tick now);
  void gp_start(std::uint64_t gp, sim::Tick now, int cpus);
  void qs(int cpu, QsReason why, sim::Tick now);
  void gp_end(sim::Tick now);
  void fqs_scan() { ++fqs_scans_; }
  void sync_latency(sim::Tick d) { sync_ns_.add(d / sim::kNanosecond); }
  void callbacks_pending(std::uint64_t n) { pending_.add(static_cast<std::int64_t>(n)); }
  void callback_invoked() { ++invoked_; }

  void collect_metrics(sim::Metrics& out, sim::Tick duration) const;
  std::uint64_t grace_periods() const { return gps_; }

 private:
  struct Reader {
    std::string task;
    int cpu;
    sim::Tick since;
  };
  void stall_check(std::uint64_t gp);

  cpu::Machine& machine_;
  const RcuParams& params_;
  int component_;
  bool report_spans_ = false;
  bool report_stall_ = false;
  std::map<std::string, Reader> readers_;  // open read-side sections by task
  // The grace period in progress.
  bool in_gp_ = false;
  std::uint64_t gp_ = 0;
  sim::Tick gp_start_ = 0;
  std::set<int> pending_cpus_;
  int last_cpu_ = -1;  // the CPU whose quiescent state ended it
  sim::EventKey stall_timer_;
  std::vector<sim::Tick> reported_at_;
  // Results.
  std::uint64_t gps_ = 0;
  std::uint64_t fqs_scans_ = 0;
  std::uint64_t invoked_ = 0;
  std::uint64_t stalls_ = 0;
  std::map<QsReason, std::uint64_t> qs_counts_;
  std::map<int, std::uint64_t> held_by_;  // long grace periods each CPU held
  sim::Json long_gps_ = sim::Json::array();
  sim::Json longest_ = sim::Json::object();
  sim::Tick longest_ns_ = -1;
  sim::Samples gp_ns_;
  sim::Samples sync_ns_;
  sim::Samples pending_;
};

}  // namespace vcpusim::guest
