#include "cpu/ftrace_import.hpp"

#include <algorithm>

#include "cpu/ftrace_text.hpp"
#include "sim/config.hpp"
#include "sim/glob.hpp"

namespace vcpusim::cpu {
using sim::Tick;

namespace {

// The longest span from the first line a time may have: Tick (int64 picoseconds) holds 106 days.
constexpr std::uint64_t kFtraceMaxSpanSecs = 9000000;
constexpr const char* kFtraceNoLostEvents =
    "a recording without lost events (a larger buffer_size_kb, or trace-cmd record)";

std::string ftrace_seconds(Tick t) {
  return sim::format_duration(t);
}

}  // namespace

std::vector<Intervals> import_ftrace(std::istream& in, const std::string& name,
                                     const FtraceSelection& sel, FtraceGaps* gaps) {
  struct CpuState {
    bool seen = false;      // any line on this CPU
    bool switched = false;  // a sched_switch on it: its current task is known
    std::int64_t current = 0;
    Tick run_start = -1;  // a task that is not excluded runs since then; -1: none
  };
  const std::size_t n = sel.trace_cpus.size();
  std::vector<CpuState> cpus(n);
  std::vector<Intervals> out(n);
  auto index_of = [&sel](int cpu) {
    const auto it = std::find(sel.trace_cpus.begin(), sel.trace_cpus.end(), cpu);
    return it == sel.trace_cpus.end() ? -1 : static_cast<int>(it - sel.trace_cpus.begin());
  };
  auto excluded = [&sel](const std::string& comm, std::int64_t pid) {
    if (pid == 0) return true;
    if (std::find(sel.exclude_pids.begin(), sel.exclude_pids.end(), pid) != sel.exclude_pids.end())
      return true;
    return std::any_of(sel.exclude.begin(), sel.exclude.end(),
                       [&comm](const std::string& p) { return sim::glob_match(p, comm); });
  };
  const Tick window_end = sel.duration > 0 ? sel.from + sel.duration : sim::kForever;
  auto add = [&](std::size_t k, Tick s, Tick e) {
    s = std::max(s, sel.from);
    e = std::min(e, window_end);
    if (e <= s) return;
    Intervals& v = out[k];
    if (!v.empty() && v.back().second == s - sel.from)
      v.back().second = e - sel.from;
    else
      v.emplace_back(s - sel.from, e - sel.from);
  };

  std::string text;
  std::size_t line_no = 0;
  bool have_origin = false;
  ftrace::Stamp origin;
  Tick last = 0;
  std::uint64_t switches = 0;
  bool past_window = false;
  while (std::getline(in, text)) {
    ++line_no;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty() || text[0] == '#') continue;
    if (sel.report_form && ftrace::report_header(text)) continue;
    const std::string where = name + ":" + std::to_string(line_no) + ": ";
    if (text.rfind("CPU:", 0) == 0 && text.find("LOST") != std::string::npos)
      throw FtraceError(where + sim::quote(text) + ": the recording lost events there, so what " +
                            "ran is unknown",
                        kFtraceNoLostEvents);
    ftrace::Line l;
    std::string expected = ftrace::parse_line(text, l);
    if (!expected.empty()) throw FtraceError(where + sim::quote(text) + " is not an event line", expected);
    if (!have_origin) {
      origin = l.time;
      have_origin = true;
    }
    if (l.time.secs < origin.secs || l.time.secs - origin.secs > kFtraceMaxSpanSecs)
      throw FtraceError(where + "time " + std::to_string(l.time.secs) + " s is " +
                            (l.time.secs < origin.secs ? "before the first line's"
                                                       : "more than 9000000 s after the first line's") +
                            " " + std::to_string(origin.secs) + " s",
                        "lines in time order, within 9000000 s of the first");
    const Tick t = static_cast<Tick>(l.time.secs - origin.secs) * sim::kSecond + l.time.ps - origin.ps;
    if (t < last)
      throw FtraceError(where + "time goes backwards: " + ftrace_seconds(last - t) +
                            " before the line above",
                        "lines in time order (the trace file merges the CPUs in order; "
                        "per-CPU files do not)");
    last = t;
    if (t >= window_end) {  // everything the window needs is known
      past_window = true;
      break;
    }
    const int k = index_of(l.cpu);
    if (k >= 0) cpus[static_cast<std::size_t>(k)].seen = true;
    if (l.event != "sched_switch") continue;
    ftrace::Switch sw;
    expected = sel.report_form ? ftrace::parse_report_switch(l.fields, sw)
                               : ftrace::parse_switch(l.fields, sw);
    if (!expected.empty())
      throw FtraceError(where + sim::quote(l.fields) + " are not sched_switch fields", expected);
    ++switches;
    if (k < 0) continue;
    CpuState& c = cpus[static_cast<std::size_t>(k)];
    if (c.switched && c.current != sw.prev_pid && gaps && gaps->broken_chains++ == 0)
      gaps->first_line = line_no;
    // Before a CPU's first switch, its prev is taken to have run since the trace began.
    if (c.switched && c.run_start >= 0) add(static_cast<std::size_t>(k), c.run_start, t);
    if (!c.switched && !excluded(sw.prev_comm, sw.prev_pid)) add(static_cast<std::size_t>(k), 0, t);
    c.switched = true;
    c.current = sw.next_pid;
    c.run_start = excluded(sw.next_comm, sw.next_pid) ? -1 : t;
  }
  if (in.bad()) throw FtraceError(name + ": cannot read the trace file", "a readable file");
  if (!have_origin)
    throw FtraceError(name + ": no event line", "an ftrace text recording (docs/host-trace.md)");
  if (switches == 0 && !past_window)
    throw FtraceError(name + ": no sched_switch line",
                      "a recording of the sched:sched_switch event (docs/host-trace.md)");
  const Tick end = past_window ? window_end : last;
  if (sel.from >= end)
    throw FtraceError(name + ": the window is empty: from " + ftrace_seconds(sel.from) +
                          " is not before the trace's last line, " + ftrace_seconds(last) +
                          " after its first",
                      "from below " + ftrace_seconds(last));
  if (!past_window && sel.duration > 0)
    throw FtraceError(name + ": the window ends at " + ftrace_seconds(window_end) +
                          ", after the trace's last line at " + ftrace_seconds(last),
                      "from + duration at most " + ftrace_seconds(last) + ", or duration 0 (to the end)");
  for (std::size_t k = 0; k < n; ++k) {
    const std::string cpu = std::to_string(sel.trace_cpus[k]);
    if (!cpus[k].seen)
      throw FtraceError(name + ": trace CPU " + cpu + " has no line before the window's end",
                        "trace_cpus that the recording covers");
    if (!cpus[k].switched)
      throw FtraceError(name + ": trace CPU " + cpu +
                            " has no sched_switch before the window's end, so what ran there "
                            "is unknown",
                        "trace_cpus with sched_switch lines");
    if (cpus[k].run_start >= 0) add(k, cpus[k].run_start, end);
  }
  return out;
}

}  // namespace vcpusim::cpu
