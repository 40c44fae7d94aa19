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
#include "sim/record/metric_registry.hpp"

namespace vcpusim::guest {

// Why a CPU's quiescent state was reported (rcu.qs.* metrics, the trace mark's argument).
enum class QsReason { kContextSwitch = 0, kIdle = 1, kCondResched = 2, kFqsIdle = 3 };

struct RcuMetrics : sim::MetricGroup {
  RcuMetrics() : MetricGroup("rcu") {}
  sim::Counter grace_periods{*this, "rcu.grace_periods", "grace periods completed"};
  sim::Metric grace_periods_per_sec{*this, "rcu.grace_periods_per_sec", "1/s",
                                    "grace periods completed per simulated second"};
  sim::Distribution gp_ns{*this, "rcu.gp_ns", "ns", "grace-period durations, start to end"};
  sim::Distribution sync_latency_ns{*this, "rcu.sync_latency_ns", "ns",
                                    "synchronize_rcu calls, call to return"};
  sim::Distribution callbacks_pending{
      *this, "rcu.callbacks_pending", "callbacks",
      "callbacks queued on the calling CPU's list, sampled at each call_rcu"};
  sim::Counter callbacks_invoked{*this, "rcu.callbacks_invoked", "callbacks invoked"};
  sim::Counter fqs_scans{*this, "rcu.fqs_scans", "force-quiescent-state scans"};
  sim::Counter stalls{*this, "rcu.stalls", "grace periods that outlived rcu.stall_timeout"};
  // The {...} words are reason_name's.
  sim::Metric qs{*this, "rcu.qs.{context_switch,idle,cond_resched,fqs_idle}", "count",
                 "quiescent states reported, by how (only reasons seen)"};
  sim::Metric long_gps_held_by{*this, "rcu.long_gps_held_by.vcpu<N>", "count",
                               "grace periods longer than rcu.long_gp that vCPU held"};
  sim::Metric long_gps{*this, "rcu.long_gps", "",
                       "the first 100 grace periods longer than rcu.long_gp: number, start, "
                       "duration, last CPU, the vCPUs that held them",
                       sim::MetricShape::kObject};
  sim::Metric longest_gp{*this, "rcu.longest_gp", "",
                         "the longest grace period, as an entry of rcu.long_gps",
                         sim::MetricShape::kObject};
};

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
  void fqs_scan() { ++metrics_.fqs_scans; }
  void sync_latency(sim::Tick d) { metrics_.sync_latency_ns.add(d / sim::kNanosecond); }
  void callbacks_pending(std::uint64_t n) {
    metrics_.callbacks_pending.add(static_cast<std::int64_t>(n));
  }
  void callback_invoked() { ++metrics_.callbacks_invoked; }

  void collect_metrics(sim::Metrics& out, sim::Tick duration) const;
  std::uint64_t grace_periods() const { return metrics_.grace_periods.value(); }

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
  RcuMetrics metrics_;
  std::map<QsReason, std::uint64_t> qs_counts_;
  std::map<int, std::uint64_t> held_by_;  // long grace periods each CPU held
  sim::Json long_gps_ = sim::Json::array();
  sim::Json longest_ = sim::Json::object();
  sim::Tick longest_ns_ = -1;
};

}  // namespace vcpusim::guest
