#include "cpu/ftrace/ftrace_import.hpp"

#include <algorithm>

#include "cpu/ftrace/ftrace_text.hpp"
#include "sim/config/config.hpp"
#include "sim/config/glob.hpp"

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

bool irq_entry(const std::string& event) {
  return event == "irq_handler_entry" || event == "softirq_entry";
}

bool irq_exit(const std::string& event) {
  return event == "irq_handler_exit" || event == "softirq_exit";
}

// Collects what the reader streams.
class CollectingSink final : public FtraceSink {
 public:
  explicit CollectingSink(std::size_t n) : cpus(n) {}
  void busy(std::size_t k, const TraceBusy& b) override { at(k).busy.push_back(b); }
  void irq(std::size_t k, Tick s, Tick e) override { at(k).irq.emplace_back(s, e); }
  CpuRecording& at(std::size_t k) {
    if (k >= cpus.size()) cpus.resize(k + 1);
    return cpus[k];
  }
  std::vector<CpuRecording> cpus;
};

// The reader's state and steps; one per import.
class Reader {
 public:
  Reader(const std::string& name, const FtraceSelection& sel, FtraceSink& sink, FtraceGaps* gaps,
         FtraceStats* stats)
      : name_(name), sel_(sel), sink_(sink), gaps_(gaps), stats_(stats),
        cpus_(sel.trace_cpus.size()),
        window_end_(sel.duration > 0 ? sel.from + sel.duration : sim::kForever),
        format_(sel.format) {}

  Tick run(std::istream& in);

 private:
  struct CpuState {
    bool seen = false;      // any line on this CPU
    bool switched = false;  // a sched_switch on it: its current task is known
    std::int64_t current = 0;
    Tick since = 0;       // the current task runs since then
    Tick run_start = -1;  // a task that is not excluded runs since then; -1: none (or in irq)
    int run_prio = 120;
    bool run_suspended = false;  // such a task was interrupted: it resumes when the irq ends
    int irq_depth = 0;
    Tick irq_start = 0;
    bool has_busy = false;  // `busy` waits: the next one may touch it
    TraceBusy busy;
    bool has_irq = false;
    std::pair<Tick, Tick> irq;
  };

  bool event_line(const std::string& text, ftrace::Line& l, std::string& expected);
  int index_of(int cpu);
  bool excluded(const std::string& comm, std::int64_t pid) const;
  void add_busy(std::size_t k, Tick s, Tick e, int prio);
  void add_irq(std::size_t k, Tick s, Tick e);
  void account(std::int64_t pid, Tick s, Tick e);
  void start_task(std::size_t k, std::int64_t pid, const std::string& comm, std::int64_t prio,
                  Tick at);
  void on_switch(std::size_t k, const ftrace::Switch& sw, Tick t, std::size_t line_no);
  void on_irq(std::size_t k, bool entry, Tick t);
  void finish(Tick end);

  const std::string& name_;
  const FtraceSelection& sel_;
  FtraceSink& sink_;
  FtraceGaps* gaps_;
  FtraceStats* stats_;
  std::vector<CpuState> cpus_;
  const Tick window_end_;
  TraceFormat format_;
};

int Reader::index_of(int cpu) {
  if (sel_.trace_cpus.empty()) {  // every CPU, at its number
    if (static_cast<std::size_t>(cpu) >= cpus_.size()) cpus_.resize(static_cast<std::size_t>(cpu) + 1);
    return cpu;
  }
  const auto it = std::find(sel_.trace_cpus.begin(), sel_.trace_cpus.end(), cpu);
  return it == sel_.trace_cpus.end() ? -1 : static_cast<int>(it - sel_.trace_cpus.begin());
}

bool Reader::excluded(const std::string& comm, std::int64_t pid) const {
  if (pid == 0) return true;
  if (std::find(sel_.exclude_pids.begin(), sel_.exclude_pids.end(), pid) != sel_.exclude_pids.end())
    return true;
  return std::any_of(sel_.exclude.begin(), sel_.exclude.end(),
                     [&comm](const std::string& p) { return sim::glob_match(p, comm); });
}

void Reader::add_busy(std::size_t k, Tick s, Tick e, int prio) {
  s = std::max(s, sel_.from);
  e = std::min(e, window_end_);
  if (e <= s) return;
  CpuState& c = cpus_[k];
  const TraceBusy b{s - sel_.from, e - sel_.from, prio};
  if (c.has_busy && c.busy.end == b.start && c.busy.prio == prio) {
    c.busy.end = b.end;
    return;
  }
  if (c.has_busy) sink_.busy(k, c.busy);
  c.busy = b;
  c.has_busy = true;
}

void Reader::add_irq(std::size_t k, Tick s, Tick e) {
  s = std::max(s, sel_.from);
  e = std::min(e, window_end_);
  if (e <= s) return;
  CpuState& c = cpus_[k];
  if (c.has_irq && c.irq.second == s - sel_.from) {
    c.irq.second = e - sel_.from;
    return;
  }
  if (c.has_irq) sink_.irq(k, c.irq.first, c.irq.second);
  c.irq = {s - sel_.from, e - sel_.from};
  c.has_irq = true;
}

void Reader::account(std::int64_t pid, Tick s, Tick e) {
  if (!stats_ || pid == 0) return;
  s = std::max(s, sel_.from);
  e = std::min(e, window_end_);
  if (e > s) stats_->threads[pid].ran += e - s;
}

// `pid` becomes the task running on CPU k at `at`: noted for the summary, and, unless it is
// excluded, the start of a busy interval (deferred while an interrupt runs).
void Reader::start_task(std::size_t k, std::int64_t pid, const std::string& comm,
                        std::int64_t prio, Tick at) {
  CpuState& c = cpus_[k];
  const bool out = excluded(comm, pid);
  if (stats_ && pid != 0) {
    TraceThread& th = stats_->threads[pid];
    th.comm = comm;
    th.excluded = out;
    th.prio = static_cast<int>(prio);
  }
  if (out) return;
  c.run_prio = static_cast<int>(prio);
  if (c.irq_depth > 0)
    c.run_suspended = true;
  else
    c.run_start = at;
}

void Reader::on_switch(std::size_t k, const ftrace::Switch& sw, Tick t, std::size_t line_no) {
  CpuState& c = cpus_[k];
  if (c.switched && c.current != sw.prev_pid && gaps_ && gaps_->broken_chains++ == 0)
    gaps_->first_line = line_no;
  // Before a CPU's first switch, its prev is taken to have run since the trace began.
  if (!c.switched) {
    c.since = 0;
    start_task(k, sw.prev_pid, sw.prev_comm, sw.prev_prio, 0);
  }
  if (c.run_start >= 0) add_busy(k, c.run_start, t, c.run_prio);
  account(c.switched ? c.current : sw.prev_pid, c.since, t);
  c.switched = true;
  c.current = sw.next_pid;
  c.since = t;
  c.run_start = -1;
  c.run_suspended = false;
  start_task(k, sw.next_pid, sw.next_comm, sw.next_prio, t);
}

void Reader::on_irq(std::size_t k, bool entry, Tick t) {
  CpuState& c = cpus_[k];
  if (entry) {
    if (c.irq_depth++ > 0) return;
    c.irq_start = t;
    if (c.run_start >= 0) {  // the interrupt takes the CPU from the task that ran
      add_busy(k, c.run_start, t, c.run_prio);
      c.run_start = -1;
      c.run_suspended = true;
    }
    return;
  }
  if (c.irq_depth == 0) {
    if (gaps_) ++gaps_->unmatched_irq_exits;
    return;
  }
  if (--c.irq_depth > 0) return;
  add_irq(k, c.irq_start, t);
  if (c.run_suspended) {
    c.run_start = t;
    c.run_suspended = false;
  }
}

void Reader::finish(Tick end) {
  const bool every = sel_.trace_cpus.empty();
  for (std::size_t k = 0; k < cpus_.size(); ++k) {
    CpuState& c = cpus_[k];
    if (every) {
      if (!c.seen) continue;
      if (stats_) {
        stats_->cpus.push_back(static_cast<int>(k));
        if (!c.switched) stats_->cpus_without_switch.push_back(static_cast<int>(k));
      }
      if (!c.switched) {
        if (c.irq_depth > 0) add_irq(k, c.irq_start, end);
        if (c.has_irq) sink_.irq(k, c.irq.first, c.irq.second);
        continue;
      }
    }
    const std::string cpu = std::to_string(every ? static_cast<int>(k) : sel_.trace_cpus[k]);
    if (!c.seen)
      throw FtraceError(name_ + ": trace CPU " + cpu + " has no line before the window's end",
                        "trace_cpus that the recording covers");
    if (!c.switched)
      throw FtraceError(name_ + ": trace CPU " + cpu +
                            " has no sched_switch before the window's end, so what ran there "
                            "is unknown",
                        "trace_cpus with sched_switch lines");
    if (c.irq_depth > 0) add_irq(k, c.irq_start, end);
    if (c.run_start >= 0) add_busy(k, c.run_start, end, c.run_prio);
    account(c.current, c.since, end);
    if (c.has_busy) sink_.busy(k, c.busy);
    if (c.has_irq) sink_.irq(k, c.irq.first, c.irq.second);
  }
}

bool Reader::event_line(const std::string& text, ftrace::Line& l, std::string& expected) {
  if (format_ == TraceFormat::kAuto) {
    if (ftrace::parse_line(text, l).empty()) {
      format_ = TraceFormat::kFtrace;
      return true;
    }
    if (ftrace::parse_perf_line(text, l).empty()) {
      format_ = TraceFormat::kPerf;
      return true;
    }
    expected =
        "an event line of tracefs' or trace-cmd's text (COMM-PID [CPU] FLAGS SECONDS.FRACTION: "
        "EVENT: FIELDS) or of perf script (COMM PID [CPU] SECONDS.FRACTION: SUBSYSTEM:EVENT: "
        "FIELDS)";
    return false;
  }
  expected = format_ == TraceFormat::kPerf ? ftrace::parse_perf_line(text, l)
                                           : ftrace::parse_line(text, l);
  return expected.empty();
}

Tick Reader::run(std::istream& in) {
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
    if (format_ != TraceFormat::kFtrace && format_ != TraceFormat::kPerf &&
        ftrace::report_header(text)) {
      if (format_ == TraceFormat::kAuto) format_ = TraceFormat::kTraceCmd;
      continue;
    }
    const std::string where = name_ + ":" + std::to_string(line_no) + ": ";
    if (text.rfind("CPU:", 0) == 0 && text.find("LOST") != std::string::npos)
      throw FtraceError(where + sim::quote(text) + ": the recording lost events there, so what " +
                            "ran is unknown",
                        kFtraceNoLostEvents);
    ftrace::Line l;
    std::string expected;
    if (!event_line(text, l, expected))
      throw FtraceError(where + sim::quote(text) + " is not an event line", expected);
    if (stats_) ++stats_->lines;
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
    if (t >= window_end_) {  // everything the window needs is known
      past_window = true;
      break;
    }
    const int k = index_of(l.cpu);
    if (k >= 0) cpus_[static_cast<std::size_t>(k)].seen = true;
    if (irq_entry(l.event) || irq_exit(l.event)) {
      if (stats_) ++stats_->irq_events;
      if (k >= 0) on_irq(static_cast<std::size_t>(k), irq_entry(l.event), t);
      continue;
    }
    if (l.event != "sched_switch") continue;
    ftrace::Switch sw;
    expected = format_ == TraceFormat::kFtrace && sel_.format == TraceFormat::kFtrace
                   ? ftrace::parse_switch(l.fields, sw)
                   : ftrace::parse_any_switch(l.fields, sw);
    if (!expected.empty())
      throw FtraceError(where + sim::quote(l.fields) + " are not sched_switch fields", expected);
    ++switches;
    if (k >= 0) on_switch(static_cast<std::size_t>(k), sw, t, line_no);
  }
  if (in.bad()) throw FtraceError(name_ + ": cannot read the trace file", "a readable file");
  if (!have_origin)
    throw FtraceError(name_ + ": no event line", "a recording in text form (docs/host-trace.md)");
  if (switches == 0 && !past_window)
    throw FtraceError(name_ + ": no sched_switch line",
                      "a recording of the sched:sched_switch event (docs/host-trace.md)");
  const Tick end = past_window ? window_end_ : last;
  if (sel_.from >= end)
    throw FtraceError(name_ + ": the window is empty: from " + ftrace_seconds(sel_.from) +
                          " is not before the trace's last line, " + ftrace_seconds(last) +
                          " after its first",
                      "from below " + ftrace_seconds(last));
  if (!past_window && sel_.duration > 0)
    throw FtraceError(name_ + ": the window ends at " + ftrace_seconds(window_end_) +
                          ", after the trace's last line at " + ftrace_seconds(last),
                      "from + duration at most " + ftrace_seconds(last) + ", or duration 0 (to the end)");
  finish(end);
  if (stats_) {
    stats_->format = format_;
    stats_->switches = switches;
  }
  return end - sel_.from;
}

}  // namespace

Tick import_ftrace(std::istream& in, const std::string& name, const FtraceSelection& sel,
                   FtraceSink& sink, FtraceGaps* gaps, FtraceStats* stats) {
  return Reader(name, sel, sink, gaps, stats).run(in);
}

Recording import_ftrace(std::istream& in, const std::string& name, const FtraceSelection& sel,
                        FtraceGaps* gaps) {
  CollectingSink sink(sel.trace_cpus.size());
  Recording r;
  r.span = import_ftrace(in, name, sel, sink, gaps);
  r.cpus = std::move(sink.cpus);
  return r;
}

const char* trace_format_name(TraceFormat f) {
  switch (f) {
    case TraceFormat::kAuto: return "auto";
    case TraceFormat::kFtrace: return "ftrace";
    case TraceFormat::kTraceCmd: return "trace-cmd";
    case TraceFormat::kPerf: return "perf";
  }
  return "auto";
}

}  // namespace vcpusim::cpu
