// vcpusim report: one self-contained HTML page of a run (no network fetches).
#pragma once
#include <string>

namespace vcpusim::tools {

// result_json: the file written by run --json; trace_json: run --trace output or "".
std::string render_report(const std::string& result_json, const std::string& trace_json);

}  // namespace vcpusim::tools
