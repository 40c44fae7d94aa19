// The imported recording file `vcpusim load import` writes and a `trace` load replays
// (docs/host-trace.md): a recording read once, kept as JSON so scenarios stay small and
// replayable without the trace. Written as the reader streams (memory flat in the trace's
// length): the intervals first, as they close, then what is known only at the end.
//
//   {"intervals_ns": [[CPU, START, END, PRIO], [CPU, START, END], ...],  4 entries: a thread ran,
//                                                                        3: interrupt time
//    "vcpusim_recording": 1, "span_ns": N, "trace_cpus": [...],
//    "source": {"file", "bytes", "fnv1a64", "format"}, "selection": {...}, "load": {...}}
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cpu/ftrace/ftrace_import.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::cpu {

constexpr int kRecordingFileVersion = 1;

// Streams the intervals into `out` as the reader closes them.
class RecordingFileWriter final : public FtraceSink {
 public:
  // `cpus`: the trace CPU number of each reader index; empty: the index is the number.
  RecordingFileWriter(std::ostream& out, std::vector<int> cpus);
  void busy(std::size_t cpu, const TraceBusy& b) override;
  void irq(std::size_t cpu, sim::Tick start, sim::Tick end) override;
  // Ends the intervals and writes the rest: `tail` holds the members known at the end.
  void finish(const sim::Json& tail);

 private:
  void separator();
  int number(std::size_t k) const { return cpus_.empty() ? static_cast<int>(k) : cpus_.at(k); }
  std::ostream& out_;
  std::vector<int> cpus_;
  bool first_ = true;
};

// Reads an imported recording (`node` is its root, naming its file) for the trace CPUs
// `trace_cpus` (empty: the first `n`); fails at the offending JSON path.
Recording read_recording_file(const sim::Node& root, std::vector<std::int64_t>& trace_cpus,
                              std::size_t n);

// Whether the file's content is an imported recording rather than trace text: its first byte
// that is not white space is '{'.
bool looks_like_recording_file(const std::string& head);

}  // namespace vcpusim::cpu
