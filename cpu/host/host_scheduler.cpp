#include "cpu/host/host_scheduler.hpp"

#include <algorithm>
#include <cstdint>

#include "sim/error.hpp"

namespace vcpusim::cpu {

HostScheduler::HostScheduler(sim::Kernel& kernel, const SchedulerParams& params,
                             const Topology& topology)
    : kernel_(kernel),
      policy_(make_policy(params, topology.pcpus)),
      pcpus_(static_cast<std::size_t>(topology.pcpus)) {
  // pCPUs register first: at equal time and phase their events order before the threads'.
  for (int p = 0; p < topology.pcpus; ++p)
    pcpus_[static_cast<std::size_t>(p)].component =
        kernel.components().add("pcpu" + std::to_string(p), "pcpu", p);
  if (params.balance.value && params.policy.value == SchedulerKind::kFair)
    balancer_ = std::make_unique<LoadBalancer>(*this, topology, params.migration_cost.value);
}

HostScheduler::~HostScheduler() = default;

void HostScheduler::start() {
  if (balancer_) balancer_->start();
}

int HostScheduler::nr_running(int pcpu) const {
  return (current(pcpu) || stolen(pcpu) ? 1 : 0) + static_cast<int>(policy_->queued(pcpu));
}

std::int64_t HostScheduler::load(int pcpu) const {
  std::int64_t sum = 0;
  // A throttled group's load leaves its parent run queue (throttle_cfs_rq).
  for (const HostThread* t : threads_)
    if (t->state_ != ThreadState::kSleeping && !t->throttled_ && t->pcpu_ == pcpu)
      sum += t->weight();
  return sum;
}

std::vector<HostThread*> HostScheduler::queued_threads(int pcpu) const {
  std::vector<HostThread*> out;
  // Throttled threads are on no run queue: can_migrate_task refuses them (throttled_lb_pair).
  for (HostThread* t : threads_)
    if (t->state_ == ThreadState::kRunnable && !t->throttled_ && t->pcpu_ == pcpu)
      out.push_back(t);
  return out;
}

// detach_task + attach_task (fair.c): the vruntime is carried relative to min_vruntime, and the
// arrival is checked for wake-up preemption there (check_preempt_curr).
void HostScheduler::migrate_queued(HostThread& t, int from, int to) {
  settle_pcpu(from);
  settle_pcpu(to);
  policy_->dequeue(from, t);
  policy_->migrate(t, from, to);
  t.pcpu_ = to;
  ++t.migrations_;
  ++migrations_;
  record(to, "migrate", &t);
  policy_->enqueue(to, t, false);
  arm_slice(from);
  HostThread* curr = current(to);
  if (!curr) {
    schedule_next(to);
  } else if (policy_->preempt_on_wake(to, *curr, t)) {
    policy_->dequeue(to, t);
    deschedule_current(to);
    policy_->enqueue(to, *curr, false);
    dispatch(to, t);
  } else {
    arm_slice(to);
  }
}

void HostScheduler::add(HostThread& t) {
  threads_.push_back(&t);
  t.component_ = kernel_.components().add(
      t.name(), t.kind() == HostThread::Kind::kVcpu ? "vcpu" : "load", t.id());
}

void HostScheduler::record(int pcpu, const char* what, const HostThread* t) {
  kernel_.recorder().record(kernel_.now(), pcpus_[static_cast<std::size_t>(pcpu)].component, what,
                            t ? t->id() : -1);
}

void HostScheduler::set_decisions(sim::DecisionSource* d) {
  decisions_ = d;
  policy_->set_tie_break([this](int pcpu, std::int64_t n) {
    return decisions_
               ? decisions_->nominal(
                     kernel_.now(), pcpus_[static_cast<std::size_t>(pcpu)].component, "pick.tie", n)
               : 0;
  });
}

void HostScheduler::steal(int pcpu, Tick until) {
  Pcpu& p = pcpus_[static_cast<std::size_t>(pcpu)];
  settle_pcpu(pcpu);
  if (until <= kernel_.now() || until <= p.stolen_until) return;
  p.stolen_until = until;
  if (HostThread* prev = p.current) {
    deschedule_current(pcpu);
    policy_->enqueue(pcpu, *prev, false);
  }
  record(pcpu, "steal", nullptr);
  kernel_.cancel(p.slice_event);
  kernel_.at(until, sim::Phase::kHost, p.component, [this, pcpu] {
    if (stolen(pcpu)) return;  // a later steal extended it
    record(pcpu, "steal_end", nullptr);
    schedule_next(pcpu);
  });
}

int HostScheduler::select_pcpu(const HostThread& t, int waker) {
  if (balancer_) return balancer_->select_rq(t, waker);
  // Without balancing: previous pCPU if idle, else the lowest idle allowed pCPU, else the previous one if allowed,
  // else the allowed pCPU with the shortest queue (lowest number on ties).
  auto allowed = [&](int c) {
    for (int a : t.affinity())
      if (a == c) return true;
    return false;
  };
  if (t.pcpu_ >= 0 && allowed(t.pcpu_) && idle(t.pcpu_)) return t.pcpu_;
  std::vector<int> idle_pcpus;
  for (int c : t.affinity())
    if (idle(c)) idle_pcpus.push_back(c);
  if (!idle_pcpus.empty()) {
    // Any idle pCPU would do: the lowest one by default, a decision when explored.
    const std::int64_t k = decisions_
                               ? decisions_->nominal(kernel_.now(), t.component(), "wake.pcpu",
                                                     static_cast<std::int64_t>(idle_pcpus.size()))
                               : 0;
    return idle_pcpus[static_cast<std::size_t>(k)];
  }
  if (t.pcpu_ >= 0 && allowed(t.pcpu_)) return t.pcpu_;
  int best = t.affinity().front();
  for (int c : t.affinity())
    if (policy_->queued(c) < policy_->queued(best) ||
        (policy_->queued(c) == policy_->queued(best) && c < best))
      best = c;
  return best;
}

void HostScheduler::settle(HostThread& t) {
  if (t.state_ != ThreadState::kRunning) return;
  const Tick elapsed = kernel_.now() - t.segment_start_;
  if (elapsed == 0) return;
  t.run_time_ += elapsed;
  if (t.guest_user_) t.guest_user_time_ += elapsed;
  // A vCPU running ahead inline (Kernel::try_advance) has no work armed: never below zero.
  if (t.work_left_ != sim::kForever) t.work_left_ = std::max<Tick>(0, t.work_left_ - elapsed);
  pcpus_[static_cast<std::size_t>(t.pcpu_)].busy[static_cast<int>(t.kind())] += elapsed;
  policy_->account(t.pcpu_, t, elapsed);
  t.segment_start_ = kernel_.now();
  t.last_ran_ = kernel_.now();
}

void HostScheduler::arm_work(HostThread& t) {
  kernel_.cancel(t.work_event_);
  if (t.state_ != ThreadState::kRunning || t.work_left_ == sim::kForever) return;
  // The hottest event of a busy host: a plain call, the thread's address its argument.
  t.work_event_ = kernel_.at(
      kernel_.now() + t.work_left_, sim::Phase::kWork, t.component(),
      sim::EventCall::member<&HostScheduler::work_done>(
          this, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&t))),
      t.transparent_work() ? sim::Kernel::Lane::kTransparent : sim::Kernel::Lane::kBarrier);
}

void HostScheduler::make_work_barrier(HostThread& t) {
  kernel_.make_barrier(t.work_event_);
}

void HostScheduler::work_done(std::uint64_t thread) {
  HostThread& t = *reinterpret_cast<HostThread*>(static_cast<std::uintptr_t>(thread));
  t.work_event_ = sim::EventKey{};
  settle(t);
  t.work_left_ = 0;
  t.on_work_done();
}

void HostScheduler::arm_slice(int pcpu) {
  Pcpu& p = pcpus_[static_cast<std::size_t>(pcpu)];
  kernel_.cancel(p.slice_event);
  if (!p.current || policy_->queued(pcpu) == 0) return;
  const Tick end =
      std::max(p.current->slice_start_ + policy_->slice(pcpu, *p.current), kernel_.now());
  p.slice_event = kernel_.at(end, sim::Phase::kHost, p.component,
                             sim::EventCall::member<&HostScheduler::slice_event_fired>(
                                 this, static_cast<std::uint64_t>(pcpu)));
}

void HostScheduler::slice_event_fired(std::uint64_t pcpu) {
  pcpus_[pcpu].slice_event = sim::EventKey{};
  slice_expired(static_cast<int>(pcpu));
}

void HostScheduler::slice_expired(int pcpu) {
  Pcpu& p = pcpus_[static_cast<std::size_t>(pcpu)];
  HostThread& curr = *p.current;
  settle(curr);
  policy_->enqueue(pcpu, curr, false);
  HostThread* next = policy_->pick_next(pcpu);
  if (next == &curr) {
    curr.slice_start_ = kernel_.now();
    arm_slice(pcpu);
    return;
  }
  policy_->dequeue(pcpu, curr);
  deschedule_current(pcpu);
  policy_->enqueue(pcpu, curr, false);
  dispatch(pcpu, *next);
}

void HostScheduler::deschedule_current(int pcpu) {
  Pcpu& p = pcpus_[static_cast<std::size_t>(pcpu)];
  HostThread& t = *p.current;
  settle(t);
  kernel_.cancel(t.work_event_);
  t.state_ = ThreadState::kRunnable;
  t.segment_start_ = kernel_.now();
  p.current = nullptr;
  record(pcpu, "deschedule", &t);
  if (run_observer_) run_observer_(t, false);
  t.on_deschedule();
}

void HostScheduler::dispatch(int pcpu, HostThread& next) {
  Pcpu& p = pcpus_[static_cast<std::size_t>(pcpu)];
  if (next.state_ == ThreadState::kRunnable) next.wait_time_ += kernel_.now() - next.segment_start_;
  next.state_ = ThreadState::kRunning;
  next.pcpu_ = pcpu;
  next.segment_start_ = kernel_.now();
  next.slice_start_ = kernel_.now();
  p.current = &next;
  ++switches_;
  record(pcpu, "dispatch", &next);
  if (run_observer_) run_observer_(next, true);
  arm_work(next);
  arm_slice(pcpu);
  next.on_dispatch();
}

void HostScheduler::schedule_next(int pcpu) {
  if (current(pcpu) || stolen(pcpu)) return;
  // pick_next_task_fair finds its run queue empty: newidle_balance before going idle.
  if (balancer_ && policy_->queued(pcpu) == 0) {
    balancer_->newidle(pcpu);
    if (current(pcpu)) return;  // the pulled thread was dispatched on arrival
  }
  if (HostThread* next = policy_->pick_next(pcpu)) dispatch(pcpu, *next);
}

void HostScheduler::settle_pcpu(int pcpu) {
  if (pcpu < 0) return;
  if (HostThread* curr = current(pcpu)) settle(*curr);
}

void HostScheduler::wake(HostThread& t, int waker) {
  if (t.state_ != ThreadState::kSleeping) return;
  // Sleeper credit and migration read min_vruntime, which the running threads' accounting moves.
  settle_pcpu(t.pcpu_);
  const int pcpu = select_pcpu(t, waker);
  settle_pcpu(pcpu);
  policy_->migrate(t, t.pcpu_, pcpu);
  t.pcpu_ = pcpu;
  t.state_ = ThreadState::kRunnable;
  t.segment_start_ = kernel_.now();
  record(pcpu, "wake", &t);
  if (t.throttled_) return;  // queued again by unthrottle()
  policy_->enqueue(pcpu, t, true);
  HostThread* curr = current(pcpu);
  if (!curr) {
    schedule_next(pcpu);
    return;
  }
  if (policy_->preempt_on_wake(pcpu, *curr, t)) {
    policy_->dequeue(pcpu, t);
    HostThread& prev = *curr;
    deschedule_current(pcpu);
    policy_->enqueue(pcpu, prev, false);
    dispatch(pcpu, t);
  } else {
    arm_slice(pcpu);
  }
}

void HostScheduler::sleep(HostThread& t) {
  if (t.state_ == ThreadState::kSleeping) return;
  const int pcpu = t.pcpu_;
  settle_pcpu(pcpu);
  if (t.state_ == ThreadState::kRunning) {
    settle(t);
    kernel_.cancel(t.work_event_);
    t.state_ = ThreadState::kSleeping;
    pcpus_[static_cast<std::size_t>(pcpu)].current = nullptr;
    kernel_.cancel(pcpus_[static_cast<std::size_t>(pcpu)].slice_event);
    record(pcpu, "sleep", &t);
    if (run_observer_) run_observer_(t, false);
    schedule_next(pcpu);
  } else {
    if (!t.throttled_) policy_->dequeue(pcpu, t);
    t.wait_time_ += kernel_.now() - t.segment_start_;
    t.state_ = ThreadState::kSleeping;
    record(pcpu, "sleep", &t);
    arm_slice(pcpu);
  }
}

void HostScheduler::set_work(HostThread& t, Tick work) {
  if (work < 0) throw sim::SimError(t.name() + ": negative work");
  settle(t);
  t.work_left_ = work;
  arm_work(t);
}

Tick HostScheduler::work_left(HostThread& t) {
  settle(t);
  return t.work_left_;
}

void HostScheduler::set_guest_user(HostThread& t, bool user) {
  settle(t);
  t.guest_user_ = user;
}

// kernel/sched/core.c yield_to (Linux 6.5): the -ESRCH test on both run queues comes first,
// then "target running or not runnable" (yielded 0), then fair.c yield_to_task_fair sets the
// next buddy; with a different run queue, resched_curr(p_rq); the yielder then calls schedule().
HostScheduler::YieldResult HostScheduler::yield_to(HostThread& curr, HostThread& target) {
  const int mine = curr.pcpu_;
  const int theirs = target.pcpu_;
  settle_pcpu(mine);
  settle_pcpu(theirs);
  if (theirs >= 0 && nr_running(mine) == 1 && nr_running(theirs) == 1) return kEsrch;
  if (target.state_ != ThreadState::kRunnable) return kNotYielded;
  // yield_to_task_fair: a target in a throttled hierarchy is not yielded to.
  if (target.throttled_) return kNotYielded;
  if (theirs == mine) {
    // The yielder is skipped and the buddy is next on this run queue.
    if (curr.state_ != ThreadState::kRunning) return kNotYielded;
    policy_->dequeue(mine, target);
    deschedule_current(mine);
    policy_->enqueue(mine, curr, false);
    dispatch(mine, target);
    return kYielded;
  }
  // resched_curr(p_rq): pick_next_entity takes the next buddy unless it is more than a wake-up
  // granularity behind the leftmost (the current thread included), which then keeps running.
  HostThread* other = current(theirs);
  if (!stolen(theirs) && (!other || policy_->prefers_buddy(theirs, other, target))) {
    policy_->dequeue(theirs, target);
    if (other) {
      deschedule_current(theirs);
      policy_->enqueue(theirs, *other, false);
    }
    dispatch(theirs, target);
  }
  yield(curr);
  return kYielded;
}

// yield_task_fair (skip buddy) then schedule(): another queued thread runs if there is one.
void HostScheduler::yield(HostThread& curr) {
  const int mine = curr.pcpu_;
  if (curr.state_ != ThreadState::kRunning || policy_->queued(mine) == 0) return;
  settle_pcpu(mine);
  HostThread* next = policy_->pick_next(mine);
  deschedule_current(mine);
  policy_->enqueue(mine, curr, false);
  dispatch(mine, *next);
}

void HostScheduler::settle_all() {
  for (HostThread* t : threads_) {
    settle(*t);
    if (t->state_ == ThreadState::kRunnable) {
      t->wait_time_ += kernel_.now() - t->segment_start_;
      t->segment_start_ = kernel_.now();
    }
  }
}

void HostScheduler::throttle(HostThread& t) {
  // kernel/sched/fair.c (6.5) throttle_cfs_rq: the group's entity leaves the run queue; its tasks
  // stay queued inside it, so they stay runnable for the scheduler's statistics.
  if (t.throttled_) return;
  t.throttled_ = true;
  if (t.state_ == ThreadState::kSleeping) return;
  const int pcpu = t.pcpu_;
  settle_pcpu(pcpu);
  const bool running = t.state_ == ThreadState::kRunning;
  if (running) deschedule_current(pcpu);
  else policy_->dequeue(pcpu, t);
  record(pcpu, "throttle", &t);
  if (running) {
    kernel_.cancel(pcpus_[static_cast<std::size_t>(pcpu)].slice_event);
    schedule_next(pcpu);
  } else {
    arm_slice(pcpu);
  }
}

void HostScheduler::unthrottle(HostThread& t) {
  // unthrottle_cfs_rq: the entity is enqueued again and may preempt the current task.
  if (!t.throttled_) return;
  t.throttled_ = false;
  if (t.state_ != ThreadState::kRunnable) return;
  const int pcpu = t.pcpu_;
  settle_pcpu(pcpu);
  record(pcpu, "unthrottle", &t);
  policy_->enqueue(pcpu, t, false);
  HostThread* curr = current(pcpu);
  if (!curr) {
    schedule_next(pcpu);
  } else if (policy_->preempt_on_wake(pcpu, *curr, t)) {
    policy_->dequeue(pcpu, t);
    deschedule_current(pcpu);
    policy_->enqueue(pcpu, *curr, false);
    dispatch(pcpu, t);
  } else {
    arm_slice(pcpu);
  }
}

Tick HostScheduler::busy_time(int pcpu, HostThread::Kind kind) const {
  return pcpus_[static_cast<std::size_t>(pcpu)].busy[static_cast<int>(kind)];
}

}  // namespace vcpusim::cpu
