// Reading a scenario file and applying command-line overrides, with file/path/value errors.
#pragma once
#include <string>

#include "sim/config.hpp"

namespace vcpusim::sim {

// Parses the file; a missing file or a syntax error is a ConfigError naming file, line, column.
Json load_json_file(const std::string& path);

// Applies "a.b[0].c=VALUE" (or "a.b.0.c=VALUE"): VALUE is parsed as JSON when it is valid JSON,
// else taken as a string. Creates missing object keys (strict loading then judges them).
void apply_override(Json& root, const std::string& assignment, const std::string& file);

}  // namespace vcpusim::sim
