// Reading a scenario file and applying command-line overrides, with file/path/value errors.
#pragma once
#include <string>

#include "sim/config/config.hpp"

namespace vcpusim::sim {

// The deepest nesting of arrays and objects that parse_json_text and --set accept (scenarios
// nest about 5 deep). Deeper text is refused as the parser reaches it, before more of the document
// is built: copying or printing a value recurses once per level, and a file of brackets would
// otherwise cost about 100 bytes of memory per byte of input.
constexpr int kMaxJsonDepth = 100;

// The whole content of a regular file; anything else (a directory, FIFO, device) is refused with
// a ConfigError, so reading never blocks or runs out of memory. `what` names it: "scenario", ...
std::string read_input_file(const std::string& path, const std::string& what);

// Parses the file (no NUL bytes, no key given twice, at most kMaxJsonDepth levels); a missing
// file or a syntax error is a ConfigError naming file, line, column.
Json load_json_file(const std::string& path);
// The same checks on text already read; `path` names it in messages.
Json parse_json_text(const std::string& text, const std::string& path);

// Applies "a.b[0].c=VALUE" (or "a.b.0.c=VALUE"): VALUE is parsed as JSON when it is valid JSON,
// else taken as a string; as JSON it follows the file's rules (no key twice, the scenario at most
// kMaxJsonDepth levels deep with the PATH). Creates missing object keys (strict loading then
// judges them).
void apply_override(Json& root, const std::string& assignment, const std::string& file);

}  // namespace vcpusim::sim
