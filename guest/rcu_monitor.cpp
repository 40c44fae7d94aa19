#include "guest/rcu_monitor.hpp"

namespace vcpusim::guest {
namespace {
const char* reason_name(QsReason r) {
  switch (r) {
    case QsReason::kContextSwitch:
      return "context_switch";
    case QsReason::kIdle:
      return "idle";
    case QsReason::kCondResched:
      return "cond_resched";
    case QsReason::kFqsIdle:
      return "fqs_idle";
  }
  return "?";
}
std::string vcpu_list(const std::set<int>& cpus) {
  std::string s;
  for (int c : cpus) s += (s.empty() ? "vCPU" : ", vCPU") + std::to_string(c);
  return s;
}
}  // namespace

RcuMonitor::RcuMonitor(cpu::Machine& machine, const RcuParams& params)
    : machine_(machine),
      params_(params),
      component_(machine.kernel().components().add("rcu", "rcu")),
      reported_at_(static_cast<std::size_t>(machine.vcpu_count()), 0) {
  machine.declare_metrics(metrics_);
}

void RcuMonitor::reader_begin(int cpu, const std::string& task, sim::Tick now) {
  readers_[task] = Reader{task, cpu, now};
  machine_.kernel().recorder().note(now, component_, "rcu.read.begin", cpu);
}

void RcuMonitor::reader_end(int cpu, const std::string& task, sim::Tick now) {
  readers_.erase(task);
  machine_.kernel().recorder().note(now, component_, "rcu.read.end", cpu);
}

void RcuMonitor::gp_start(std::uint64_t gp, sim::Tick now, int cpus) {
  in_gp_ = true;
  gp_ = gp;
  gp_start_ = now;
  pending_cpus_.clear();
  for (int c = 0; c < cpus; ++c) pending_cpus_.insert(c);
  last_cpu_ = -1;
  machine_.kernel().recorder().record(now, component_, "rcu.gp.start",
                                      static_cast<std::int64_t>(gp), params_.gp_cpu.value);
  stall_timer_ = machine_.kernel().at(now + params_.stall_timeout.value, sim::Phase::kCheck,
                                      component_, [this, gp] { stall_check(gp); });
}

void RcuMonitor::qs(int cpu, QsReason why, sim::Tick now) {
  if (!in_gp_ || !pending_cpus_.erase(cpu)) return;
  ++qs_counts_[why];
  reported_at_[static_cast<std::size_t>(cpu)] = now;
  last_cpu_ = cpu;
  machine_.kernel().recorder().record(now, component_, "rcu.qs", cpu, static_cast<int>(why));
}

void RcuMonitor::gp_end(sim::Tick now) {
  machine_.kernel().cancel(stall_timer_);
  in_gp_ = false;
  ++metrics_.grace_periods;
  const sim::Tick d = now - gp_start_;
  metrics_.gp_ns.add(d / sim::kNanosecond);
  machine_.kernel().recorder().record(now, component_, "rcu.gp.end", static_cast<std::int64_t>(gp_),
                                      last_cpu_);
  // The CPUs that had not reported a quiescent state `long_gp` into it held it.
  sim::Json held = sim::Json::array();
  if (d > params_.long_gp.value)
    for (int c = 0; c < static_cast<int>(reported_at_.size()); ++c)
      if (reported_at_[static_cast<std::size_t>(c)] > gp_start_ + params_.long_gp.value) {
        held.push_back(c);
        ++held_by_[c];
      }
  const sim::Json record = {{"gp", gp_},
                            {"start_ns", sim::to_ns(gp_start_)},
                            {"duration_ns", sim::to_ns(d)},
                            {"last_cpu", last_cpu_},
                            {"held_by", held}};
  if (d > params_.long_gp.value && long_gps_.size() < 100) long_gps_.push_back(record);
  if (d > longest_ns_) {
    longest_ns_ = d;
    longest_ = record;
  }
  if (!report_spans_) return;
  for (const auto& [task, r] : readers_) {
    if (r.since >= gp_start_) continue;
    sim::Violation v;
    v.check = kSpansGp;
    v.time = now;
    v.cpus = {r.cpu};
    v.message = "grace period " + std::to_string(gp_) + " (" + sim::format_time(gp_start_) +
                " to " + sim::format_time(now) + ") ended while task " + task + " on vCPU" +
                std::to_string(r.cpu) + " was still inside the read-side section it began at " +
                sim::format_time(r.since);
    v.details = {{"gp", gp_},
                 {"gp_start_ns", sim::to_ns(gp_start_)},
                 {"task", task},
                 {"vcpu", r.cpu},
                 {"reader_since_ns", sim::to_ns(r.since)}};
    machine_.violations().report(std::move(v));
  }
}

// The stall warning (kernel/rcu/tree_stall.h): the CPUs the grace period still waits for, and
// whether the host has each of them off its pCPU right now.
void RcuMonitor::stall_check(std::uint64_t gp) {
  stall_timer_ = sim::EventKey{};
  if (!in_gp_ || gp != gp_) return;
  ++metrics_.stalls;
  if (!report_stall_) return;
  const sim::Tick now = machine_.kernel().now();
  sim::Violation v;
  v.check = kStall;
  v.time = now;
  sim::Json waits = sim::Json::array();
  for (int c : pending_cpus_) {
    v.cpus.push_back(c);
    const bool preempted = machine_.vcpu(c).state() == cpu::ThreadState::kRunnable;
    waits.push_back({{"vcpu", c}, {"host_preempted", preempted}});
  }
  v.message = "grace period " + std::to_string(gp) + " started at " +
              sim::format_time(gp_start_) + " has lasted " +
              sim::format_time(now - gp_start_) + "; it waits for " + vcpu_list(pending_cpus_);
  // Every CPU reported and still no end: nothing in the guest holds it, so the model lost the
  // grace-period kthread's wake-up (or its fqs timer). Said as what it is, never as a stall.
  const bool nobody = pending_cpus_.empty();
  if (nobody)
    v.message = "grace period " + std::to_string(gp) + " started at " +
                sim::format_time(gp_start_) + " has lasted " +
                sim::format_time(now - gp_start_) +
                " although every vCPU reported its quiescent state (the last, vCPU" +
                std::to_string(last_cpu_) + ", at " +
                sim::format_time(reported_at_[static_cast<std::size_t>(last_cpu_)]) +
                "): it waits for nobody, a model error (the grace-period kthread was not woken or "
                "never ran)";
  v.details = {{"gp", gp},
               {"gp_start_ns", sim::to_ns(gp_start_)},
               {"timeout_ns", sim::to_ns(params_.stall_timeout.value)},
               {"waiting_for", waits}};
  if (nobody) v.details["model_error"] = true;
  machine_.violations().report(std::move(v));
}

void RcuMonitor::collect_metrics(sim::Metrics& out, sim::Tick duration) const {
  metrics_.collect(out);
  const auto gps = metrics_.grace_periods.value();
  out.set(
      metrics_.grace_periods_per_sec,
      duration > 0 ? static_cast<double>(gps) * sim::kSecond / static_cast<double>(duration) : 0.0);
  for (const auto& [why, n] : qs_counts_) out.set(metrics_.qs, {reason_name(why)}, n);
  for (int c = 0; c < machine_.vcpu_count(); ++c)
    out.set(metrics_.long_gps_held_by, {std::to_string(c)}, held_by_.count(c) ? held_by_.at(c) : 0);
  out.set(metrics_.long_gps, long_gps_);
  if (longest_ns_ >= 0) out.set(metrics_.longest_gp, longest_);
}

}  // namespace vcpusim::guest
