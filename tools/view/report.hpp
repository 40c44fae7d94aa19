// vcpusim report: one self-contained HTML page of a run (no network fetches).
#pragma once
#include <string>

namespace vcpusim::tools {

// result_json: the file written by run --json; trace_json: run --trace output or "".
// result_file and trace_file name the inputs in messages.
std::string render_report(const std::string& result_json, const std::string& trace_json,
                          const std::string& result_file = "", const std::string& trace_file = "");

}  // namespace vcpusim::tools
