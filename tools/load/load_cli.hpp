// The `load` command: `vcpusim load import TRACE -o OUT.json` reads a host recording once and
// writes the imported recording a `trace` host load replays (docs/host-trace.md).
#pragma once
#include <string>
#include <vector>

namespace vcpusim::tools {

int cmd_load(const std::vector<std::string>& args);

}  // namespace vcpusim::tools
