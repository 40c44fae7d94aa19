#include "sim/config/scenario_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "sim/error.hpp"

namespace vcpusim::sim {
namespace {

// Line and column of a byte offset, counted as nlohmann/json counts them in its parse errors.
std::string line_column(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start);
}

// Offset of the first bracket opening level kMaxJsonDepth + 1 of JSON text, or npos: where the
// parser stopped when StrictParse threw TooDeep (the text before it parsed, so the scan agrees).
std::size_t too_deep(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

// Where the parser stops. nlohmann/json reports a number overflow ("1e400") as out_of_range,
// which carries no position; this SAX handler only records the offset of the error.
struct ErrorLocator final : nlohmann::json_sax<Json> {
  std::size_t offset = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    offset = position;
    return false;
  }
};

// Strips nlohmann/json's "[json.exception.xxx.nnn] " prefix.
std::string plain(const Json::exception& e) {
  std::string what = e.what();
  const auto close = what.find("] ");
  if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
    what = what.substr(close + 2);
  return what;
}

// Thrown by StrictParse when a bracket opens level kMaxJsonDepth + 1; the caller knows where.
struct TooDeep {};

// The parser callback of every reader: rejects an object key given twice (nlohmann/json would
// keep the last silently), and stops at the first bracket deeper than `max_depth` levels, before
// the document is built further (a 10 MB file of brackets once cost 1 GB of DOM before the depth
// was checked).
class StrictParse {
 public:
  // `where` names the text in messages ("FILE", "FILE: --set ..."); `root` is the JSON path of
  // the text's top level ("$", or the path a --set value goes to).
  StrictParse(std::string where, std::string root, int max_depth)
      : where_(std::move(where)), root_(std::move(root)), max_depth_(max_depth) {}
  bool operator()(int depth, Json::parse_event_t event, Json& parsed) {
    using E = Json::parse_event_t;
    if (event == E::object_start || event == E::array_start) {
      // `depth` counts the containers already open, so this one is level depth + 1.
      if (depth >= max_depth_) throw TooDeep{};
      frames_->push_back({event == E::array_start, 0, {}, {}});
    } else if (event == E::object_end || event == E::array_end) {
      frames_->pop_back();
      element_done();
    } else if (event == E::key) {
      Frame& f = frames_->back();
      f.key = parsed.get<std::string>();
      if (!f.keys.insert(f.key).second)
        throw ConfigError(where_ + ": " + path() + ": key " + quote(f.key) +
                          " appears twice in one object; allowed: each key once");
    } else if (event == E::value) {
      element_done();
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;
    std::set<std::string> keys;
    std::string key;
  };
  void element_done() {
    if (!frames_->empty() && frames_->back().array) ++frames_->back().index;
  }
  std::string path() const {
    std::string p = root_;
    for (std::size_t i = 0; i + 1 < frames_->size(); ++i) {
      const Frame& f = (*frames_)[i];
      p += f.array ? "[" + std::to_string(f.index) + "]" : "." + f.key;
    }
    return p;
  }
  std::string where_;
  std::string root_;
  int max_depth_;
  // Shared: nlohmann/json copies the callback.
  std::shared_ptr<std::vector<Frame>> frames_ = std::make_shared<std::vector<Frame>>();
};

}  // namespace

std::string read_input_file(const std::string& path, const std::string& what) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw ConfigError(path + ": cannot open the " + what + " file (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ConfigError(path + ": cannot open the " + what + " file: it is " +
                      (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file") +
                      "; allowed: a regular file");
  }
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw ConfigError(path + ": cannot read the " + what + " file (" + std::strerror(e) + ")");
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

Json load_json_file(const std::string& path) {
  return parse_json_text(read_input_file(path, "scenario"), path);
}

Json parse_json_text(const std::string& text, const std::string& path) {
  const auto nul = text.find('\0');
  if (nul != std::string::npos)
    throw ConfigError(path + ": $: invalid JSON: a NUL byte at " + line_column(text, nul) +
                      "; allowed: UTF-8 JSON text without NUL bytes");
  const std::string limit = std::to_string(kMaxJsonDepth);
  try {
    return Json::parse(text, StrictParse(path, "$", kMaxJsonDepth));
  } catch (const TooDeep&) {
    throw ConfigError(path + ": $: invalid JSON: nesting deeper than " + limit + " levels at " +
                      line_column(text, too_deep(text) + 1) + "; allowed: at most " + limit +
                      " nested arrays and objects");
  } catch (const Json::parse_error& e) {
    throw ConfigError(path + ": $: invalid JSON: " + plain(e));
  } catch (const Json::exception& e) {  // number overflow
    ErrorLocator locator;
    Json::sax_parse(text, &locator);
    throw ConfigError(path + ": $: invalid JSON: parse error at " +
                      line_column(text, locator.offset) + ": " + plain(e) +
                      "; allowed: numbers of magnitude below 1.7e308");
  }
}

void apply_override(Json& root, const std::string& assignment, const std::string& file) {
  const std::string where = file + ": --set " + quote(assignment);
  try {
    (void)Json(assignment).dump();
  } catch (const Json::type_error&) {
    throw ConfigError(where + ": is not valid UTF-8; allowed: UTF-8 text");
  }
  const char* const kForm = "allowed: PATH=VALUE, e.g. guest.timekeeping.variant=reanchor";
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) throw ConfigError(where + ": has no \"=\"; " + kForm);
  std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (path.rfind("$.", 0) == 0) path = path.substr(2);
  // Split "a.b[0].c" into a, b, 0, c: names joined by dots, array indices in brackets.
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < path.size();) {
    if (path[i] == '[') {
      const auto close = path.find(']', i);
      const std::string index = path.substr(i + 1, close == std::string::npos ? 0 : close - i - 1);
      if (close == std::string::npos || index.empty() ||
          index.find_first_not_of("0123456789") != std::string::npos)
        throw ConfigError(where + ": PATH has a bad index at character " + std::to_string(i + 1) +
                          "; allowed: [N] with a decimal N, e.g. host.load[0].busy");
      parts.push_back(index);
      i = close + 1;
    } else {
      if (!parts.empty() && path[i] != '.')
        throw ConfigError(where + ": PATH needs \".\" or \"[\" at character " +
                          std::to_string(i + 1) + "; " + kForm);
      if (!parts.empty()) ++i;
      const auto stop = std::min(path.find_first_of(".[]", i), path.size());
      if (stop == i)
        throw ConfigError(where + ": PATH has an empty name at character " + std::to_string(i + 1) +
                          "; " + kForm);
      parts.push_back(path.substr(i, stop - i));
      i = stop;
    }
    if (parts.size() > static_cast<std::size_t>(kMaxJsonDepth))
      throw ConfigError(where + ": PATH is deeper than " + std::to_string(kMaxJsonDepth) +
                        " levels; allowed: at most " + std::to_string(kMaxJsonDepth));
  }
  if (parts.empty()) throw ConfigError(where + ": has an empty PATH; " + kForm);
  // The value goes inside the root object and parts.size() - 1 more containers: the scenario as
  // a whole nests at most kMaxJsonDepth levels, as a file may.
  const int room = kMaxJsonDepth - static_cast<int>(parts.size());
  Json value;
  try {
    value = Json::parse(text, StrictParse(where, "$." + path, room));
  } catch (const TooDeep&) {
    throw ConfigError(where + ": VALUE nests deeper than " + std::to_string(room) +
                      " levels under a PATH of " + std::to_string(parts.size()) +
                      " levels; allowed: at most " + std::to_string(kMaxJsonDepth) +
                      " nested arrays and objects in all");
  } catch (const Json::exception&) {  // a syntax error, or a number overflow such as 1e400
    value = text;
  }
  Json* node = &root;
  std::string shown = "$";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    const bool last = i + 1 == parts.size();
    if (node->is_array()) {
      const std::string indices = node->empty()
                                      ? "no index (the array is empty)"
                                      : "an index from 0 to " + std::to_string(node->size() - 1) +
                                            " (the array has " + std::to_string(node->size()) +
                                            (node->size() == 1 ? " entry)" : " entries)");
      std::size_t idx = 0;
      try {
        std::size_t used = 0;
        if (key.empty() || key[0] < '0' || key[0] > '9') throw std::invalid_argument(key);
        idx = std::stoul(key, &used);
        if (used != key.size()) throw std::invalid_argument(key);
      } catch (const std::exception&) {
        throw ConfigError(file + ": " + shown + ": " + quote(key) +
                          " is not an index of this array (in --set " + quote(assignment) +
                          "); allowed: " + indices);
      }
      if (idx >= node->size())
        throw ConfigError(file + ": " + shown + "[" + key + "]: index " + key +
                          " is out of range (in --set " + quote(assignment) +
                          "); allowed: " + indices);
      shown += "[" + key + "]";
      node = &(*node)[idx];
    } else {
      if (!node->is_object()) {
        if (!node->is_null())
          throw ConfigError(file + ": " + shown + ": " + describe(*node) + " has no member " +
                            quote(key) + " (in --set " + quote(assignment) +
                            "); allowed: a PATH through objects and arrays");
        *node = Json::object();
      }
      shown += "." + key;
      node = &(*node)[key];
    }
    if (last) *node = value;
  }
}

}  // namespace vcpusim::sim
