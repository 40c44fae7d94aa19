#include "cpu/ftrace/trace_recording_file.hpp"

#include <algorithm>

#include "cpu/params.hpp"

namespace vcpusim::cpu {

RecordingFileWriter::RecordingFileWriter(std::ostream& out, std::vector<int> cpus)
    : out_(out), cpus_(std::move(cpus)) {
  out_ << "{\"intervals_ns\": [";
}

void RecordingFileWriter::separator() {
  out_ << (first_ ? "\n" : ",\n");
  first_ = false;
}

// Whole nanoseconds: every format's stamps are (ftrace prints microseconds, trace-cmd and perf
// at most nanoseconds).
void RecordingFileWriter::busy(std::size_t cpu, const TraceBusy& b) {
  if (b.end / sim::kNanosecond <= b.start / sim::kNanosecond) return;  // below a nanosecond
  separator();
  out_ << '[' << number(cpu) << ',' << b.start / sim::kNanosecond << ',' << b.end / sim::kNanosecond << ','
       << b.prio << ']';
}

void RecordingFileWriter::irq(std::size_t cpu, sim::Tick start, sim::Tick end) {
  if (end / sim::kNanosecond <= start / sim::kNanosecond) return;
  separator();
  out_ << '[' << number(cpu) << ',' << start / sim::kNanosecond << ',' << end / sim::kNanosecond << ']';
}

void RecordingFileWriter::finish(const sim::Json& tail) {
  out_ << "\n]";
  for (const auto& [key, value] : tail.items()) out_ << ",\n\"" << key << "\": " << value.dump();
  out_ << "\n}\n";
}

bool looks_like_recording_file(const std::string& head) {
  const auto it = std::find_if(head.begin(), head.end(), [](char c) {
    return c != ' ' && c != '\n' && c != '\t' && c != '\r';
  });
  return it != head.end() && *it == '{';
}

Recording read_recording_file(const sim::Node& root, std::vector<std::int64_t>& trace_cpus,
                              std::size_t n) {
  root.require_object();
  root.reject_unknown(
      {"intervals_ns", "load", "selection", "source", "span_ns", "summary", "trace_cpus",
       "vcpusim_recording"});
  for (const char* key : {"intervals_ns", "span_ns", "trace_cpus", "vcpusim_recording"})
    if (!root.has(key))
      root.fail(std::string("missing key \"") + key + "\"",
                "an imported recording as vcpusim load import writes it");
  root.at("vcpusim_recording").as_int(kRecordingFileVersion, kRecordingFileVersion);
  const sim::Tick span = root.at("span_ns").as_int(1, kMaxTraceWindow / sim::kNanosecond) *
                         sim::kNanosecond;
  const sim::Node cpus_node = root.at("trace_cpus");
  cpus_node.require_array();
  std::vector<std::int64_t> recorded;
  for (std::size_t i = 0; i < cpus_node.size(); ++i)
    recorded.push_back(cpus_node.at(i).as_int(0, 65535));
  if (trace_cpus.empty()) {
    if (recorded.size() < n)
      cpus_node.fail("has " + std::to_string(recorded.size()) + " trace CPUs",
                     "at least one per pCPU of the load's cpus (" + std::to_string(n) + ")");
    trace_cpus.assign(recorded.begin(), recorded.begin() + static_cast<std::ptrdiff_t>(n));
  }
  std::vector<int> index_of(recorded.size(), -1);  // recorded index -> the load's index
  for (std::size_t k = 0; k < trace_cpus.size(); ++k) {
    const auto it = std::find(recorded.begin(), recorded.end(), trace_cpus[k]);
    if (it == recorded.end())
      cpus_node.fail("does not hold trace CPU " + std::to_string(trace_cpus[k]),
                     "trace_cpus among the imported ones");
    index_of[static_cast<std::size_t>(it - recorded.begin())] = static_cast<int>(k);
  }
  Recording r;
  r.span = span;
  r.cpus.resize(trace_cpus.size());
  const sim::Node list = root.at("intervals_ns");
  list.require_array();
  const std::int64_t span_ns = span / sim::kNanosecond;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const sim::Node item = list.at(i);
    item.require_array();
    if (item.size() != 3 && item.size() != 4)
      item.fail(sim::describe(item.json()) + " has " + std::to_string(item.size()) + " entries",
                "[CPU, START, END] (interrupt time) or [CPU, START, END, PRIO] (a thread ran)");
    const std::int64_t number = item.at(std::size_t{0}).as_int(0, 65535);
    const auto it = std::find(recorded.begin(), recorded.end(), number);
    if (it == recorded.end())
      item.at(std::size_t{0}).fail(std::to_string(number) + " is not in trace_cpus",
                                   "a trace CPU the file lists in trace_cpus");
    const auto k = static_cast<std::size_t>(it - recorded.begin());
    const sim::Tick start = item.at(1).as_int(0, span_ns - 1) * sim::kNanosecond;
    const sim::Tick end = item.at(2).as_int(1, span_ns) * sim::kNanosecond;
    if (end <= start) item.fail(sim::describe(item.json()) + " is empty", "START < END");
    if (index_of[k] < 0) continue;
    CpuRecording& c = r.cpus[static_cast<std::size_t>(index_of[k])];
    const sim::Tick last = item.size() == 4 ? (c.busy.empty() ? 0 : c.busy.back().end)
                                            : (c.irq.empty() ? 0 : c.irq.back().second);
    if (start < last)
      item.fail(sim::describe(item.json()) + " starts before the CPU's previous one ends",
                "each CPU's intervals of a kind in time order");
    if (item.size() == 4)
      c.busy.push_back({start, end, static_cast<int>(item.at(3).as_int(-1, 139))});
    else
      c.irq.emplace_back(start, end);
  }
  return r;
}

}  // namespace vcpusim::cpu
