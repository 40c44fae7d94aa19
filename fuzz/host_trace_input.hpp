// What host_trace_fuzzer does with one input, shared with tests/robustness_test.cpp
// (FuzzRegressions) so that a committed finding replays exactly. The first byte picks the format
// (auto, ftrace, trace-cmd, perf) and whether trace CPUs 0 and 1 or every CPU are read; the rest
// is a host recording in text form, read as a trace load reads it
// (cpu/ftrace/ftrace_import.hpp), and, when it looks like JSON, as an imported recording
// (cpu/ftrace/trace_recording_file.hpp). Bad input must end in cpu::FtraceError or
// sim::ConfigError.
#pragma once
#include <sstream>
#include <string>

#include "cpu/ftrace/ftrace_import.hpp"
#include "cpu/ftrace/trace_recording_file.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"

namespace vcpusim::fuzz {

inline void read_host_trace_input(const std::string& input) {
  if (input.empty()) return;
  const auto mode = static_cast<unsigned char>(input[0]);
  const std::string text = input.substr(1);
  cpu::FtraceSelection sel;
  sel.format = static_cast<cpu::TraceFormat>(mode % 4);
  if ((mode / 4) % 2 == 0) sel.trace_cpus = {0, 1};
  sel.exclude = {"CPU */KVM"};
  try {
    std::istringstream in(text);
    const cpu::Recording r = cpu::import_ftrace(in, "fuzz.trace", sel);
    for (const cpu::CpuRecording& c : r.cpus) {
      for (const cpu::TraceBusy& b : c.busy)
        if (b.start < 0 || b.end <= b.start || b.end > r.span) std::abort();
      for (const auto& [s, e] : c.irq)
        if (s < 0 || e <= s || e > r.span) std::abort();
    }
  } catch (const cpu::FtraceError&) {
  }
  if (!cpu::looks_like_recording_file(text.substr(0, 64))) return;
  try {
    const sim::Json doc = sim::parse_json_text(text, "fuzz.json");
    std::vector<std::int64_t> cpus;
    (void)cpu::read_recording_file(sim::Node(doc, "fuzz.json", "$"), cpus, 1);
  } catch (const sim::ConfigError&) {
  }
}

}  // namespace vcpusim::fuzz
