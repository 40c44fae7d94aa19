#include "guest/trace_lanes.hpp"

#include <algorithm>

#include "cpu/trace_lanes.hpp"

namespace vcpusim::guest {

const std::vector<std::string>& GuestTraceVocabulary::categories() {
  static const std::vector<std::string> all = {"read", "timekeeping", "rcu"};
  return all;
}

void GuestTraceVocabulary::declare(sim::TraceBuilder& b) {
  tk_signal_ = b.add_signal("vm", "tk_update", 1, 0);
}

void GuestTraceVocabulary::handle(const sim::RecordedEvent& e, sim::TraceBuilder& b) {
  const auto& c = b.components().at(e.component);
  if (c.group == "rcu") {
    handle_rcu(e, b);
  } else if (c.group == "clock") {
    const std::string name = e.kind == "vdso" ? "vdso read" : e.kind + " read";
    sim::TraceEvent* t = b.instant(b.find_lane(cpu::kVmPid, cpu::vcpu_tid(c.index)), name, "read");
    if (!t) return;
    t->k1 = "value_ns";
    t->v1 = e.a;
    t->k2 = "latency_ns";
    t->v2 = e.b;
  } else if (e.kind == "tk.update") {
    b.close_span("timekeeping", 0);
    // The update is based on the clock read at c0 (a, in TSC cycles): the span starts there.
    sim::Tick begin = b.now();
    if (tsc_hz_ > 0 && e.a >= 0) {
      const auto c0 = static_cast<unsigned __int128>(e.a) * sim::kSecond;
      const auto hz = static_cast<unsigned __int128>(tsc_hz_);
      begin = std::min<sim::Tick>(b.now(), static_cast<sim::Tick>((c0 + hz - 1) / hz));
    }
    b.open_span("timekeeping", 0, cpu::kVmPid, cpu::vcpu_tid(0),
                {"timekeeping update", "timekeeping", "c0", e.a, "mult_adjust", e.b}, begin);
    b.set_signal(tk_signal_, 1);
  } else if (e.kind == "tk.published") {
    b.close_span("timekeeping", 0);
    b.set_signal(tk_signal_, 0);
  }
}

void GuestTraceVocabulary::handle_rcu(const sim::RecordedEvent& e, sim::TraceBuilder& b) {
  static const char* const kQsReason[] = {"context switch", "idle", "cond_resched", "fqs: idle"};
  const int lane = b.find_lane(cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.a)));
  if (e.kind == "rcu.gp.start") {
    b.open_span("rcu.gp", 0, cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.b)),
                {"RCU GP", "rcu", "gp", e.a});
  } else if (e.kind == "rcu.gp.end") {
    b.close_span("rcu.gp", 0);
    const int holder = b.find_lane(cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.b)));
    if (e.b < 0 || holder < 0) return;
    if (sim::TraceEvent* t = b.instant(holder, "GP waited for this vCPU", "rcu")) {
      t->k1 = "gp";
      t->v1 = e.a;
    }
  } else if (e.kind == "rcu.qs") {
    if (lane < 0) return;
    if (sim::TraceEvent* t = b.instant(lane, std::string("rcu qs (") + kQsReason[e.b & 3] + ")", "rcu")) {
      t->k1 = "reason";
      t->v1 = e.b;
    }
  } else if (e.kind == "rcu.read.begin") {
    const int depth = rcu_readers_[e.a]++;
    b.open_span("rcu.read", e.a * 1024 + depth, cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.a)),
                {"vCPU" + std::to_string(e.a) + " rcu read", "rcu"});
  } else if (e.kind == "rcu.read.end") {
    int& depth = rcu_readers_[e.a];
    if (depth > 0) b.close_span("rcu.read", e.a * 1024 + --depth);
  }
}

}  // namespace vcpusim::guest
