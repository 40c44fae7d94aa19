// Reads a Chrome Trace Event JSON written by vcpusim run --trace back into lanes, nested slices,
// instants and async spans, for the terminal timeline and the HTML report.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "guest/trace_lanes.hpp"
#include "sim/time.hpp"

namespace vcpusim::tools {

struct ViewSlice {
  sim::Tick start = 0;
  sim::Tick end = 0;
  int depth = 0;
  std::string name;
  std::string cat;
};

struct ViewInstant {
  sim::Tick t = 0;
  std::string name;
  std::string cat;
  nlohmann::json args;
};

struct ViewRead {  // a clock read instant ("vdso read", "ktime read"), kept compact
  sim::Tick t = 0;
  std::int64_t value_ns = 0;
  std::int64_t latency_ns = 0;
  std::string name;
};

// Within this of a violation the default trace has every read one by one (besides the counter).
constexpr sim::Tick kSingleReadsAround = guest::GuestTraceVocabulary::kReadsAround;

struct ViewReadBin {  // from the "clock reads vCPUn" counter: reads between start and end
  sim::Tick start = 0;
  sim::Tick end = 0;
  std::int64_t count = 0;
};

struct ViewLane {
  int pid = 0;
  int tid = 0;
  std::string name;  // pCPU0.., vCPU0..
  int sort = 0;
  bool pcpu = false;
  std::vector<ViewSlice> slices;       // in start order
  std::vector<ViewInstant> instants;   // all but the reads
  std::vector<ViewRead> reads;         // one by one (all, or those near a violation)
  std::vector<ViewReadBin> read_bins;  // counted (the default trace, docs/trace.md)
};

struct ViewSpan {  // async span (timekeeping update, lock hold, seqcount write)
  sim::Tick start = 0;
  sim::Tick end = 0;
  std::string name;
  std::string cat;
  int tid = 0;
};

struct ViewFlow {
  sim::Tick start = 0;
  sim::Tick end = 0;
  std::string name;
  int from_tid = 0;
  int to_tid = 0;
};

struct TraceView {
  std::string title;
  sim::Tick begin = 0;
  sim::Tick end = 0;
  std::vector<ViewLane> lanes;  // pCPUs then vCPUs (thread sort order)
  std::vector<ViewSpan> spans;
  std::vector<ViewFlow> flows;
  std::vector<ViewInstant> violations;  // also in their lane's instants
  const ViewLane* lane_by_tid(int tid) const;
};

// Throws sim::ConfigError when the text is not a trace from vcpusim run --trace; the message
// starts with `source` (the file name) when given. Every field is checked (sim::Node: JSON
// path, value, what is allowed); times lie within 0..1000 s; names come back with terminal
// control characters escaped (sim::printable). A trace must be whole: the JSON document complete,
// and one in vcpusim's layout must end with its closing line, else it is truncated (an error).
TraceView parse_trace(const std::string& text, const std::string& source = "");

// Microseconds (a trace timestamp) to integer picoseconds.
sim::Tick ts_to_tick(double us);

}  // namespace vcpusim::tools
