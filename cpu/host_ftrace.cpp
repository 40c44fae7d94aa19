#include "cpu/host_ftrace.hpp"

#include <algorithm>

#include "cpu/ftrace_text.hpp"
#include "sim/trace.hpp"

namespace vcpusim::cpu {
namespace {

constexpr std::int64_t kFtraceFirstPid = 1000;
constexpr int kFtraceFairPrio = 120;  // prio of a nice-0 fair task
constexpr int kFtraceStealPrio = 0;   // an RT task at the top priority

constexpr const char* kFtraceHeader =
    "#\n"
    "#                                _-----=> irqs-off/BH-disabled\n"
    "#                               / _----=> need-resched\n"
    "#                              | / _---=> hardirq/softirq\n"
    "#                              || / _--=> preempt-depth\n"
    "#                              ||| / _-=> migrate-disable\n"
    "#                              |||| /     delay\n"
    "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    "#              | |         |   |||||     |         |\n";

}  // namespace

HostFtraceWriter::HostFtraceWriter(std::ostream& out, const HostScheduler& scheduler)
    : out_(out), pcpus_(static_cast<std::size_t>(scheduler.pcpus())) {
  int max_id = -1;
  for (const HostThread* t : scheduler.threads()) max_id = std::max(max_id, t->id());
  threads_.resize(static_cast<std::size_t>(max_id + 1));
  for (const HostThread* t : scheduler.threads()) {
    const std::string comm = ftrace::comm(t->name());
    threads_[static_cast<std::size_t>(t->id())] = {comm, comm, kFtraceFirstPid + t->id(),
                                                   kFtraceFairPrio + t->nice()};
  }
  for (int p = 0; p < scheduler.pcpus(); ++p) {
    const std::string n = std::to_string(p);
    idle_.push_back({"swapper/" + n, "<idle>", 0, kFtraceFairPrio});
    steal_.push_back({"steal/" + n, "steal/" + n, kFtraceFirstPid + max_id + 1 + p, kFtraceStealPrio});
    const int c = scheduler.pcpu_component(p);
    if (static_cast<int>(pcpu_of_.size()) <= c) pcpu_of_.resize(static_cast<std::size_t>(c) + 1, -1);
    pcpu_of_[static_cast<std::size_t>(c)] = p;
  }
  out_ << "# tracer: nop\n#\n# vcpusim host schedule: " << scheduler.pcpus()
       << (scheduler.pcpus() == 1 ? " pCPU" : " pCPUs")
       << ", times truncated to the microsecond (docs/host-trace.md)\n"
       << kFtraceHeader;
  marker(0, "vcpusim: run start");
}

const HostFtraceWriter::Task& HostFtraceWriter::task(int pcpu, int who) const {
  if (who == kIdle) return idle_[static_cast<std::size_t>(pcpu)];
  if (who == kSteal) return steal_[static_cast<std::size_t>(pcpu)];
  return threads_.at(static_cast<std::size_t>(who));
}

void HostFtraceWriter::switch_line(int pcpu, sim::Tick t, int prev, const char* state,
                                   int next) {
  const Task& a = task(pcpu, prev);
  const Task& b = task(pcpu, next);
  ftrace::write_context(out_, a.context, a.pid, pcpu, "d..2.", t, "sched_switch");
  ftrace::write_switch(out_, {a.comm, a.pid, a.prio, state, b.comm, b.pid, b.prio});
}

void HostFtraceWriter::marker(sim::Tick t, const char* text) {
  const Task& a = task(0, pcpus_.empty() ? kIdle : pcpus_[0].current);
  ftrace::write_context(out_, a.context, a.pid, 0, ".....", t, "tracing_mark_write");
  out_ << text << '\n';
}

void HostFtraceWriter::flush(sim::Tick t) {
  for (std::size_t p = 0; p < pcpus_.size(); ++p) {
    Pcpu& c = pcpus_[p];
    if (!c.pending || c.at >= t) continue;
    switch_line(static_cast<int>(p), c.at, c.prev, c.state, kIdle);
    c.pending = false;
  }
}

void HostFtraceWriter::event(const sim::EventView& e) {
  if (e.component < 0 || e.component >= static_cast<int>(pcpu_of_.size())) return;
  const int p = pcpu_of_[static_cast<std::size_t>(e.component)];
  if (p < 0) return;
  flush(e.time);
  Pcpu& c = pcpus_[static_cast<std::size_t>(p)];
  const int who = static_cast<int>(e.a);
  // Who leaves the pCPU when something comes in now: the pending switch-out, else the current.
  auto take_over = [&](int next) {
    if (c.pending)
      switch_line(p, e.time, c.prev, c.state, next);
    else
      switch_line(p, e.time, c.current, "R", next);
    c.pending = false;
    c.current = next;
  };
  auto leave = [&](int prev, const char* state) {
    c.pending = true;
    c.prev = prev;
    c.state = state;
    c.at = e.time;
    c.current = kIdle;
  };
  if (sim::kind_is(e, "dispatch")) {
    take_over(who);
  } else if (sim::kind_is(e, "deschedule")) {
    leave(who, "R+");  // preempted: still runnable
  } else if (sim::kind_is(e, "sleep")) {
    if (c.current == who) leave(who, "S");
  } else if (sim::kind_is(e, "steal")) {
    if (c.current != kSteal) take_over(kSteal);  // else a longer steal: the same task runs on
  } else if (sim::kind_is(e, "steal_end")) {
    leave(kSteal, "S");
  } else if (sim::kind_is(e, "wake")) {
    // Recorded on the pCPU the thread is placed on, in the context of what runs there.
    const Task& ctx = task(p, c.pending ? c.prev : c.current);
    const Task& woken = task(p, who);
    ftrace::write_context(out_, ctx.context, ctx.pid, p, "d..4.", e.time, "sched_wakeup");
    ftrace::write_wakeup(out_, woken.comm, woken.pid, woken.prio, p);
  }
}

void HostFtraceWriter::finish(sim::Tick end) {
  flush(end + 1);
  marker(end, "vcpusim: run end");
}

}  // namespace vcpusim::cpu
