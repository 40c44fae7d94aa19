// Guest tasks (guest/sched.hpp): several tasks per vCPU, a completion shared between them,
// schedule_timeout, and the reschedule IPI that wakes a halted vCPU.
#include <gtest/gtest.h>

#include "guest/sched.hpp"
#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;

namespace {
struct TaskRig {
  TaskRig(int pcpus, int vcpus, sim::Tick haltpoll = 0) : rig(pcpus, vcpus) {
    m = &rig.build();
    sched = std::make_unique<guest::GuestScheduler>(*m, haltpoll);
    for (int v = 0; v < vcpus; ++v)
      m->vcpu(v).set_handler(cpu::Vector::kTimer,
                             [this](cpu::GuestCpu& c) { sched->expire_timers(c); });
  }
  Rig rig;
  cpu::Machine* m = nullptr;
  std::unique_ptr<guest::GuestScheduler> sched;
};
}  // namespace

TEST(GuestTasks, TwoTasksOnOneVcpuShareACompletion) {
  TaskRig t(1, 1);
  guest::Completion done(*t.m, *t.sched, "done");
  sim::Tick completed = -1, resumed = -1;
  t.sched->spawn(0, "waiter", [&](cpu::GuestCpu& c) {
    done.wait(c);  // blocks: the other task runs
    resumed = c.now();
  });
  t.sched->spawn(0, "completer", [&](cpu::GuestCpu& c) {
    c.compute(100 * us);
    done.complete(c);
    completed = c.now();
  });
  t.rig.run(1 * ms);
  ASSERT_GT(completed, 100 * us);
  // The waiter runs again only when the completer finishes (non-preemptible kernel), after a
  // context switch, and then re-takes the completion's lock.
  EXPECT_GT(resumed, completed + t.rig.costs.context_switch.value);
  EXPECT_LT(resumed, completed + 5 * us);
  EXPECT_GE(t.sched->context_switches(), 3u);
}

TEST(GuestTasks, ASleepingTaskLetsTheOtherRun) {
  TaskRig t(1, 1);
  sim::Tick slept_from = -1, woke = -1;
  std::int64_t steps_during_sleep = 0;
  bool sleeping = false;
  t.sched->spawn(0, "sleeper", [&](cpu::GuestCpu& c) {
    slept_from = c.now();
    sleeping = true;
    t.sched->sleep_for(c, 1 * ms);
    sleeping = false;
    woke = c.now();
  });
  t.sched->spawn(0, "worker", [&](cpu::GuestCpu& c) {
    for (;;) {
      c.compute(10 * us);
      if (sleeping) ++steps_during_sleep;
      t.sched->cond_resched(c);
    }
  });
  t.rig.run(3 * ms);
  ASSERT_GT(woke, 0);
  // Woken by its timer interrupt, then it waits for the worker's next cond_resched (10 us steps).
  EXPECT_GE(woke, slept_from + 1 * ms);
  EXPECT_LT(woke, slept_from + 1 * ms + 15 * us);
  // The worker had the vCPU for the whole millisecond: ~100 steps of 10 us.
  EXPECT_GE(steps_during_sleep, 98);
  EXPECT_LE(steps_during_sleep, 101);
}

namespace {
// A task on vCPU1 waits for a completion that vCPU0 completes at 1 ms; vCPU1 is idle meanwhile.
struct RemoteWake {
  sim::Tick completed = -1, resumed = -1;
  std::uint64_t resched_ipis = 0, skipped = 0;
};
RemoteWake remote_wake(sim::Tick haltpoll) {
  TaskRig t(2, 2, haltpoll);
  guest::Completion done(*t.m, *t.sched, "done");
  RemoteWake out;
  t.sched->spawn(1, "waiter", [&](cpu::GuestCpu& c) {
    done.wait(c);
    out.resumed = c.now();
  });
  t.sched->spawn(0, "completer", [&](cpu::GuestCpu& c) {
    c.compute(haltpoll > 0 ? 10 * us : 1 * ms);
    done.complete(c);
    out.completed = c.now();
  });
  t.rig.run(3 * ms);
  out.resched_ipis = t.sched->resched_ipis();
  out.skipped = t.sched->ipis_skipped_polling();
  return out;
}
}  // namespace

TEST(GuestTasks, WakingATaskOnAHaltedVcpuCostsAnIpi) {
  const cpu::CostParams c;
  const RemoteWake r = remote_wake(0);
  EXPECT_EQ(r.resched_ipis, 1u);
  // The IPI's send (exit, handling), the host wake-up of the halted thread and its entry come
  // before the woken task can run.
  EXPECT_GT(r.resumed - r.completed, c.halt_wakeup.value + c.vm_entry.value);
  EXPECT_LT(r.resumed - r.completed, c.halt_wakeup.value + 5 * us);
  // An idle vCPU that polls its run queue (guest haltpoll) is woken without an IPI.
  const RemoteWake p = remote_wake(200 * us);
  EXPECT_EQ(p.resched_ipis, 0u);
  EXPECT_EQ(p.skipped, 1u);
  EXPECT_LT(p.resumed - p.completed, c.halt_wakeup.value);
}

namespace {
cpu::Word& named_word(cpu::Machine& m, const std::string& name) {
  for (const cpu::Word& w : m.memory().words())
    if (w.name == name) return const_cast<cpu::Word&>(w);
  throw std::runtime_error("no word " + name);
}
}  // namespace

// try_to_wake_up() against a task that schedule() already took off its CPU but whose CPU is still
// switching away from it (the context switch's cost): the wake-up must enqueue it. Setup: on
// vCPU1 a sleeper waits for `flag`, with another task to switch to; on vCPU0 a waker spins until
// vCPU1's run queue shrinks to 0 (schedule() has just dequeued the sleeper), sets the flag and
// wakes it. Invariant: the sleeper runs again. It was lost before the fix (issue 25: the RCU
// grace-period kthread slept for good this way).
TEST(GuestTasks, AWakeUpWhileTheSleeperIsStillSwitchingAwayIsNotLost) {
  TaskRig t(2, 2);
  cpu::Word& flag = t.m->memory().word("flag");
  cpu::Word& nr_running1 = named_word(*t.m, "rq.vcpu1.nr_running");
  sim::Tick woke = -1, woken_at = -1;
  bool in_window = false;
  guest::Task& sleeper = t.sched->spawn(1, "sleeper", [&](cpu::GuestCpu& c) {
    t.sched->wait_event(c, [&] { return c.load(flag) != 0; }, sim::kForever);
    woke = c.now();
  });
  t.sched->spawn(1, "other", [&](cpu::GuestCpu& c) {
    for (;;) {
      c.compute(10 * us);
      t.sched->cond_resched(c);
    }
  });
  t.sched->spawn(0, "waker", [&](cpu::GuestCpu& c) {
    c.spin_until([&] { return c.load(nr_running1) == 0; });
    // The premise: the sleeper is off its run queue but its vCPU has not switched away yet.
    in_window = &t.sched->current(1) == &sleeper && !sleeper.on_rq;
    c.store(flag, 1);
    woken_at = c.now();
    t.sched->wake_up(c, sleeper);
  });
  t.rig.run(1 * ms);
  ASSERT_TRUE(in_window) << "the wake-up did not land in the switch window";
  ASSERT_GT(woken_at, 0);
  // Queued behind `other`, it runs at other's next cond_resched (10 us steps).
  EXPECT_GT(woke, woken_at);
  EXPECT_LT(woke, woken_at + 25 * us);
}
