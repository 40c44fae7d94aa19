#include "cpu/ftrace/trace_load.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <map>

#include "cpu/ftrace/fd_reader.hpp"
#include "cpu/ftrace/ftrace_import.hpp"
#include "cpu/ftrace/trace_recording_file.hpp"
#include "sim/config/scenario_file.hpp"

namespace vcpusim::cpu {
namespace {

using Pairs = std::vector<std::pair<Tick, Tick>>;

void require_unique_entries(const sim::Node& node, const sim::IntListParam& list, const char* what) {
  for (std::size_t i = 0; i < list.value.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (list.value[i] == list.value[j])
        node.at(list.name()).at(i).fail(std::to_string(list.value[i]) + " is listed twice",
                                        std::string("each ") + what + " once");
}

// An imported recording (vcpusim load import): the selection was applied when it was read.
void read_imported(LoadParams& p, const sim::Node& node, const std::string& name) {
  for (const char* key : {"exclude", "exclude_pids", "from", "duration"})
    if (node.has(key))
      node.at(key).fail(sim::quote(p.file.value) + " is an imported recording, whose selection " +
                            "was applied when it was imported",
                        "no exclude, exclude_pids, from or duration with an imported recording "
                        "(give them to vcpusim load import)");
  if (p.format.value != TraceFormat::kAuto)
    node.at("format").fail(sim::quote(p.file.value) + " is an imported recording",
                           "\"auto\" (the default) with an imported recording");
  p.trace_imported = true;
  const sim::Json doc = sim::load_json_file(name);
  std::vector<std::int64_t> trace_cpus(p.trace_cpus.value.begin(), p.trace_cpus.value.end());
  p.trace = read_recording_file(sim::Node(doc, name, "$"), trace_cpus, p.cpus.value.size());
  p.trace_cpus.value = trace_cpus;
}

// Sorted, overlapping and touching intervals merged.
Pairs merged(Pairs v) {
  std::sort(v.begin(), v.end());
  Pairs out;
  for (const auto& iv : v) {
    if (!out.empty() && iv.first <= out.back().second)
      out.back().second = std::max(out.back().second, iv.second);
    else
      out.push_back(iv);
  }
  return out;
}

}  // namespace

void read_trace_windows(LoadParams& p, const sim::Node& node) {
  if (!node.has("file"))
    node.fail("missing key \"file\"", "the path of the recording to replay");
  for (sim::ParamBase* param : std::initializer_list<sim::ParamBase*>{
           &p.file, &p.format, &p.trace_cpus, &p.exclude, &p.exclude_pids, &p.from,
           &p.duration, &p.mode, &p.offset, &p.repeat})
    if (node.has(param->name())) param->load(node.at(param->name()));
  const sim::Node file = node.at("file");
  if (p.file.value.empty()) file.fail("\"\" is empty", "the path of the recording to replay");
  if (p.cpus.value.empty()) return;  // refused by the caller, at cpus
  require_unique_entries(node, p.cpus, "pCPU");
  if (!p.trace_cpus.value.empty() && p.trace_cpus.value.size() != p.cpus.value.size())
    node.at("trace_cpus")
        .fail("has " + std::to_string(p.trace_cpus.value.size()) + " entries",
              "one trace CPU per pCPU of cpus (" + std::to_string(p.cpus.value.size()) + ")");
  require_unique_entries(node, p.trace_cpus, "trace CPU");

  namespace fs = std::filesystem;
  fs::path path(p.file.value);
  if (path.is_relative()) path = fs::path(node.file()).parent_path() / path;
  const std::string name = path.string();
  // The resolved scenario (result JSON, replay files) names it absolutely, so a replay file
  // written elsewhere still finds it.
  p.trace_path = fs::absolute(path).lexically_normal().string();
  // O_NONBLOCK: a FIFO must not block the open; only a regular file is read.
  const int fd = ::open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    file.fail(sim::quote(name) + ": cannot open the recording (" + std::strerror(errno) + ")",
              "a readable regular file");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    file.fail(sim::quote(name) + " is " + (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file"),
              "a regular file");
  }
  FdReader reader(fd);
  std::istream in(&reader);
  if (looks_like_recording_file(std::string(1, static_cast<char>(in.peek())))) {
    read_imported(p, node, name);
  } else {
    if (p.trace_cpus.value.empty())
      for (std::size_t k = 0; k < p.cpus.value.size(); ++k)
        p.trace_cpus.value.push_back(static_cast<std::int64_t>(k));
    FtraceSelection sel;
    sel.format = p.format.value;
    sel.trace_cpus.assign(p.trace_cpus.value.begin(), p.trace_cpus.value.end());
    sel.exclude = p.exclude.value;
    sel.exclude_pids = p.exclude_pids.value;
    sel.from = p.from.value;
    sel.duration = p.duration.value;
    FtraceGaps gaps;
    try {
      p.trace = import_ftrace(in, name, sel, &gaps);
    } catch (const FtraceError& e) {
      file.fail(e.what(), e.expected);
    }
    if (gaps.broken_chains > 0)
      p.trace_warning = file.file() + ": " + file.path() + ": " + name + ": " +
                        std::to_string(gaps.broken_chains) + " sched_switch lines (the first at line " +
                        std::to_string(gaps.first_line) +
                        ") leave a CPU from a task other than the one switched in there: the "
                        "recording misses events (a tracer that filters pids, or events lost without "
                        "a LOST line); each CPU's last task switched in is taken to have run until then";
  }
  if (p.offset.value >= p.trace.span)
    node.at("offset").fail(sim::quote(sim::format_duration(p.offset.value)) +
                               " is not inside the replayed window (" +
                               sim::format_duration(p.trace.span) + ")",
                           "an offset below " + sim::format_duration(p.trace.span));
}

Pairs rotate_window(const Pairs& in, Tick offset, Tick span) {
  if (offset == 0) return in;
  Pairs after, before;
  for (const auto& [s, e] : in) {
    if (e <= offset) {
      before.emplace_back(s + span - offset, e + span - offset);
    } else if (s >= offset) {
      after.emplace_back(s - offset, e - offset);
    } else {  // cut where the offset falls
      before.emplace_back(s + span - offset, span);
      after.emplace_back(0, e - offset);
    }
  }
  after.insert(after.end(), before.begin(), before.end());
  return after;
}

std::vector<TraceThreadPlan> plan_trace_load(const LoadParams& p, const std::string& name) {
  std::vector<TraceThreadPlan> out;
  const std::size_t n = p.cpus.value.size();
  const int own_nice = static_cast<int>(p.nice.value);
  for (std::size_t k = 0; k < n; ++k) {
    const CpuRecording& rec = p.trace.cpus.at(k);
    const std::string base = n == 1 ? name : name + "." + std::to_string(k);
    Pairs reserve = rec.irq;
    std::map<int, Pairs> demand;  // by nice
    for (const TraceBusy& b : rec.busy) {
      // Real-time and deadline threads preempt every fair one: taken as reservations.
      if (b.prio < 100 || p.mode.value == TraceMode::kReserve) {
        reserve.emplace_back(b.start, b.end);
        continue;
      }
      const int nice = std::clamp(b.prio - 120 + own_nice, -20, 19);
      demand[nice].emplace_back(b.start, b.end);
    }
    TraceThreadPlan first;
    first.name = base;
    first.pcpu = static_cast<int>(p.cpus.value[k]);
    first.nice = own_nice;
    first.period = p.repeat.value ? p.trace.span : 0;
    first.reserve = merged(rotate_window(merged(std::move(reserve)), p.offset.value, p.trace.span));
    if (auto it = demand.find(own_nice); it != demand.end()) {
      first.demand = rotate_window(it->second, p.offset.value, p.trace.span);
      demand.erase(it);
    }
    out.push_back(std::move(first));
    for (auto& [nice, list] : demand) {
      TraceThreadPlan t;
      t.name = base + ".nice" + std::to_string(nice);
      t.pcpu = out.back().pcpu;
      t.nice = nice;
      t.period = out.back().period;
      t.demand = rotate_window(list, p.offset.value, p.trace.span);
      out.push_back(std::move(t));
    }
  }
  return out;
}

TraceLoadThread::TraceLoadThread(int id, TraceThreadPlan plan, sim::Kernel& kernel,
                                 HostScheduler& scheduler)
    : HostThread(id, Kind::kLoad, plan.name, {plan.pcpu}, plan.nice),
      plan_(std::move(plan)),
      kernel_(kernel),
      scheduler_(scheduler),
      demand_{&plan_.demand},
      reserve_{&plan_.reserve} {}

void TraceLoadThread::start() {
  arm(reserve_, true);
  arm(demand_, false);
}

void TraceLoadThread::arm(Cursor& c, bool reserve) {
  if (c.list->empty()) return;
  if (c.next >= c.list->size()) {
    if (plan_.period == 0) return;
    c.next = 0;
    c.base += plan_.period;
  }
  const auto [start, end] = (*c.list)[c.next++];
  const Tick s = c.base + start, e = c.base + end;
  if (s >= sim::kForever / 2) return;
  kernel_.at(s, sim::Phase::kHost, component(), [this, &c, reserve, s, e] {
    if (reserve)
      scheduler_.steal(plan_.pcpu, e);
    else
      arrive_demand(e - s);
    arm(c, reserve);
  });
}

void TraceLoadThread::arrive_demand(Tick length) {
  if (state() == ThreadState::kSleeping) {
    scheduler_.set_work(*this, length);  // before the wake-up, which may dispatch it
    scheduler_.wake(*this);
  } else {  // still busy with an earlier interval (a vCPU delayed it): queued behind
    scheduler_.set_work(*this, scheduler_.work_left(*this) + length);
  }
}

void TraceLoadThread::on_work_done() {
  scheduler_.sleep(*this);
}

}  // namespace vcpusim::cpu
