#include "sim/scenario_file.hpp"

#include <fstream>
#include <sstream>

#include "sim/error.hpp"

namespace vcpusim::sim {

Json load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open the scenario file (does it exist?)");
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    return Json::parse(buf.str());
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    const auto close = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos) what = what.substr(close + 2);
    throw ConfigError(path + ": $: invalid JSON: " + what);
  }
}

void apply_override(Json& root, const std::string& assignment, const std::string& file) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("--set \"" + assignment + "\": expected PATH=VALUE, e.g. guest.timekeeping.variant=reanchor");
  std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (path.rfind("$.", 0) == 0) path = path.substr(2);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error&) {
    value = text;
  }
  // Split "a.b[0].c" into a, b, 0, c.
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '.' || c == '[' || c == ']') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  if (parts.empty()) throw ConfigError("--set \"" + assignment + "\": empty path");
  Json* node = &root;
  std::string shown = "$";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    const bool last = i + 1 == parts.size();
    if (node->is_array()) {
      std::size_t idx = 0;
      try {
        std::size_t used = 0;
        idx = std::stoul(key, &used);
        if (used != key.size()) throw std::invalid_argument(key);
      } catch (const std::exception&) {
        throw ConfigError(file + ": --set " + shown + ": \"" + key + "\" is not an index of an array");
      }
      if (idx >= node->size())
        throw ConfigError(file + ": --set " + shown + "[" + key + "]: index out of range; the array has " +
                          std::to_string(node->size()) + " entries");
      shown += "[" + key + "]";
      node = &(*node)[idx];
    } else {
      if (!node->is_object()) {
        if (!node->is_null())
          throw ConfigError(file + ": --set " + shown + ": " + describe(*node) + " has no member \"" + key + "\"");
        *node = Json::object();
      }
      shown += "." + key;
      node = &(*node)[key];
    }
    if (last) *node = value;
  }
}

}  // namespace vcpusim::sim
