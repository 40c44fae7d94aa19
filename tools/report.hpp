// vcpusim report: one self-contained HTML page of a run (no network fetches).
#pragma once
#include <string>

namespace vcpusim::tools {

// result_json: the file written by run --json; trace_json: run --trace output or "".
// Throws sim::ConfigError naming the file, JSON path and value when an input is not what
// vcpusim run wrote.
std::string render_report(const std::string& result_json, const std::string& trace_json,
                          const std::string& result_file = "result",
                          const std::string& trace_file = "trace");

}  // namespace vcpusim::tools
