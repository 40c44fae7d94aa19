#include "tools/explore/diff_words.hpp"

#include <algorithm>

#include "tools/explore/shrink.hpp"

namespace vcpusim::tools {
namespace {

// Host thread ids as cpu/trace_lanes.cpp names them: vCPU n is n, load tasks follow.
std::string thread_name(const RunResult& r, std::int64_t tid) {
  int vcpus = 0;
  for (const auto& c : r.components.entries()) {
    if (c.group == "vcpu") vcpus = std::max(vcpus, c.index + 1);
    if (c.group == "load" && c.index == tid) return c.name;
  }
  return tid >= 0 && tid < vcpus ? "vCPU" + std::to_string(tid)
                                 : "host thread " + std::to_string(tid);
}

std::string who(const sim::Components::Entry& c) {
  if (c.group == "pcpu") return "pCPU" + std::to_string(c.index);
  if (c.group == "vcpu" || c.group == "clock") return "vCPU" + std::to_string(c.index);
  return c.name;
}

const char* vector_name(std::int64_t v) {
  return v == 0 ? "a timer interrupt" : v == 1 ? "an IPI" : v == 2 ? "an NMI" : "an interrupt";
}

}  // namespace

std::string event_clause(const RunResult& r, const sim::RecordedEvent& e) {
  const auto& c = r.components.at(e.component);
  const std::string w = who(c);
  const std::string& k = e.kind;
  if (k == "wake") return thread_name(r, e.a) + " woke up on " + w;
  if (k == "dispatch") return w + " ran " + thread_name(r, e.a);
  if (k == "deschedule") return w + " preempted " + thread_name(r, e.a);
  if (k == "sleep") return thread_name(r, e.a) + " went to sleep on " + w;
  if (k == "raise") return std::string(vector_name(e.a)) + " became pending on " + w;
  if (k == "irq.timer" || k == "irq.ipi" || k == "nmi")
    return w + (e.a ? " entered" : " left") + " its " +
           (k == "irq.timer" ? "timer interrupt"
            : k == "irq.ipi" ? "IPI"
                             : "NMI") +
           " handler";
  if (k == "ipi.sent")
    return w + " sent " + vector_name(e.a) + " to " + std::to_string(e.b) + " CPU(s)";
  if (k == "kick") return "vCPU" + std::to_string(e.a) + " kicked " + w;
  if (k == "tk.update") return "the timekeeper computed an update";
  if (k == "tk.published") return "the timekeeper published its update";
  if (k == "vdso" || k == "ktime")
    return w + " read the clock (" + k + "): " + std::to_string(e.a) + " ns";
  if (k == "rcu.gp.start") return "RCU grace period " + std::to_string(e.a) + " started";
  if (k == "rcu.gp.end") return "RCU grace period " + std::to_string(e.a) + " ended";
  if (k == "rcu.qs") return "vCPU" + std::to_string(e.a) + " reported an RCU quiescent state";
  if (k == "spin.begin") return w + " started to spin";
  if (k == "spin.end") return w + " stopped spinning";
  if (k == "halt.begin") return w + " halted";
  if (k == "halt.end") return w + " resumed from halt";
  if (k == "lock.acquire") return w + " took a lock";
  if (k == "lock.release") return w + " released a lock";
  if (k == "seq.write_begin") return w + " began a seqcount write section";
  if (k == "seq.write_end") return w + " ended a seqcount write section";
  if (k == "mode.user") return w + (e.a ? " entered" : " left") + " user mode";
  if (k == "ipi.deliver")
    return w + " delivered " + vector_name(e.a) + " to vCPU" + std::to_string(e.b);
  if (k == "tk.read") return "the timekeeper read the clock for an update";
  return w + " recorded " + k + "(" + std::to_string(e.a) + ", " + std::to_string(e.b) + ")";
}

std::string divergence_sentence(const RunResult& pr, const sim::RecordedEvent* p,
                                const RunResult& fr, const sim::RecordedEvent* f) {
  if (!p && !f) return "both runs recorded the same events";
  auto next = [](const RunResult& r, const sim::RecordedEvent* e) {
    return e ? "its next event, at " + readable_time(e->time) + ": " + event_clause(r, *e)
             : std::string("it recorded nothing more");
  };
  if (p && f && p->time == f->time)
    return "At " + readable_time(p->time) + ", the failing run: " + event_clause(fr, *f) +
           "; the passing run instead: " + event_clause(pr, *p) + ".";
  // The earlier event happened in one run only.
  const bool failing_first = !p || (f && f->time < p->time);
  if (failing_first)
    return "At " + readable_time(f->time) + ", the failing run: " + event_clause(fr, *f) +
           "; the passing run did not (" + next(pr, p) + ").";
  return "At " + readable_time(p->time) + ", the passing run: " + event_clause(pr, *p) +
         "; the failing run did not (" + next(fr, f) + ").";
}

}  // namespace vcpusim::tools
