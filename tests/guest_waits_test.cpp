// Every guest wait that checks a condition and then sleeps (guest/README.md, "Waits"), with the
// waker's wake-up placed between the check and the sleep. A probe run without the waker finds
// the sleeper's last read of its condition and the shared-memory accesses it makes from there
// until it is off its CPU (the window); then, for each access of the window, a run whose host
// preempts the sleeper's vCPU as it starts that access (explore's access-placed injection) and
// whose waker acts in the middle of the preemption. Each run proves its premise (the wake-up came
// after the check, before the sleeper's next step, with the sleeper still deciding to sleep) and
// asserts the sleeper resumes within a bound from the model's costs, far below its fallback
// (none, or a poll interval or fqs scan it would otherwise wait for).
#include <gtest/gtest.h>

#include <algorithm>

#include "guest/rcu.hpp"
#include "guest/sched.hpp"
#include "guest/srcu.hpp"
#include "rig.hpp"

using namespace vcpusim;
using vcpusim::test::Rig;
constexpr sim::Tick us = sim::kMicrosecond;
constexpr sim::Tick ms = sim::kMillisecond;
constexpr sim::Tick kPreempt = 50 * us;  // the host keeps the sleeper's pCPU this long

namespace {
struct Access {
  int vcpu;
  std::string word;
  bool write;
  sim::Tick at;
  std::uint64_t n;  // the vCPU's n-th shared-memory access, as injections count them
};
struct Mark {
  std::string what;
  sim::Tick at;
  bool flag;
};

// One run: a machine with the guest scheduler, every shared-memory access logged (the machine's
// access observer, never part of the model) and marks the bodies add.
struct WaitRun {
  explicit WaitRun(int vcpus, sim::Tick haltpoll = 0) : rig(vcpus, vcpus) {
    m = &rig.build();
    sched = std::make_unique<guest::GuestScheduler>(*m, haltpoll);
    for (int v = 0; v < vcpus; ++v)
      m->vcpu(v).set_handler(cpu::Vector::kTimer,
                             [this](cpu::GuestCpu& c) { sched->expire_timers(c); });
    m->set_observer(&logger);
  }
  // Runs with more state (RcuRun) are owned through a WaitRun pointer.
  virtual ~WaitRun() = default;
  void mark(cpu::GuestCpu& c, const std::string& what, bool flag = true) {
    marks.push_back({what, c.now(), flag});
  }
  const Mark* find(const std::string& what) const {
    for (const Mark& k : marks)
      if (k.what == what) return &k;
    return nullptr;
  }
  const Access* access(int vcpu, std::uint64_t n) const {
    for (const Access& a : log)
      if (a.vcpu == vcpu && a.n == n) return &a;
    return nullptr;
  }
  cpu::Word& word(const std::string& name) {
    for (const cpu::Word& w : m->memory().words())
      if (w.name == name) return const_cast<cpu::Word&>(w);
    throw std::runtime_error("no word " + name);
  }
  // The sleeper is still on its CPU, has decided to sleep, and schedule() has not taken it off.
  bool deciding(int vcpu, const std::string& task) {
    guest::Task& t = sched->current(vcpu);
    return t.name == task && t.state == guest::Task::State::kSleeping && t.on_rq;
  }
  Rig rig;
  cpu::Machine* m = nullptr;
  std::unique_ptr<guest::GuestScheduler> sched;
  std::vector<Access> log;
  std::vector<Mark> marks;

 private:
  // Logs every shared-memory access with its time and the vCPU's access count.
  struct Logger final : cpu::RunObserver {
    explicit Logger(WaitRun& r) : run(r) {}
    void access(int v, const cpu::Word& w, bool write) override {
      run.log.push_back({v, w.name, write, run.m->kernel().now(), run.m->vcpu(v).accesses()});
    }
    void window(int, const cpu::WindowSite&, const cpu::Word*, bool, sim::Tick) override {}
    void preempted(int) override {}
    WaitRun& run;
  };
  Logger logger{*this};
};

// Computes until `t` (sim::kForever: for good), then returns.
void until(cpu::GuestCpu& c, sim::Tick t) {
  while (c.now() < t) c.compute(std::min<sim::Tick>(t - c.now(), 1 * ms));
}

using AccessPred = std::function<bool(const Access&)>;
struct WaitCase {
  int sleeper = 1;  // the sleeper's vCPU
  AccessPred is_check;  // a read of the condition
  AccessPred ends;      // the access after which it is off its CPU; null: its last in the probe
  // When set, the check is the first condition read after the sleeper's last such access (the
  // wait's own read, before anything it calls on the way to sleep reads the same word).
  AccessPred starts;
  // Builds the run; the waker marks "wake" (with whether the sleeper was deciding) at `wake_at`,
  // then wakes it; the sleeper marks "resumed" when its wait returns.
  std::function<std::unique_ptr<WaitRun>(sim::Tick wake_at)> setup;
  sim::Tick bound = 0;  // from the end of the preemption to "resumed"
  sim::Tick end = 20 * ms;
};

// The window in the probe: the sleeper's accesses after its last condition read before `ends`.
std::vector<Access> window(const WaitCase& w, const std::vector<Access>& log) {
  std::vector<Access> mine;
  for (const Access& a : log)
    if (a.vcpu == w.sleeper) mine.push_back(a);
  std::size_t last_check = mine.size(), stop = mine.size();
  bool armed = !w.starts;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (w.starts && w.starts(mine[i])) {
      last_check = mine.size();
      armed = true;
    }
    if (armed && w.is_check(mine[i])) {
      last_check = i;
      armed = !w.starts;
    }
    if (w.ends && last_check < mine.size() && i > last_check && w.ends(mine[i])) {
      stop = i + 1;
      break;
    }
  }
  if (last_check == mine.size()) return {};
  return {mine.begin() + static_cast<std::ptrdiff_t>(last_check + 1),
          mine.begin() + static_cast<std::ptrdiff_t>(stop)};
}

// Places the wake-up at every access of the window; returns how many places it tried.
int wake_in_every_place(const WaitCase& w) {
  auto probe = w.setup(sim::kForever);
  probe->rig.run(w.end);
  // Without its waker the sleeper sleeps to the end: only the wake-up can end the wait.
  EXPECT_EQ(probe->find("resumed"), nullptr) << "the sleeper ended its wait without a waker";
  const std::vector<Access> places = window(w, probe->log);
  EXPECT_FALSE(places.empty()) << "no condition check found";
  int tried = 0;
  for (const Access& p : places) {
    SCOPED_TRACE("wake-up at access " + std::to_string(p.n) + " (" + p.word + ")");
    auto r = w.setup(p.at + kPreempt / 2);
    sim::Injection in;
    in.vcpu = w.sleeper;
    in.access = p.n;
    in.length = kPreempt;
    r->m->inject({in});
    r->rig.run(w.end);
    ++tried;
    // The run is the probe's up to the preempted access, which resumes only after the wake-up.
    const Access* same = r->access(w.sleeper, p.n);
    if (!same) {
      ADD_FAILURE() << "the sleeper never reached the access";
      continue;
    }
    EXPECT_EQ(same->word, p.word);
    EXPECT_EQ(same->at, p.at);
    const Mark* wake = r->find("wake");
    if (!wake) {
      ADD_FAILURE() << "the waker never acted";
      continue;
    }
    EXPECT_TRUE(wake->flag) << "the sleeper was not between its check and its sleep";
    EXPECT_GT(wake->at, p.at);
    if (const Access* next = r->access(w.sleeper, p.n + 1)) {
      EXPECT_GE(next->at, p.at + kPreempt);
    }
    const Mark* resumed = r->find("resumed");
    if (!resumed) {
      ADD_FAILURE() << "the wake-up was lost";
      continue;
    }
    EXPECT_LE(resumed->at, p.at + kPreempt + w.bound);
  }
  return tried;
}

bool word_is(const Access& a, const std::string& name) {
  return a.word == name;
}
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
// schedule()'s run-queue update on the sleeper's vCPU: deactivate_task() takes it off.
AccessPred deactivates(int vcpu) {
  return [vcpu](const Access& a) {
    return a.write && a.word == "rq.vcpu" + std::to_string(vcpu) + ".nr_running";
  };
}
// A wake-up that is acted on at once: a few accesses and a context switch.
sim::Tick switch_bound() {
  return cpu::CostParams().context_switch.value + 5 * us;
}
}  // namespace

// GuestScheduler::wait_event (___wait_event: prepare_to_wait_event marks the task sleeping before
// the condition runs). The waker on vCPU0 sets the flag and calls wake_up() while the sleeper
// on vCPU1 has read it clear and not yet been taken off its CPU.
TEST(GuestWaits, WaitEventWakeUpBetweenCheckAndSleep) {
  WaitCase w;
  w.is_check = [](const Access& a) { return a.vcpu == 1 && word_is(a, "flag") && !a.write; };
  w.ends = deactivates(1);
  w.bound = switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<WaitRun>(2);
    WaitRun* p = r.get();
    cpu::Word& flag = p->m->memory().word("flag");
    guest::Task& sleeper = p->sched->spawn(1, "sleeper", [p, &flag](cpu::GuestCpu& c) {
      p->sched->wait_event(c, [&] { return c.load(flag) != 0; }, sim::kForever);
      p->mark(c, "resumed");
    });
    p->sched->spawn(0, "waker", [p, &flag, &sleeper, wake_at](cpu::GuestCpu& c) {
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "sleeper"));
      c.store(flag, 1);
      p->sched->wake_up(c, sleeper);
    });
    return r;
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}

// Completion::wait (do_wait_for_common: queued and marked sleeping under the wait-queue lock,
// which complete() takes too). The window opens when the waiter drops the lock.
TEST(GuestWaits, CompletionWakeUpBetweenCheckAndSleep) {
  WaitCase w;
  w.is_check = [](const Access& a) {
    return a.vcpu == 1 && word_is(a, "done.wait.lock") && a.write;  // the unlock: complete() may run
  };
  w.ends = deactivates(1);
  w.bound = switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<WaitRun>(2);
    WaitRun* p = r.get();
    auto done = std::make_shared<guest::Completion>(*p->m, *p->sched, "done");
    p->sched->spawn(1, "sleeper", [p, done](cpu::GuestCpu& c) {
      done->wait(c);
      p->mark(c, "resumed");
    });
    p->sched->spawn(0, "waker", [p, done, wake_at](cpu::GuestCpu& c) {
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "sleeper"));
      done->complete(c);
    });
    return r;
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}

namespace {
// Task t on vCPU1 sleeps for good in wait_event; the waker on vCPU0 wakes it while vCPU1's idle
// task is between its run-queue check and its halt. `hook`: an idle hook (RCU's, in effect).
WaitCase idle_case(sim::Tick haltpoll, bool hook) {
  WaitCase w;
  // t's schedule() takes it off the run queue; the idle loop's next read of it is the check.
  w.starts = deactivates(1);
  w.is_check = [](const Access& a) {
    return a.vcpu == 1 && word_is(a, "rq.vcpu1.nr_running") && !a.write;
  };
  const cpu::CostParams c;
  // The reschedule IPI's send and the host wake-up of the halted vCPU, then the switch.
  w.bound = c.halt_wakeup.value + c.vm_entry.value + c.context_switch.value + 5 * us;
  w.setup = [haltpoll, hook](sim::Tick wake_at) {
    auto r = std::make_unique<WaitRun>(2, haltpoll);
    WaitRun* p = r.get();
    cpu::Word& flag = p->m->memory().word("flag");
    if (hook) {
      cpu::Word& h = p->m->memory().word("hook");
      p->sched->on_idle([&h](cpu::GuestCpu& c) { c.fetch_add(h, 1); });
    }
    guest::Task& t = p->sched->spawn(1, "t", [p, &flag](cpu::GuestCpu& c) {
      p->sched->wait_event(c, [&] { return c.load(flag) != 0; }, sim::kForever);
      p->mark(c, "resumed");
    });
    p->sched->spawn(0, "waker", [p, &flag, &t, wake_at](cpu::GuestCpu& c) {
      until(c, wake_at);
      p->mark(c, "wake",
              p->sched->idle(1) && p->m->vcpu(1).guest_state() != cpu::GuestState::kHalted);
      c.store(flag, 1);
      p->sched->wake_up(c, t);
    });
    return r;
  };
  return w;
}
}  // namespace

// The idle loop (do_idle: need_resched checked with irqs off, then sti;hlt; haltpoll's
// poll_idle clears the polling flag and re-checks need_resched before halting), with its idle
// hooks between the check and the halt.
TEST(GuestWaits, IdleHaltWakeUpBetweenCheckAndHalt) {
  EXPECT_GE(wake_in_every_place(idle_case(0, true)), 1);
}

// The same with guest haltpoll: a waker that sees the polling flag sends no IPI.
TEST(GuestWaits, IdleHaltpollWakeUpBetweenPollAndHalt) {
  EXPECT_GE(wake_in_every_place(idle_case(200 * us, false)), 1);
}

namespace {
// The run's RCU, kept with it; its kthread on vCPU1.
struct RcuParamsFor : guest::RcuParams {
  RcuParamsFor() {
    gp_cpu.value = 1;
    fqs_interval.value = sim::kSecond;  // no scan comes to the rescue within the run
  }
};
struct RcuRun : WaitRun {
  RcuRun() : WaitRun(2), rcu(*m, *sched, params) {}
  RcuParamsFor params;
  guest::Rcu rcu;
};
}  // namespace

// rcu_gp_kthread waiting for a grace-period request (swait_event_idle_exclusive on gp_wq:
// prepare_to_swait_event sets the state before RCU_GP_FLAG_INIT is read). call_rcu() on vCPU0
// raises gp_seq_needed and wakes it between its check and its sleep; "resumed": rcu_gp_init made
// gp_seq odd (the grace period itself then waits for vCPU0's idle state, which only the fqs scan
// reports, 1 s away here).
TEST(GuestWaits, RcuGpKthreadRequestWakeUpBetweenCheckAndSleep) {
  WaitCase w;
  w.is_check = [](const Access& a) {
    return a.vcpu == 1 && (word_is(a, "rcu_state.gp_seq_needed") || word_is(a, "rcu_state.gp_seq")) &&
           !a.write;
  };
  w.ends = deactivates(1);
  w.bound = switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<RcuRun>();
    RcuRun* p = r.get();
    p->sched->spawn(0, "caller", [p, wake_at](cpu::GuestCpu& c) {
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "rcu_gp_kthread"));
      p->rcu.call(c, [](cpu::GuestCpu&) {});
      cpu::Word& gp_seq = p->word("rcu_state.gp_seq");
      c.spin_until([&] { return (c.load(gp_seq) & 1) != 0; });
      p->mark(c, "resumed");
    });
    return std::unique_ptr<WaitRun>(std::move(r));
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}

// rcu_gp_kthread in its force-quiescent-state wait (rcu_gp_fqs_loop:
// swait_event_idle_timeout_exclusive with rcu_gp_fqs_check_wake reading the root qsmask). The
// last quiescent state, vCPU0's cond_resched(), lands between the kthread's qsmask read and its
// sleep; the scan is 1 s away, so only the wake-up can end the grace period.
TEST(GuestWaits, RcuGpKthreadFqsWakeUpBetweenCheckAndSleep) {
  WaitCase w;
  // gp_init's gp_seq store, then the wait's qsmask read (its own context switch reads it after).
  w.starts = [](const Access& a) {
    return a.vcpu == 1 && word_is(a, "rcu_state.gp_seq") && a.write;
  };
  w.is_check = [](const Access& a) {
    return a.vcpu == 1 && word_is(a, "rcu_node.qsmask") && !a.write;
  };
  w.ends = deactivates(1);
  w.bound = switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<RcuRun>();
    RcuRun* p = r.get();
    p->sched->spawn(0, "reporter", [p, wake_at](cpu::GuestCpu& c) {
      p->rcu.call(c, [](cpu::GuestCpu&) {});  // asks for a grace period
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "rcu_gp_kthread"));
      p->sched->cond_resched(c);  // rcu_all_qs: vCPU0's quiescent state
      cpu::Word& gp_seq = p->word("rcu_state.gp_seq");
      c.spin_until([&] { return (c.load(gp_seq) & 1) == 0; });  // rcu_gp_cleanup ran
      p->mark(c, "resumed");
    });
    return std::unique_ptr<WaitRun>(std::move(r));
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}

namespace {
constexpr sim::Tick kSrcuInterval = 1 * ms;
struct SrcuParamsFor : guest::RcuParams {
  SrcuParamsFor() { srcu_interval.value = kSrcuInterval; }
};
struct SrcuRun : WaitRun {
  SrcuRun() : WaitRun(2), srcu(*m, *sched, params, "dom") {}
  SrcuParamsFor params;
  guest::Srcu srcu;
};
}  // namespace

// synchronize_srcu's reader scan (srcu_readers_active_idx_check, then a sleep of SRCU_INTERVAL):
// the last reader's srcu_read_unlock() lands between the scan and the sleep. Nobody wakes the
// scanner: it polls, so the unlock is seen at the next scan, one interval after the check.
TEST(GuestWaits, SrcuReaderScanUnlockBetweenCheckAndSleep) {
  WaitCase w;
  w.is_check = [](const Access& a) {
    return a.vcpu == 1 && ends_with(a.word, ".lock_count0") && !a.write;
  };
  w.ends = deactivates(1);
  w.bound = kSrcuInterval + switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<SrcuRun>();
    SrcuRun* p = r.get();
    p->sched->spawn(0, "reader", [p, wake_at](cpu::GuestCpu& c) {
      const int idx = p->srcu.read_lock(c);
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "updater"));
      p->srcu.read_unlock(c, idx);
    });
    p->sched->spawn(1, "updater", [p](cpu::GuestCpu& c) {
      c.compute(5 * us);  // after the reader's lock
      p->srcu.synchronize(c);
      p->mark(c, "resumed");
    });
    return std::unique_ptr<WaitRun>(std::move(r));
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}

// synchronize_srcu waiting for the domain's grace-period mutex (a trylock, then a sleep of
// SRCU_INTERVAL; the kernel's mutex_lock queues and is handed the lock). The holder on vCPU0
// releases it between the updater's failed trylock and its sleep.
TEST(GuestWaits, SrcuGpMutexReleaseBetweenCheckAndSleep) {
  WaitCase w;
  w.is_check = [](const Access& a) { return a.vcpu == 1 && word_is(a, "dom.srcu_gp_mutex"); };
  w.ends = deactivates(1);
  w.bound = kSrcuInterval + switch_bound();
  w.setup = [](sim::Tick wake_at) {
    auto r = std::make_unique<SrcuRun>();
    SrcuRun* p = r.get();
    cpu::Word& mutex = p->word("dom.srcu_gp_mutex");
    p->sched->spawn(0, "holder", [p, &mutex, wake_at](cpu::GuestCpu& c) {
      c.store(mutex, 1);  // another grace period of the domain
      until(c, wake_at);
      p->mark(c, "wake", p->deciding(1, "updater"));
      c.store(mutex, 0);
    });
    p->sched->spawn(1, "updater", [p](cpu::GuestCpu& c) {
      c.compute(5 * us);
      p->srcu.synchronize(c);
      p->mark(c, "resumed");
    });
    return std::unique_ptr<WaitRun>(std::move(r));
  };
  EXPECT_GE(wake_in_every_place(w), 1);
}
