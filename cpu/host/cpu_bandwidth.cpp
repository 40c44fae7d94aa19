#include "cpu/host/cpu_bandwidth.hpp"

namespace vcpusim::cpu {

CpuBandwidth::CpuBandwidth(const CpuMaxParams& params, std::vector<HostThread*> threads,
                           sim::Kernel& kernel, HostScheduler& scheduler, int component)
    : quota_(params.quota.value),
      period_(params.period.value),
      threads_(std::move(threads)),
      kernel_(kernel),
      scheduler_(scheduler),
      component_(component),
      remaining_(quota_),
      thread_throttled_since_(threads_.size(), -1),
      thread_throttled_time_(threads_.size(), 0),
      thread_throttles_(threads_.size(), 0) {
  scheduler.set_run_observer([this](HostThread& t, bool running) { on_run(t, running); });
}

void CpuBandwidth::start() {
  // sched_cfs_period_timer: one refill per period from the start of the run.
  kernel_.at(period_, sim::Phase::kHost, component_, [this] { refill(); });
}

void CpuBandwidth::charge() {
  // account_cfs_rq_runtime: every running vCPU thread draws from the one pool.
  const Tick now = kernel_.now();
  remaining_ -= static_cast<Tick>(running_) * (now - charged_at_);
  charged_at_ = now;
}

void CpuBandwidth::on_run(HostThread& t, bool running) {
  if (t.kind() != HostThread::Kind::kVcpu) return;  // the one VM's vCPU threads are all vCPUs
  charge();
  running_ += running ? 1 : -1;
  arm_exhaustion();
}

void CpuBandwidth::arm_exhaustion() {
  kernel_.cancel(exhaustion_);
  if (throttled_ || running_ == 0) return;
  // The pool runs dry when the running threads have used it up between them; rounding down, so
  // a period never runs over the quota (what is left below one tick per thread is lost).
  const Tick left = remaining_ / running_;
  exhaustion_ = kernel_.at(kernel_.now() + left, sim::Phase::kHost, component_, [this] {
    exhaustion_ = sim::EventKey{};
    exhausted();
  });
}

void CpuBandwidth::exhausted() {
  charge();
  if (running_ > 0 && remaining_ / running_ > 0) {  // cannot happen: re-armed on every change
    arm_exhaustion();
    return;
  }
  // throttle_cfs_rq on every CPU the VM runs on: its threads leave their pCPUs and run queues.
  throttled_ = true;
  throttled_since_ = kernel_.now();
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    if (threads_[i]->state() != ThreadState::kSleeping) {
      thread_throttled_since_[i] = kernel_.now();
      ++thread_throttles_[i];
    }
    scheduler_.throttle(*threads_[i]);
  }
}

void CpuBandwidth::refill() {
  // do_sched_cfs_period_timer: count the period (and whether it ended throttled), refill the
  // pool to the quota (__refill_cfs_bandwidth_runtime, no burst), and distribute_cfs_runtime
  // unthrottles the throttled threads.
  const Tick now = kernel_.now();
  charge();
  ++periods_;
  remaining_ = quota_;
  if (throttled_) {
    ++throttled_periods_;
    throttled_time_ += now - throttled_since_;
    throttled_ = false;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (thread_throttled_since_[i] >= 0) {
        thread_throttled_time_[i] += now - thread_throttled_since_[i];
        thread_throttled_since_[i] = -1;
      }
      scheduler_.unthrottle(*threads_[i]);
    }
  }
  arm_exhaustion();
  kernel_.at(now + period_, sim::Phase::kHost, component_, [this] { refill(); });
}

void CpuBandwidth::collect_metrics(sim::Metrics& metrics) {
  const Tick now = kernel_.now();
  Tick throttled = throttled_time_;
  if (throttled_) throttled += now - throttled_since_;
  metrics.set(metrics_.periods, periods_);
  metrics.set(metrics_.throttled_periods, throttled_periods_);
  metrics.set(metrics_.throttled_ns, static_cast<std::int64_t>(throttled / sim::kNanosecond));
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    Tick t = thread_throttled_time_[i];
    if (thread_throttled_since_[i] >= 0) t += now - thread_throttled_since_[i];
    const std::string v = std::to_string(i);
    metrics.set(metrics_.vcpu_throttled_ns, {v}, static_cast<std::int64_t>(t / sim::kNanosecond));
    metrics.set(metrics_.vcpu_throttles, {v}, thread_throttles_[i]);
  }
}

}  // namespace vcpusim::cpu
