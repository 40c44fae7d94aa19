#include "guest/sched.hpp"

#include <algorithm>

#include "sim/error.hpp"

namespace vcpusim::guest {

GuestScheduler::GuestScheduler(cpu::Machine& machine, sim::Tick haltpoll)
    : machine_(machine), haltpoll_(haltpoll), rqs_(static_cast<std::size_t>(machine.vcpu_count())) {
  machine.declare_metrics(metrics_);
  cpu::Memory& mem = machine.memory();
  for (int v = 0; v < machine.vcpu_count(); ++v) {
    RunQueue& q = rq(v);
    const std::string p = "rq.vcpu" + std::to_string(v);
    const int line = mem.new_line();
    q.nr_running = &mem.word(p + ".nr_running", line);
    q.polling = &mem.word(p + ".polling", line);
    q.idle = std::make_unique<Task>(Task{"idle" + std::to_string(v), v, 0, Task::State::kRunning});
    q.curr = q.idle.get();
    machine.vcpu(v).set_main([this](cpu::GuestCpu& cpu) { idle_loop(cpu); });
    // scheduler_ipi(): nothing to do but return; the idle loop or cond_resched looks at the queue.
    machine.vcpu(v).set_handler(cpu::Vector::kResched, [](cpu::GuestCpu&) {});
  }
}

Task& GuestScheduler::spawn(int vcpu, std::string name, std::function<void(cpu::GuestCpu&)> body) {
  tasks_.push_back(std::make_unique<Task>());
  Task* t = tasks_.back().get();
  t->name = name;
  t->vcpu = vcpu;
  t->context = machine_.vcpu(vcpu).add_context(name, [this, t, body](cpu::GuestCpu& cpu) {
    body(cpu);
    t->state = Task::State::kDead;  // do_exit(): never runs again
    for (;;) schedule(cpu);
  });
  RunQueue& q = rq(vcpu);
  q.queue.push_back(t);
  machine_.memory().preset(*q.nr_running, q.queue.size());
  return *t;
}

// __schedule(): put the previous task back if it is still runnable, take the first queued one
// (or the idle task) under the run queue's atomic, pay the switch, run the hooks.
void GuestScheduler::schedule(cpu::GuestCpu& cpu) {
  for (const Hook& h : switch_hooks_) h(cpu);
  RunQueue& q = rq(cpu.id());
  Task* prev = q.curr;
  Task* next = nullptr;
  cpu.rmw(*q.nr_running, [&](std::uint64_t) {
    if (prev->state == Task::State::kRunning) prev->state = Task::State::kRunnable;
    if (prev->state == Task::State::kRunnable && prev != q.idle.get()) q.queue.push_back(prev);
    if (prev->state == Task::State::kSleeping) prev->on_rq = false;  // deactivate_task()
    if (!q.queue.empty()) {
      next = q.queue.front();
      q.queue.pop_front();
    }
    return q.queue.size();
  });
  if (!next) next = q.idle.get();
  next->state = Task::State::kRunning;
  if (next == prev) return;
  ++metrics_.context_switches;
  cpu.compute(machine_.costs().context_switch.value);
  cpu.trace("task.switch", prev->context, next->context);
  q.curr = next;
  cpu.switch_to(next->context);
}

bool GuestScheduler::wake_up(cpu::GuestCpu& cpu, Task& task) {
  if (task.state != Task::State::kSleeping) return false;
  RunQueue& q = rq(task.vcpu);
  // Still on its CPU and not yet taken off it by schedule() (between deciding to sleep and
  // __schedule's deactivate_task): it only has to keep running. Once schedule() took it off, it
  // is queued like any sleeper, even while its CPU is still finishing the switch away from it
  // (the kernel's waker waits for on_cpu to clear, then enqueues).
  if (q.curr == &task && task.on_rq) {
    task.state = Task::State::kRunning;
    return true;
  }
  cpu.rmw(*q.nr_running, [&](std::uint64_t) {
    task.state = Task::State::kRunnable;
    task.on_rq = true;
    q.queue.push_back(&task);
    return q.queue.size();
  });
  // resched_curr(): a remote vCPU is told by IPI, unless its idle task polls the run queue.
  if (task.vcpu != cpu.id()) {
    if (cpu.load(*q.polling) != 0) {
      ++ipis_skipped_;
    } else {
      ++metrics_.resched_ipis;
      cpu.send_resched(task.vcpu);
    }
  }
  return true;
}

bool GuestScheduler::cond_resched_words(int vcpu, std::vector<const cpu::Word*>& words) {
  if (!resched_hooks_.empty()) return false;
  words.push_back(rq(vcpu).nr_running);
  return true;
}

void GuestScheduler::cond_resched(cpu::GuestCpu& cpu) {
  for (const Hook& h : resched_hooks_) h(cpu);
  if (cpu.load(*rq(cpu.id()).nr_running) != 0) schedule(cpu);
}

void GuestScheduler::sleep_for(cpu::GuestCpu& cpu, sim::Tick d) {
  RunQueue& q = rq(cpu.id());
  Task* me = q.curr;
  if (me == q.idle.get()) throw sim::SimError("the idle task may not sleep");
  me->state = Task::State::kSleeping;
  me->wake_at = cpu.now() + d;
  q.sleepers.push_back(me);
  arm_next_timer(cpu);
  schedule(cpu);
}

bool GuestScheduler::wait_event(cpu::GuestCpu& cpu, const std::function<bool()>& cond,
                                sim::Tick timeout) {
  RunQueue& q = rq(cpu.id());
  Task* me = q.curr;
  if (me == q.idle.get()) throw sim::SimError("the idle task may not sleep");
  const sim::Tick deadline = timeout == sim::kForever ? sim::kForever : cpu.now() + timeout;
  for (;;) {
    me->state = Task::State::kSleeping;
    if (cond()) {
      me->state = Task::State::kRunning;
      return true;
    }
    if (cpu.now() >= deadline) {
      me->state = Task::State::kRunning;
      return false;
    }
    if (deadline != sim::kForever) {
      me->wake_at = deadline;
      q.sleepers.push_back(me);
      arm_next_timer(cpu);
    }
    schedule(cpu);
    q.sleepers.erase(std::remove(q.sleepers.begin(), q.sleepers.end(), me), q.sleepers.end());
    me->wake_at = sim::kForever;
  }
}

void GuestScheduler::arm_next_timer(cpu::GuestCpu& cpu) {
  RunQueue& q = rq(cpu.id());
  sim::Tick next = sim::kForever;
  for (const Task* t : q.sleepers) next = std::min(next, t->wake_at);
  if (next != sim::kForever) cpu.arm_timer(next);
}

void GuestScheduler::expire_timers(cpu::GuestCpu& cpu) {
  RunQueue& q = rq(cpu.id());
  std::vector<Task*> due;
  for (Task* t : q.sleepers)
    if (t->wake_at <= cpu.now()) due.push_back(t);
  if (due.empty()) return;
  q.sleepers.erase(std::remove_if(q.sleepers.begin(), q.sleepers.end(),
                                  [&](Task* t) { return t->wake_at <= cpu.now(); }),
                   q.sleepers.end());
  for (Task* t : due) {
    t->wake_at = sim::kForever;
    wake_up(cpu, *t);
  }
  arm_next_timer(cpu);
}

// do_idle(): run queued tasks; otherwise the idle hooks, optionally poll the run queue for
// `haltpoll`, then HLT until an interrupt.
void GuestScheduler::idle_loop(cpu::GuestCpu& cpu) {
  RunQueue& q = rq(cpu.id());
  for (;;) {
    if (cpu.load(*q.nr_running) != 0) {
      schedule(cpu);
      continue;
    }
    for (const Hook& h : idle_hooks_) h(cpu);
    // A hook may have woken a task here (an RCU callback's complete()): run it, never halt on it.
    if (!idle_hooks_.empty() && cpu.load(*q.nr_running) != 0) continue;
    if (haltpoll_ > 0) {
      cpu.store(*q.polling, 1);
      cpu::WaitSpec poll = cpu::WaitSpec::spin();
      poll.budget = haltpoll_;
      poll.ends_on_interrupt = true;
      const cpu::WakeReason why = cpu.wait([&] { return cpu.load(*q.nr_running) != 0; }, poll);
      cpu.store(*q.polling, 0);
      if (why != cpu::WakeReason::kBudget) continue;
      // A waker that still saw the flag sent no IPI: look again before halting, as
      // current_clr_polling() (include/linux/sched/idle.h, v6.6: clear, smp_mb) is followed by
      // do_idle's need_resched() check (kernel/sched/idle.c).
      cpu.smp_mb();
      if (cpu.load(*q.nr_running) != 0) continue;
    }
    cpu.halt();
  }
}

void RawSpinlock::lock(cpu::GuestCpu& cpu) {
  while (cpu.cmpxchg(word_, 0, 1) != 0) cpu.spin_until([&] { return cpu.load(word_) == 0; });
}

Completion::Completion(cpu::Machine& machine, GuestScheduler& sched, const std::string& name)
    : sched_(sched),
      done_(machine.memory().word(name + ".done")),
      lock_(machine.memory().word(name + ".wait.lock", done_.line)) {}

void Completion::wait(cpu::GuestCpu& cpu) {
  const bool flags = cpu.local_irq_save();
  lock_.lock(cpu);
  while (cpu.load(done_) == 0) {
    Task& me = sched_.current(cpu.id());
    me.state = Task::State::kSleeping;
    waiters_.push_back(&me);
    lock_.unlock(cpu);
    cpu.local_irq_restore(flags);
    sched_.schedule(cpu);
    cpu.local_irq_save();
    lock_.lock(cpu);
  }
  cpu.store(done_, cpu.load(done_) - 1);
  lock_.unlock(cpu);
  cpu.local_irq_restore(flags);
}

void Completion::complete(cpu::GuestCpu& cpu) {
  const bool flags = cpu.local_irq_save();
  lock_.lock(cpu);
  cpu.store(done_, cpu.load(done_) + 1);
  if (!waiters_.empty()) {
    Task* t = waiters_.front();
    waiters_.pop_front();
    sched_.wake_up(cpu, *t);
  }
  lock_.unlock(cpu);
  cpu.local_irq_restore(flags);
}

}  // namespace vcpusim::guest
