#include "tools/load/trace_summary.hpp"

#include <algorithm>
#include <cstdio>

#include "sim/config/config.hpp"

namespace vcpusim::tools {
namespace {

// To the microsecond (ftrace's resolution), and above 1024 us to 1/1024 of the length: the
// histogram stays some thousand values whatever the trace's length.
std::int64_t rounded(std::int64_t ns) {
  std::int64_t us = (ns + 500) / 1000;
  int bits = 0;
  for (std::int64_t v = us; v > 1023; v >>= 1) ++bits;
  us = (us >> bits) << bits;
  return us * 1000;
}

std::string percent(sim::Tick part, sim::Tick whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

}  // namespace

TraceSummary::PerCpu& TraceSummary::at(std::size_t cpu) {
  if (cpu >= cpus_.size()) cpus_.resize(cpu + 1);
  return cpus_[cpu];
}

void TraceSummary::close_burst(PerCpu& c) {
  if (!c.open) return;
  bursts_.add(rounded((c.burst_end - c.burst_start) / sim::kNanosecond));
  c.open = false;
}

sim::Samples TraceSummary::closed_bursts() const {
  sim::Samples all = bursts_;
  for (const PerCpu& c : cpus_)
    if (c.open) all.add(rounded((c.burst_end - c.burst_start) / sim::kNanosecond));
  return all;
}

void TraceSummary::busy(std::size_t cpu, const cpu::TraceBusy& b) {
  PerCpu& c = at(cpu);
  c.busy += b.end - b.start;
  if (b.prio < 100) c.rt += b.end - b.start;
  if (c.open && c.burst_end == b.start) {
    c.burst_end = b.end;
  } else {
    close_burst(c);
    c.open = true;
    c.burst_start = b.start;
    c.burst_end = b.end;
  }
  next_.busy(cpu, b);
}

void TraceSummary::irq(std::size_t cpu, sim::Tick start, sim::Tick end) {
  at(cpu).irq += end - start;
  next_.irq(cpu, start, end);
}

sim::Json TraceSummary::to_json(const std::vector<int>& cpus, sim::Tick span) const {
  sim::Json per_cpu = sim::Json::array();
  for (std::size_t k = 0; k < cpus.size(); ++k) {
    const PerCpu c = k < cpus_.size() ? cpus_[k] : PerCpu{};
    per_cpu.push_back({{"trace_cpu", cpus[k]},
                       {"busy_ns", c.busy / sim::kNanosecond},
                       {"realtime_ns", c.rt / sim::kNanosecond},
                       {"irq_ns", c.irq / sim::kNanosecond}});
  }
  return {{"span_ns", span / sim::kNanosecond},
          {"cpus", per_cpu},
          {"burst_ns", closed_bursts().summary()}};
}

void TraceSummary::print(std::ostream& out, const std::vector<int>& cpus, sim::Tick span,
                         const cpu::FtraceStats& stats) const {
  out << "read " << stats.lines << " event lines (" << cpu::trace_format_name(stats.format)
      << "), " << stats.switches << " sched_switch, " << stats.irq_events
      << " irq/softirq; window " << sim::format_duration(span) << "\n";
  out << "per trace CPU, the share of the window other threads ran (real-time among it) and "
         "interrupts took:\n";
  for (std::size_t k = 0; k < cpus.size(); ++k) {
    const PerCpu c = k < cpus_.size() ? cpus_[k] : PerCpu{};
    out << "  cpu " << cpus[k] << ": busy " << percent(c.busy, span) << " (real-time "
        << percent(c.rt, span) << "), irq " << percent(c.irq, span) << "\n";
  }
  const auto s = closed_bursts().summary();
  if (s.empty()) {
    out << "busy bursts: none\n";
  } else {
    out << "busy bursts (to the us, within 0.1% above 1ms): " << s.at("count") << ", min "
        << sim::format_duration(s.at("min") * sim::kNanosecond) << ", p50 "
        << sim::format_duration(s.at("p50") * sim::kNanosecond) << ", p99 "
        << sim::format_duration(s.at("p99") * sim::kNanosecond) << ", max "
        << sim::format_duration(s.at("max") * sim::kNanosecond) << "\n";
  }
  std::vector<std::pair<std::int64_t, const cpu::TraceThread*>> kept, left;
  for (const auto& [pid, t] : stats.threads) (t.excluded ? left : kept).emplace_back(pid, &t);
  auto by_time = [](const auto& a, const auto& b) {
    return a.second->ran != b.second->ran ? a.second->ran > b.second->ran : a.first < b.first;
  };
  std::sort(kept.begin(), kept.end(), by_time);
  std::sort(left.begin(), left.end(), by_time);
  out << "busiest threads replayed (of " << kept.size() << "):\n";
  for (std::size_t i = 0; i < kept.size() && i < 10; ++i)
    out << "  " << sim::printable(kept[i].second->comm) << " (pid " << kept[i].first << ", prio "
        << kept[i].second->prio << "): " << sim::format_duration(kept[i].second->ran) << "\n";
  out << "left out by --exclude and --exclude-pid (" << left.size() << "):\n";
  for (const auto& [pid, t] : left)
    out << "  " << sim::printable(t->comm) << " (pid " << pid << "): "
        << sim::format_duration(t->ran) << "\n";
}

}  // namespace vcpusim::tools
