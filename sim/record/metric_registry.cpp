#include "sim/record/metric_registry.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "sim/error.hpp"

namespace vcpusim::sim {
namespace {

constexpr const char* kNumber = "<N>";
constexpr std::size_t kNumberLen = 3;

bool at_number(const std::string& p, std::size_t i) {
  return p.compare(i, kNumberLen, kNumber) == 0;
}

// The words of the {...} group opening at `open`, and the index past its '}'.
std::vector<std::string> words_at(const std::string& p, std::size_t open, std::size_t& past) {
  const std::size_t close = p.find('}', open);
  if (close == std::string::npos) throw SimError("metric pattern " + p + ": '{' is not closed");
  std::vector<std::string> words;
  std::size_t start = open + 1;
  for (std::size_t i = start; i <= close; ++i)
    if (i == close || p[i] == ',') {
      words.push_back(p.substr(start, i - start));
      start = i + 1;
    }
  past = close + 1;
  return words;
}

// Backtracking match of p[i..] against s[j..]: short names, a handful of placeholders.
bool match(const std::string& p, std::size_t i, const std::string& s, std::size_t j) {
  if (i == p.size()) return j == s.size();
  if (at_number(p, i)) {
    for (std::size_t k = j; k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])); ++k)
      if (match(p, i + kNumberLen, s, k + 1)) return true;
    return false;
  }
  if (p[i] == '{') {
    std::size_t past = 0;
    for (const std::string& w : words_at(p, i, past))
      if (match(w + p.substr(past), 0, s, j)) return true;
    return false;
  }
  return j < s.size() && p[i] == s[j] && match(p, i + 1, s, j + 1);
}

// The pattern with its {...} groups expanded: one string per choice of words, <N> kept.
std::vector<std::string> expand(const std::string& p) {
  const std::size_t open = p.find('{');
  if (open == std::string::npos) return {p};
  std::size_t past = 0;
  std::vector<std::string> out;
  for (const std::string& w : words_at(p, open, past))
    for (const std::string& rest : expand(p.substr(past)))
      out.push_back(p.substr(0, open) + w + rest);
  return out;
}

// Edit distance between `s` and a candidate in which each <N> stands for one or more digits
// (free when `s` has digits there, one edit when it has none).
std::size_t distance(const std::string& s, const std::string& candidate) {
  struct Token {
    char c;
    bool number;
  };
  std::vector<Token> t;
  for (std::size_t i = 0; i < candidate.size();) {
    if (at_number(candidate, i)) {
      t.push_back({0, true});
      i += kNumberLen;
    } else {
      t.push_back({candidate[i++], false});
    }
  }
  const std::size_t inf = std::numeric_limits<std::size_t>::max() / 2;
  std::vector<std::vector<std::size_t>> d(s.size() + 1,
                                          std::vector<std::size_t>(t.size() + 1, inf));
  d[0][0] = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    for (std::size_t j = 0; j <= t.size(); ++j) {
      std::size_t& v = d[i][j];
      if (i > 0) v = std::min(v, d[i - 1][j] + 1);  // a character of s left out
      if (j > 0) v = std::min(v, d[i][j - 1] + 1);  // a token of the candidate missing
      if (i == 0 || j == 0) continue;
      const Token& k = t[j - 1];
      if (k.number) {
        if (std::isdigit(static_cast<unsigned char>(s[i - 1])))
          v = std::min({v, d[i - 1][j - 1], d[i - 1][j]});
      } else {
        v = std::min(v, d[i - 1][j - 1] + (s[i - 1] == k.c ? 0 : 1));
      }
    }
  return d[s.size()][t.size()];
}

// The placeholders of a pattern (each <N> and each {...} outside braces), in order.
std::size_t placeholders(const std::string& p) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < p.size();) {
    if (at_number(p, i)) {
      ++n;
      i += kNumberLen;
    } else if (p[i] == '{') {
      ++n;
      i = p.find('}', i) + 1;
    } else {
      ++i;
    }
  }
  return n;
}

}  // namespace

const std::vector<std::string>& summary_parts() {
  static const std::vector<std::string> parts = {"count", "min", "p50", "p99", "max"};
  return parts;
}

void check_metric_pattern(const std::string& p) {
  if (p.empty()) throw SimError("a metric is declared without a name");
  bool in_braces = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '{') {
      if (in_braces) throw SimError("metric pattern " + p + ": '{' inside '{...}'");
      in_braces = true;
      std::size_t past = 0;
      for (const std::string& w : words_at(p, i, past))
        if (w.empty()) throw SimError("metric pattern " + p + ": an empty word in '{...}'");
    } else if (c == '}') {
      if (!in_braces) throw SimError("metric pattern " + p + ": '}' without '{'");
      in_braces = false;
    } else if (c == '<' && !at_number(p, i)) {
      throw SimError("metric pattern " + p + ": '<' opens no <N>");
    } else if (c == '<') {
      i += kNumberLen - 1;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                 (c == ',' && in_braces))) {
      throw SimError("metric pattern " + p + ": character '" + std::string(1, c) +
                     "' is not allowed in a metric name");
    }
  }
}

bool metric_pattern_matches(const std::string& pattern, const std::string& name) {
  return match(pattern, 0, name, 0);
}

std::string MetricMatch::unit() const {
  return part == "count" ? "samples" : spec->unit;
}

bool MetricMatch::numeric() const {
  return spec->shape == MetricShape::kNumber || spec->shape == MetricShape::kSummary;
}

std::vector<MetricMatch> resolve_metric(const MetricRegistry& registry, const std::string& name) {
  std::vector<MetricMatch> out;
  for (const MetricSpec& spec : registry.entries()) {
    if (spec.shape != MetricShape::kSummary) {
      if (metric_pattern_matches(spec.name, name)) out.push_back({&spec, ""});
      continue;
    }
    for (const std::string& part : summary_parts()) {
      const std::string tail = "." + part;
      if (name.size() > tail.size() &&
          name.compare(name.size() - tail.size(), tail.size(), tail) == 0 &&
          metric_pattern_matches(spec.name, name.substr(0, name.size() - tail.size())))
        out.push_back({&spec, part});
    }
  }
  return out;
}

std::string nearest_metric(const MetricRegistry& registry, const std::string& name) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  auto consider = [&](const std::string& candidate) {
    const std::size_t d = distance(name, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  };
  for (const MetricSpec& spec : registry.entries())
    for (const std::string& c : expand(spec.name)) {
      if (spec.shape != MetricShape::kSummary) {
        consider(c);
        continue;
      }
      for (const std::string& part : summary_parts()) consider(c + "." + part);
    }
  return best;
}

MetricMatch require_numeric_metric(const Node& where, const std::string& name,
                                   const MetricRegistry& registry) {
  const std::vector<MetricMatch> found = resolve_metric(registry, name);
  if (found.empty())
    where.fail(
        quote(name) + " is not a metric (nearest: " + quote(nearest_metric(registry, name)) + ")",
        "a metric `vcpusim metrics` lists (docs/metrics.md)");
  if (!found.front().numeric())
    where.fail(quote(name) + " is not a number (" + found.front().spec->doc + ")",
               "a numeric metric `vcpusim metrics` lists (docs/metrics.md)");
  return found.front();
}

Metric::Metric(MetricGroup& group, const char* name, const char* unit, const char* doc,
               MetricShape shape)
    : spec_{name, unit, doc, shape, group.name()} {
  check_metric_pattern(spec_.name);
  group.metrics_.push_back(this);
}

std::string Metric::name(const std::vector<std::string>& args) const {
  const std::string& p = spec_.name;
  if (args.size() != placeholders(p))
    throw SimError("metric " + p + " is emitted with " + std::to_string(args.size()) +
                   " placeholder values");
  std::string out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < p.size();) {
    if (at_number(p, i)) {
      out += args[next++];
      i += kNumberLen;
    } else if (p[i] == '{') {
      out += args[next++];
      i = p.find('}', i) + 1;
    } else {
      out += p[i++];
    }
  }
  if (!metric_pattern_matches(p, out))
    throw SimError("metric " + p + " is emitted as " + out + ", a name it does not declare");
  return out;
}

void Counter::collect(Metrics& out) const {
  out.set(*this, value_);
}

void Distribution::collect(Metrics& out) const {
  out.set_summary(*this, samples_);
}

void MetricGroup::declare(MetricRegistry& registry) const {
  for (const Metric* m : metrics_) registry.add(m->spec());
}

void MetricGroup::collect(Metrics& out) const {
  for (const Metric* m : metrics_) m->collect(out);
}

}  // namespace vcpusim::sim
