#include "cpu/ftrace/host_ftrace.hpp"

#include <algorithm>

#include "cpu/ftrace/ftrace_text.hpp"
#include "cpu/vm/vcpu.hpp"
#include "sim/trace/trace.hpp"

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

HostFtraceWriter::HostFtraceWriter(std::ostream& out, const HostScheduler& scheduler, bool ns)
    : out_(out), ns_(ns), pcpus_(static_cast<std::size_t>(scheduler.pcpus())) {
  int max_id = -1;
  for (const HostThread* t : scheduler.threads()) max_id = std::max(max_id, t->id());
  threads_.resize(static_cast<std::size_t>(max_id + 1));
  vcpu_index_.assign(threads_.size(), -1);
  in_guest_.assign(threads_.size(), true);  // the VM runs guest code from the start
  int vcpus = 0;
  for (const HostThread* t : scheduler.threads()) {
    const std::string comm = ftrace::comm(t->name());
    threads_[static_cast<std::size_t>(t->id())] = {comm, comm, kFtraceFirstPid + t->id(),
                                                   kFtraceFairPrio + t->nice()};
    if (t->kind() != HostThread::Kind::kVcpu) continue;
    vcpu_index_[static_cast<std::size_t>(t->id())] = vcpus++;
    if (static_cast<int>(vcpu_of_.size()) <= t->component())
      vcpu_of_.resize(static_cast<std::size_t>(t->component()) + 1, -1);
    vcpu_of_[static_cast<std::size_t>(t->component())] = t->id();
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
       << (ns_ ? ", times truncated to the nanosecond" : ", times truncated to the microsecond")
       << " (docs/host-trace.md)\n"
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
  ftrace::write_context(out_, a.context, a.pid, pcpu, "d..2.", t, "sched_switch", ns_);
  ftrace::write_switch(out_, {a.comm, a.pid, a.prio, state, b.comm, b.pid, b.prio});
}

void HostFtraceWriter::marker(sim::Tick t, const char* text) {
  const Task& a = task(0, pcpus_.empty() ? kIdle : pcpus_[0].current);
  ftrace::write_context(out_, a.context, a.pid, 0, ".....", t, "tracing_mark_write", ns_);
  out_ << text << '\n';
}

void HostFtraceWriter::take_over(int p, sim::Tick t, int next) {
  Pcpu& c = pcpus_[static_cast<std::size_t>(p)];
  if (c.pending)
    switch_line(p, t, c.prev, c.state, next);
  else if (c.current != next)  // after an interrupt the task it interrupted goes on
    switch_line(p, t, c.current, "R", next);
  c.pending = false;
  c.current = next;
}

void HostFtraceWriter::resolve_steal(int p) {
  Pcpu& c = pcpus_[static_cast<std::size_t>(p)];
  if (!c.steal_pending) return;
  c.steal_pending = false;
  take_over(p, c.steal_at, kSteal);
}

void HostFtraceWriter::flush(sim::Tick t) {
  for (std::size_t p = 0; p < pcpus_.size(); ++p) {
    Pcpu& c = pcpus_[p];
    if (c.steal_pending && c.steal_at < t) resolve_steal(static_cast<int>(p));
    if (!c.pending || c.at >= t) continue;
    switch_line(static_cast<int>(p), c.at, c.prev, c.state, kIdle);
    c.pending = false;
  }
}

void HostFtraceWriter::irq_line(int p, sim::Tick t, bool entry) {
  const Pcpu& c = pcpus_[static_cast<std::size_t>(p)];
  const Task& ctx = task(p, c.current);
  if (c.irq == 1) {
    ftrace::write_context(out_, ctx.context, ctx.pid, p, "d.h..", t,
                          entry ? "irq_handler_entry" : "irq_handler_exit", ns_);
    if (entry)
      ftrace::write_irq_entry(out_, 0, "host_noise");
    else
      ftrace::write_irq_exit(out_, 0, true);
  } else {
    ftrace::write_context(out_, ctx.context, ctx.pid, p, "..s..", t,
                          entry ? "softirq_entry" : "softirq_exit", ns_);
    ftrace::write_softirq(out_, 3);
  }
}

// A vCPU's exit or entry, on the pCPU its thread runs on (or has just left, for the exit of a
// preemption: the switch-out is still pending then).
void HostFtraceWriter::vcpu_note(const sim::EventView& e, int thread) {
  const bool exit = sim::kind_is(e, "kvm.exit");
  if (!exit && !sim::kind_is(e, "kvm.entry")) return;
  int p = -1;
  for (std::size_t q = 0; q < pcpus_.size() && p < 0; ++q)
    if (pcpus_[q].current == thread || (pcpus_[q].pending && pcpus_[q].prev == thread))
      p = static_cast<int>(q);
  if (p < 0) return;  // not on a pCPU: nothing a host trace would show
  flush(e.time);
  const auto t = static_cast<std::size_t>(thread);
  if (exit == !in_guest_[t]) return;  // an entry the trace already shows (or an exit)
  in_guest_[t] = !exit;
  const Task& ctx = task(p, thread);
  ftrace::write_context(out_, ctx.context, ctx.pid, p, "d..1.", e.time,
                        exit ? "kvm_exit" : "kvm_entry", ns_);
  // KVM's x86 TP_printk (arch/x86/kvm/trace.h, Linux 6.x): kvm_exit's "vcpu %u reason %s rip
  // 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x error_code 0x%08x", kvm_entry's
  // "vcpu %u, rip 0x%lx".
  const int v = vcpu_index_[t];
  if (exit)
    out_ << "vcpu " << v << " reason " << vm_exit_reason_name(static_cast<VmExitReason>(e.a))
         << " rip 0x0 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 "
            "error_code 0x00000000\n";
  else
    out_ << "vcpu " << v << ", rip 0x0\n";
}

void HostFtraceWriter::event(const sim::EventView& e) {
  if (e.component >= 0 && e.component < static_cast<int>(vcpu_of_.size()) &&
      vcpu_of_[static_cast<std::size_t>(e.component)] >= 0) {
    vcpu_note(e, vcpu_of_[static_cast<std::size_t>(e.component)]);
    return;
  }
  if (e.component < 0 || e.component >= static_cast<int>(pcpu_of_.size())) return;
  const int p = pcpu_of_[static_cast<std::size_t>(e.component)];
  if (p < 0) return;
  Pcpu& c = pcpus_[static_cast<std::size_t>(p)];
  const bool noise = sim::kind_is(e, "noise.irq") || sim::kind_is(e, "noise.softirq");
  if (noise) {
    // Recorded right after the steal it names (cpu/host/host_noise.cpp): an interrupt, not a task.
    if (!c.steal_pending) return;  // an interrupt while one runs, or the pCPU was stolen
    c.steal_pending = false;
    if (c.pending && c.at == e.time) {  // the interrupted task stays current
      c.current = c.prev;
      c.pending = false;
    }
    c.irq = sim::kind_is(e, "noise.irq") ? 1 : 2;
    irq_line(p, e.time, true);
    return;
  }
  flush(e.time);
  resolve_steal(p);
  const int who = static_cast<int>(e.a);
  auto leave = [&](int prev, const char* state) {
    c.pending = true;
    c.prev = prev;
    c.state = state;
    c.at = e.time;
    c.current = kIdle;
  };
  if (sim::kind_is(e, "dispatch")) {
    take_over(p, e.time, who);
  } else if (sim::kind_is(e, "deschedule")) {
    leave(who, "R+");  // preempted: still runnable
  } else if (sim::kind_is(e, "sleep")) {
    if (c.current == who) leave(who, "S");
  } else if (sim::kind_is(e, "steal")) {
    if (c.irq == 0 && c.current != kSteal) {  // else a longer steal: the same one runs on
      c.steal_pending = true;
      c.steal_at = e.time;
    }
  } else if (sim::kind_is(e, "steal_end")) {
    if (c.irq != 0) {
      irq_line(p, e.time, false);
      c.irq = 0;
    } else {
      leave(kSteal, "S");
    }
  } else if (sim::kind_is(e, "wake")) {
    // Recorded on the pCPU the thread is placed on, in the context of what runs there.
    const Task& ctx = task(p, c.pending ? c.prev : c.current);
    const Task& woken = task(p, who);
    ftrace::write_context(out_, ctx.context, ctx.pid, p, "d..4.", e.time, "sched_wakeup", ns_);
    ftrace::write_wakeup(out_, woken.comm, woken.pid, woken.prio, p);
  }
}

void HostFtraceWriter::finish(sim::Tick end) {
  flush(end + 1);
  marker(end, "vcpusim: run end");
}

}  // namespace vcpusim::cpu
