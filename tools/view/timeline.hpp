// vcpusim timeline: a terminal Gantt chart of a --trace file.
#pragma once
#include <optional>
#include <string>

#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {

struct TimelineOptions {
  std::string from, to;  // durations, "" for the trace's own bounds
  std::string cpus;      // "pCPU0,vCPU1" or "p0,v1", "" for all rows
  std::string kinds;     // categories, "" for all
  std::string file;      // the trace's file name, for messages
  int width = 100;
  std::optional<int> around_violation;
  std::string at;  // a notable event (tools/view/notable.hpp): "N" or "KIND:N"; "" for none
  bool color = false;
};

// Throws sim::ConfigError for bad options or a file that is not a trace.
std::string render_timeline(const std::string& trace_json, const TimelineOptions& options);
// The same for a trace already parsed (tools/view/trace_view.hpp), to draw many windows of one.
std::string render_timeline(const TraceView& trace, const TimelineOptions& options);

}  // namespace vcpusim::tools
