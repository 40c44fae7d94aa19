#include "sim/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "sim/error.hpp"

namespace vcpusim::sim {
namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const auto& s : items) q.push_back("\"" + s + "\"");
  return join(q, ", ");
}

// ".key" for plain keys (metric names contain dots), else ["key"] as in JSONPath.
std::string member_path(const std::string& key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
  return plain ? "." + key : "[" + quote(key) + "]";
}

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "an integer";
  }
}

}  // namespace

std::string quote(const std::string& s) {
  const bool cut = s.size() > 57;
  std::string q =
      Json(cut ? s.substr(0, 54) : s).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (cut) q.insert(q.size() - 1, "...");
  return q;
}

std::string printable(const std::string& s) {
  static const char* const kHex = "0123456789abcdef";
  auto byte = [&s](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned c = byte(i);
    // C1 (U+0080-U+009F) is C2 80..9F. The bidi embeddings and overrides (U+202A-U+202E) and
    // isolates (U+2066-U+2069), E2 8x xx, reorder what follows them on the line: a name holding
    // one could show as something other than what it is.
    const bool c1 = c == 0xc2 && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9f;
    const unsigned cp = 0x2000u | (byte(i + 1) & 0x3fu) << 6 | (byte(i + 2) & 0x3fu);
    const bool bidi = c == 0xe2 && byte(i + 1) >> 6 == 2 && byte(i + 2) >> 6 == 2 &&
                      ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
    if (c < 0x20 || c == 0x7f) {
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
    } else if (c1) {
      const unsigned d = byte(++i);
      out += std::string("\\u00") + kHex[d >> 4] + kHex[d & 15];
    } else if (bidi) {
      i += 2;
      out += std::string("\\u") + kHex[cp >> 12] + kHex[(cp >> 8) & 15] + kHex[(cp >> 4) & 15] +
             kHex[cp & 15];
    } else {
      out += s[i];
    }
  }
  return out;
}

namespace {

// Appends `v` as compact JSON until `out` is longer than `limit`: a huge value costs no more than
// its shown part, and the recursion stops kDepth levels down, where a whole dump of a document
// nested a million levels deep (a trace or result file) overflowed the stack.
void append_brief(const Json& v, std::string& out, std::size_t limit, int depth) {
  constexpr int kDepth = 32;  // more than fit in the shown characters
  const auto text = [](const std::string& s, std::size_t n) {
    return Json(s.substr(0, n)).dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  if (out.size() > limit) return;
  if (v.is_string()) {
    out += text(v.get_ref<const std::string&>(), limit + 1);
  } else if (!v.is_structured()) {
    out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
  } else if (depth >= kDepth && !v.empty()) {
    out += v.is_array() ? "[...]" : "{...}";
  } else {
    out += v.is_array() ? '[' : '{';
    for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
      if (it != v.begin()) out += ',';
      if (v.is_object()) out += text(it.key(), limit + 1) + ":";
      append_brief(*it, out, limit, depth + 1);
    }
    out += v.is_array() ? ']' : '}';
  }
}

}  // namespace

std::string describe(const Json& value) {
  std::string s;
  append_brief(value, s, 60, 0);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void Node::fail(const std::string& problem, const std::string& allowed) const {
  std::string msg = file_ + ": " + path_ + ": " + problem;
  if (!allowed.empty()) msg += "; allowed: " + allowed;
  throw ConfigError(msg);
}

bool Node::has(const std::string& key) const {
  return value_->is_object() && value_->contains(key);
}

Node Node::at(const std::string& key) const {
  require_object();
  auto it = value_->find(key);
  if (it == value_->end()) fail("missing key \"" + key + "\"", "an object with \"" + key + "\"");
  return Node(*it, file_, path_ + member_path(key));
}

std::optional<Node> Node::find(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return at(key);
}

Node Node::at(std::size_t index) const {
  require_array();
  if (index >= value_->size())
    fail("has no index " + std::to_string(index),
         "an array of more than " + std::to_string(index) + " entries");
  return Node((*value_)[index], file_, path_ + "[" + std::to_string(index) + "]");
}

std::size_t Node::size() const {
  require_array();
  return value_->size();
}

void Node::require_object() const {
  if (!value_->is_object()) fail(describe(*value_) + " is " + type_name(*value_), "an object");
}

void Node::require_array() const {
  if (!value_->is_array()) fail(describe(*value_) + " is " + type_name(*value_), "an array");
}

void Node::reject_unknown(const std::vector<std::string>& allowed) const {
  require_object();
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      std::vector<std::string> sorted = allowed;
      std::sort(sorted.begin(), sorted.end());
      fail("unknown key " + quote(it.key()), "keys " + quoted_list(sorted));
    }
  }
}

namespace {
// An integer literal beyond 64 bits (18446744073709551616) parses as a float: it is out of range,
// not "a number with a fraction".
bool beyond_64_bits(const Json& v) {
  return v.is_number_float() && std::fabs(v.get<double>()) >= 0x1p63;
}
}  // namespace

std::int64_t Node::as_int(std::int64_t lo, std::int64_t hi) const {
  const std::string allowed = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (beyond_64_bits(*value_)) fail(describe(*value_) + " is out of range", allowed);
  if (!value_->is_number_integer()) fail(describe(*value_) + " is " + type_name(*value_), allowed);
  std::int64_t v;
  if (value_->is_number_unsigned()) {
    const auto u = value_->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(INT64_MAX))
      fail(describe(*value_) + " is out of range", allowed);
    v = static_cast<std::int64_t>(u);
  } else {
    v = value_->get<std::int64_t>();
  }
  if (v < lo || v > hi) fail(describe(*value_) + " is out of range", allowed);
  return v;
}

std::uint64_t Node::as_uint(std::uint64_t lo, std::uint64_t hi) const {
  const std::string allowed = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (beyond_64_bits(*value_)) fail(describe(*value_) + " is out of range", allowed);
  if (!value_->is_number_integer()) fail(describe(*value_) + " is " + type_name(*value_), allowed);
  // A document built in code may hold a non-negative number as signed.
  if (!value_->is_number_unsigned() && value_->get<std::int64_t>() < 0)
    fail(describe(*value_) + " is out of range", allowed);
  const auto v = value_->get<std::uint64_t>();
  if (v < lo || v > hi) fail(describe(*value_) + " is out of range", allowed);
  return v;
}

double Node::as_real(double lo, double hi) const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "a number from %g to %g", lo, hi);
  if (!value_->is_number()) fail(describe(*value_) + " is " + type_name(*value_), buf);
  const double v = value_->get<double>();
  if (!(v >= lo && v <= hi)) fail(describe(*value_) + " is out of range", buf);
  return v;
}

bool Node::as_bool() const {
  if (!value_->is_boolean()) fail(describe(*value_) + " is " + type_name(*value_), "true or false");
  return value_->get<bool>();
}

std::string Node::as_string() const {
  if (!value_->is_string()) fail(describe(*value_) + " is " + type_name(*value_), "a string");
  return value_->get<std::string>();
}

std::string Node::as_enum(const std::vector<std::string>& choices) const {
  const std::string allowed = "one of " + quoted_list(choices);
  if (!value_->is_string()) fail(describe(*value_) + " is " + type_name(*value_), allowed);
  const auto v = value_->get<std::string>();
  if (std::find(choices.begin(), choices.end(), v) == choices.end())
    fail(describe(*value_) + " is not a known choice", allowed);
  return v;
}

Tick Node::as_duration(Tick lo, Tick hi) const {
  const std::string allowed = "a duration string from \"" + format_duration(lo) + "\" to \"" +
                              format_duration(hi) + "\" with a unit ps, ns, us, ms or s";
  if (!value_->is_string()) fail(describe(*value_) + " is " + type_name(*value_), allowed);
  const auto parsed = parse_duration(value_->get<std::string>());
  if (!parsed) fail(describe(*value_) + " is not a duration", allowed);
  if (*parsed < lo || *parsed > hi) fail(describe(*value_) + " is out of range", allowed);
  return *parsed;
}

std::int64_t Node::as_frequency(std::int64_t lo, std::int64_t hi) const {
  const std::string allowed = "a frequency string from \"" + format_frequency(lo) + "\" to \"" +
                              format_frequency(hi) + "\" with a unit Hz, kHz, MHz or GHz";
  if (!value_->is_string()) fail(describe(*value_) + " is " + type_name(*value_), allowed);
  const auto parsed = parse_frequency(value_->get<std::string>());
  if (!parsed) fail(describe(*value_) + " is not a frequency", allowed);
  if (*parsed < lo || *parsed > hi) fail(describe(*value_) + " is out of range", allowed);
  return *parsed;
}

ParamBase::ParamBase(ParamSet& owner, const char* name, const char* doc) : name_(name), doc_(doc) {
  owner.params_.push_back(this);
}

Json IntParam::schema() const {
  return {{"type", "integer"},
          {"minimum", lo_},
          {"maximum", hi_},
          {"default", value},
          {"description", doc()}};
}
Json RealParam::schema() const {
  return {{"type", "number"},
          {"minimum", lo_},
          {"maximum", hi_},
          {"default", value},
          {"description", doc()}};
}
Json BoolParam::schema() const {
  return {{"type", "boolean"}, {"default", value}, {"description", doc()}};
}
Json StringParam::schema() const {
  return {{"type", "string"}, {"default", value}, {"description", doc()}};
}
Json ChoiceParam::schema() const {
  return {{"enum", choices_}, {"default", value}, {"description", doc()}};
}
Json DurationParam::schema() const {
  return {{"type", "string"},
          {"pattern", "^[0-9]+(\\.[0-9]+)?(ps|ns|us|ms|s)$"},
          {"default", format_duration(value)},
          {"description",
           std::string(doc()) + " (" + format_duration(lo_) + " .. " + format_duration(hi_) + ")"}};
}
Json FrequencyParam::schema() const {
  return {{"type", "string"},
          {"pattern", "^[0-9]+(\\.[0-9]+)?(Hz|kHz|MHz|GHz)$"},
          {"default", format_frequency(value)},
          {"description", std::string(doc()) + " (" + format_frequency(lo_) + " .. " +
                              format_frequency(hi_) + ")"}};
}

void IntListParam::load(const Node& n) {
  n.require_array();
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n.size(); ++i) out.push_back(n.at(i).as_int(lo_, hi_));
  value = std::move(out);
}

Json IntListParam::schema() const {
  return {{"type", "array"},
          {"items", {{"type", "integer"}, {"minimum", lo_}, {"maximum", hi_}}},
          {"default", value},
          {"description", doc()}};
}

void StringListParam::load(const Node& n) {
  n.require_array();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const Node item = n.at(i);
    std::string v = item.as_string();
    if (v.empty() || v.size() > max_bytes_)
      item.fail("is " + std::to_string(v.size()) + " bytes long",
                "1 to " + std::to_string(max_bytes_) + " bytes");
    out.push_back(std::move(v));
  }
  value = std::move(out);
}

Json StringListParam::schema() const {
  return {{"type", "array"},
          {"items", {{"type", "string"}, {"minLength", 1}, {"maxLength", max_bytes_}}},
          {"default", value},
          {"description", doc()}};
}

void ParamSet::add_section(const char* name, ParamSet& section, const char* doc) {
  sections_.push_back(Section{name, &section, doc});
}

void ParamSet::exercising(const std::string& path, std::vector<Exercise>& out) const {
  for (const auto* p : params_)
    for (const auto& [choice, check] : p->exercising())
      out.push_back({path + "." + p->name(), choice, check});
  for (const auto& s : sections_) s.set->exercising(path + "." + s.name, out);
}

void ParamSet::selected_exercises(const Node& node, std::vector<Exercise>& out) const {
  if (!node.json().is_object()) return;
  for (const auto* p : params_)
    if (node.has(p->name()))
      if (const char* check = p->exercised())
        out.push_back({node.at(p->name()).path(), p->to_json().get<std::string>(), check});
  for (const auto& s : sections_)
    if (node.has(s.name)) s.set->selected_exercises(node.at(s.name), out);
}

void ParamSet::load(const Node& node) {
  load_with(node, {});
}

void ParamSet::load_with(const Node& node, const std::vector<std::string>& own) {
  std::vector<std::string> allowed = own;
  for (const auto* p : params_) allowed.emplace_back(p->name());
  for (const auto& s : sections_) allowed.emplace_back(s.name);
  node.reject_unknown(allowed);
  for (auto* p : params_)
    if (node.has(p->name())) p->load(node.at(p->name()));
  for (auto& s : sections_)
    if (node.has(s.name)) s.set->load(node.at(s.name));
  validate(node);
}

Json ParamSet::to_json() const {
  Json out = Json::object();
  for (const auto* p : params_) out[p->name()] = p->to_json();
  for (const auto& s : sections_) out[s.name] = s.set->to_json();
  return out;
}

Json ParamSet::schema() const {
  Json props = Json::object();
  for (const auto* p : params_) props[p->name()] = p->schema();
  for (const auto& s : sections_) {
    props[s.name] = s.set->schema();
    props[s.name]["description"] = s.doc;
  }
  return {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
}

}  // namespace vcpusim::sim
