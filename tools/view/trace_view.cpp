#include "tools/view/trace_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

#include "sim/config/config.hpp"
#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {

sim::Tick ts_to_tick(double us) {
  return static_cast<sim::Tick>(std::llround(us * 1e6));
}

const ViewLane* TraceView::lane_by_tid(int tid) const {
  for (const auto& l : lanes)
    if (l.tid == tid) return &l;
  return nullptr;
}

namespace {

// Trace times are at most the longest scenario (1000 s); lane ids fit an int.
constexpr double kMaxTraceUs = 1e9;
constexpr std::int64_t kMaxTid = 1 << 30;
constexpr std::int64_t kMaxNs = std::int64_t{1} << 62;
// The guest vocabulary's per-reader read counter (guest/trace_lanes.hpp), then the lane name.
constexpr const char* kReadCounter = "clock reads ";

// Every "*_ns" member under a violation's details is a time the readers draw: a number within
// the trace's range. Details nest a few levels (the two reads of a pair).
void check_times(const sim::Node& n, int depth) {
  if (depth > 8) n.fail("nests deeper than 8 levels", "violation details as vcpusim writes them");
  const auto& j = n.json();
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k.size() > 3 && k.compare(k.size() - 3, 3, "_ns") == 0)
        n.at(k).as_real(-kMaxTraceUs * 1e3, kMaxTraceUs * 1e3);
      else
        check_times(n.at(k), depth + 1);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) check_times(n.at(i), depth + 1);
  }
}

// Where the events of a trace vcpusim wrote begin, one per line after it.
constexpr const char* kEventsLine = "\n\"traceEvents\":[";

// A trace in vcpusim's own layout (with or without the window it was written with).
bool written_by_vcpusim(const std::string& text) {
  return (text.rfind("{\"displayTimeUnit\"", 0) == 0 || text.rfind("{\"window_ps\"", 0) == 0) &&
         text.find(kEventsLine) != std::string::npos;
}

// vcpusim's writer ends the document with a line "]}" (sim/trace/trace_writers.cpp); a trace cut
// short (a full disk, a copy interrupted) lacks it, even when it ends between two whole events.
bool ends_with_closing_line(const std::string& text) {
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  return last != std::string::npos && last >= 2 && text.compare(last - 2, 3, "\n]}") == 0;
}

// Every reader parses with sim::parse_json_text: nesting bounded (kMaxJsonDepth) as the parser
// reaches it, so a file of brackets costs no more than its text; no key twice.
bool parse_bounded(const std::string& text, nlohmann::json& out) {
  try {
    out = sim::parse_json_text(text, "trace");
    return true;
  } catch (const sim::ConfigError&) {
    return false;
  }
}

// vcpusim writes one event per line; reading it line by line keeps a 100 MB trace from turning
// into a multi-GB document, and the clock reads (most of the lines) skip the JSON parser.
bool parse_lines(const std::string& text, nlohmann::json& header,
                 std::vector<nlohmann::json>& events,
                 std::vector<std::pair<int, ViewRead>>& reads) {
  const std::string marker = kEventsLine;
  if (!written_by_vcpusim(text)) return false;
  const auto start = text.find(marker);
  if (!parse_bounded(text.substr(0, start) + "\"traceEvents\":[]}", header)) return false;
  std::size_t pos = start + marker.size();
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == ',') line.remove_suffix(1);
    if (line.empty() || line == "]}") continue;
    if (line.substr(0, 9) == std::string_view("{\"ph\":\"i\"") &&
        line.find("\"cat\":\"read\"") != std::string_view::npos) {
      const std::string l(line);
      auto num_after = [&l](const char* key) -> double {
        const auto p = l.find(key);
        return p == std::string::npos ? 0 : std::strtod(l.c_str() + p + std::strlen(key), nullptr);
      };
      const double ts = num_after("\"ts\":"), tid = num_after("\"tid\":");
      const double value = num_after("\"value_ns\":"), latency = num_after("\"latency_ns\":");
      const auto n = l.find("\"name\":\"");
      // Anything unusual takes the checked path below, which names the problem.
      if (ts >= 0 && ts <= kMaxTraceUs && tid >= 0 && tid <= kMaxTid && std::fabs(value) < 1e18 &&
          std::fabs(latency) < 1e18 && n != std::string::npos &&
          l.find('"', n + 8) != std::string::npos) {
        ViewRead r;
        r.t = ts_to_tick(ts);
        r.value_ns = static_cast<std::int64_t>(value);
        r.latency_ns = static_cast<std::int64_t>(latency);
        r.name = l.substr(n + 8, l.find('"', n + 8) - (n + 8));
        reads.emplace_back(static_cast<int>(tid), std::move(r));
        continue;
      }
    }
    nlohmann::json e;
    if (!parse_bounded(std::string(line), e)) return false;
    events.push_back(std::move(e));
  }
  return true;
}

}  // namespace

TraceView parse_trace(const std::string& text, const std::string& source) {
  const std::string file = source.empty() ? "trace" : source;
  if (written_by_vcpusim(text) && !ends_with_closing_line(text))
    throw sim::ConfigError(file +
                           ": $: the trace is truncated: it ends before the line \"]}\" that "
                           "closes it; allowed: a whole trace written by vcpusim run --trace");
  nlohmann::json doc;
  std::vector<nlohmann::json> line_events;
  std::vector<std::pair<int, ViewRead>> reads;
  if (!parse_lines(text, doc, line_events, reads)) {
    line_events.clear();
    reads.clear();
    doc = sim::parse_json_text(text, file);  // its message says where the JSON is wrong
  }
  if (!doc.is_object() || !doc.contains("traceEvents") ||
      !doc["traceEvents"].is_array())
    throw sim::ConfigError(file +
                           ": not a trace file (expected the JSON written by vcpusim run --trace)");
  if (!line_events.empty()) doc["traceEvents"] = std::move(line_events);
  const sim::Node root(doc, file, "$");
  TraceView v;
  if (const auto o = root.find("otherData")) {
    o->require_object();
    if (const auto t = o->find("title")) v.title = sim::printable(t->as_string());
    if (const auto e = o->find("end_ps"))
      v.end = e->as_int(0, static_cast<std::int64_t>(kMaxTraceUs) * sim::kMicrosecond);
  }
  // Every field is checked as the scenario loader checks its own: one message naming the file,
  // the JSON path, the value and what is allowed.
  auto text_of = [](const sim::Node& e, const char* key) {
    const auto n = e.find(key);
    return n ? sim::printable(n->as_string()) : std::string();
  };
  auto int_of = [](const sim::Node& e, const char* key, std::int64_t lo, std::int64_t hi) {
    const auto n = e.find(key);
    return n ? n->as_int(lo, hi) : std::int64_t{0};
  };
  auto id_of = [](const sim::Node& e) {  // Chrome accepts string and number ids
    const auto n = e.find("id");
    if (!n) return std::string();
    if (!n->json().is_string() && !n->json().is_number_integer())
      n->fail(sim::describe(n->json()) + " is not an id", "a string or an integer");
    return n->json().dump();
  };
  std::map<int, ViewLane> lanes;                                       // by tid
  std::map<int, std::vector<std::size_t>> open;                        // tid -> open slice indexes
  std::map<std::pair<std::string, std::string>, ViewSpan> open_spans;  // (cat, id)
  std::map<std::string, ViewFlow> open_flows;
  std::map<std::string, std::vector<std::pair<sim::Tick, std::int64_t>>> read_counts;  // by lane
  bool first = true;
  const sim::Node events = root.at("traceEvents");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const sim::Node e = events.at(i);
    e.require_object();
    const std::string ph = text_of(e, "ph");
    const int pid = static_cast<int>(int_of(e, "pid", 0, kMaxTid));
    const int tid = static_cast<int>(int_of(e, "tid", 0, kMaxTid));
    const auto args = e.find("args");
    if (args) args->require_object();
    if (ph == "M") {
      const std::string what = text_of(e, "name");
      if (what != "thread_name" && what != "thread_sort_index") continue;
      if (!args) e.fail("metadata without \"args\"", "an \"args\" object");
      ViewLane& l = lanes[tid];
      l.pid = pid;
      l.tid = tid;
      if (what == "thread_name") l.name = text_of(*args, "name");
      if (what == "thread_sort_index")
        l.sort = static_cast<int>(int_of(*args, "sort_index", -kMaxTid, kMaxTid));
      l.pcpu = l.name.rfind("pCPU", 0) == 0;
      continue;
    }
    const auto ts = e.find("ts");
    const sim::Tick t = ts ? ts_to_tick(ts->as_real(0, kMaxTraceUs)) : 0;
    if (first) v.begin = t;
    first = false;
    v.end = std::max(v.end, t);
    const std::string name = text_of(e, "name");
    const std::string cat = text_of(e, "cat");
    if (ph == "B") {
      ViewLane& l = lanes[tid];
      open[tid].push_back(l.slices.size());
      l.slices.push_back({t, t, static_cast<int>(open[tid].size()) - 1, name, cat});
    } else if (ph == "E") {
      auto& st = open[tid];
      if (st.empty()) continue;
      lanes[tid].slices[st.back()].end = t;
      st.pop_back();
    } else if ((ph == "i" || ph == "I") && cat == "read") {
      const std::int64_t value = args ? int_of(*args, "value_ns", -kMaxNs, kMaxNs) : 0;
      const std::int64_t latency = args ? int_of(*args, "latency_ns", -kMaxNs, kMaxNs) : 0;
      lanes[tid].reads.push_back(ViewRead{t, value, latency, name});
    } else if (ph == "i" || ph == "I") {
      nlohmann::json kept = nlohmann::json::object();
      if (args && cat == "violation") {  // the fields the timeline and the report show
        kept["check"] = text_of(*args, "check");
        kept["message"] = text_of(*args, "message");
        if (const auto d = args->find("details")) {
          d->require_object();
          check_times(*d, 0);
          kept["details"] = d->json();
        }
      }
      ViewInstant in{t, name, cat, std::move(kept)};
      if (cat == "violation") v.violations.push_back(in);
      lanes[tid].instants.push_back(std::move(in));
    } else if (ph == "C" && name.rfind(kReadCounter, 0) == 0) {
      const std::int64_t n = args ? int_of(*args, "per_100us", 0, kMaxNs) : 0;
      read_counts[name.substr(std::strlen(kReadCounter))].emplace_back(t, n);
    } else if (ph == "b" || ph == "e") {
      const auto key = std::make_pair(cat, id_of(e));
      if (ph == "b") {
        open_spans[key] = ViewSpan{t, t, name, cat, tid};
      } else if (auto it = open_spans.find(key); it != open_spans.end()) {
        it->second.end = t;
        v.spans.push_back(it->second);
        open_spans.erase(it);
      }
    } else if (ph == "s") {
      open_flows[id_of(e)] = ViewFlow{t, t, name, tid, 0};
    } else if (ph == "f") {
      if (auto it = open_flows.find(id_of(e)); it != open_flows.end()) {
        it->second.end = t;
        it->second.to_tid = tid;
        v.flows.push_back(it->second);
        open_flows.erase(it);
      }
    }
  }
  for (auto& [tid, r] : reads) {  // the fast path's reads (already in time order)
    v.end = std::max(v.end, r.t);
    v.begin = first ? r.t : std::min(v.begin, r.t);
    first = false;
    lanes[tid].reads.push_back(std::move(r));
  }
  // The window the trace was written with (tools/run/trace_io.hpp): its events cover [from, to].
  if (const auto w = root.find("window_ps")) {
    const sim::Tick most = static_cast<std::int64_t>(kMaxTraceUs) * sim::kMicrosecond;
    const sim::Tick from = w->at("from").as_int(0, most), to = w->at("to").as_int(0, most);
    if (from < to) {
      v.begin = from;
      v.end = to;
    }
  }
  for (auto& [tid, l] : lanes) {
    // A counter sample holds until the next one; the last holds to the end of the trace.
    const auto& samples = read_counts[l.name];
    for (std::size_t i = 0; i < samples.size(); ++i)
      if (samples[i].second > 0)
        l.read_bins.push_back({samples[i].first,
                               i + 1 < samples.size() ? samples[i + 1].first : v.end,
                               samples[i].second});
    if (!l.name.empty()) v.lanes.push_back(std::move(l));
  }
  std::stable_sort(v.lanes.begin(), v.lanes.end(), [](const ViewLane& a, const ViewLane& b) {
    if (a.pcpu != b.pcpu) return a.pcpu;
    return a.sort < b.sort;
  });
  std::stable_sort(v.spans.begin(), v.spans.end(),
                   [](const ViewSpan& a, const ViewSpan& b) { return a.start < b.start; });
  return v;
}

}  // namespace vcpusim::tools
