#include "tools/trace_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

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

// vcpusim writes one event per line; reading it line by line keeps a 100 MB trace from turning
// into a multi-GB document, and the clock reads (most of the lines) skip the JSON parser.
bool parse_lines(const std::string& text, nlohmann::json& header,
                 std::vector<nlohmann::json>& events,
                 std::vector<std::pair<int, ViewRead>>& reads) {
  const std::string marker = "\n\"traceEvents\":[";
  const auto start = text.find(marker);
  if ((text.rfind("{\"displayTimeUnit\"", 0) != 0 && text.rfind("{\"window_ps\"", 0) != 0) ||
      start == std::string::npos)
    return false;
  header = nlohmann::json::parse(text.substr(0, start) + "\"traceEvents\":[]}", nullptr, false);
  if (header.is_discarded()) return false;
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
      ViewRead r;
      r.t = ts_to_tick(num_after("\"ts\":"));
      r.value_ns = static_cast<std::int64_t>(num_after("\"value_ns\":"));
      r.latency_ns = static_cast<std::int64_t>(num_after("\"latency_ns\":"));
      const auto n = l.find("\"name\":\"");
      if (n != std::string::npos) r.name = l.substr(n + 8, l.find('"', n + 8) - (n + 8));
      reads.emplace_back(static_cast<int>(num_after("\"tid\":")), std::move(r));
      continue;
    }
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_discarded()) return false;
    events.push_back(std::move(e));
  }
  return true;
}

}  // namespace

TraceView parse_trace(const std::string& text, const std::string& source) {
  nlohmann::json doc;
  std::vector<nlohmann::json> line_events;
  std::vector<std::pair<int, ViewRead>> reads;
  if (!parse_lines(text, doc, line_events, reads)) {
    line_events.clear();
    reads.clear();
    doc = nlohmann::json::parse(text, nullptr, false);
  }
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("traceEvents") ||
      !doc["traceEvents"].is_array())
    throw sim::ConfigError((source.empty() ? "" : source + ": ") +
                           "not a trace file (expected the JSON written by vcpusim run --trace)");
  if (!line_events.empty()) doc["traceEvents"] = std::move(line_events);
  TraceView v;
  if (doc.contains("otherData")) {
    const auto& o = doc["otherData"];
    v.title = o.value("title", "");
    v.end = o.value("end_ps", static_cast<sim::Tick>(0));
  }
  std::map<int, ViewLane> lanes;                                       // by tid
  std::map<int, std::vector<std::size_t>> open;                        // tid -> open slice indexes
  std::map<std::pair<std::string, std::string>, ViewSpan> open_spans;  // (cat, id)
  std::map<std::int64_t, ViewFlow> open_flows;
  bool first = true;
  for (auto& e : doc["traceEvents"]) {
    const std::string ph = e.value("ph", "");
    const int pid = e.value("pid", 0);
    const int tid = e.value("tid", 0);
    if (ph == "M") {
      const std::string what = e.value("name", "");
      if (what != "thread_name" && what != "thread_sort_index") continue;
      ViewLane& l = lanes[tid];
      l.pid = pid;
      l.tid = tid;
      if (what == "thread_name") l.name = e["args"].value("name", "");
      if (what == "thread_sort_index") l.sort = e["args"].value("sort_index", 0);
      l.pcpu = l.name.rfind("pCPU", 0) == 0;
      continue;
    }
    const sim::Tick t = ts_to_tick(e.value("ts", 0.0));
    if (first) v.begin = t;
    first = false;
    v.end = std::max(v.end, t);
    const std::string name = e.value("name", "");
    const std::string cat = e.value("cat", "");
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
      const auto& a = e.contains("args") ? e["args"] : nlohmann::json::object();
      lanes[tid].reads.push_back(ViewRead{t, a.value("value_ns", std::int64_t{0}),
                                          a.value("latency_ns", std::int64_t{0}), name});
    } else if (ph == "i" || ph == "I") {
      ViewInstant in{t, name, cat, e.contains("args") ? e["args"] : nlohmann::json::object()};
      if (cat == "violation") v.violations.push_back(in);
      lanes[tid].instants.push_back(std::move(in));
    } else if (ph == "b" || ph == "e") {
      const auto key = std::make_pair(cat, e.value("id", std::string()));
      if (ph == "b") {
        open_spans[key] = ViewSpan{t, t, name, cat, tid};
      } else if (auto it = open_spans.find(key); it != open_spans.end()) {
        it->second.end = t;
        v.spans.push_back(it->second);
        open_spans.erase(it);
      }
    } else if (ph == "s") {
      open_flows[e.value("id", std::int64_t{0})] = ViewFlow{t, t, name, tid, 0};
    } else if (ph == "f") {
      if (auto it = open_flows.find(e.value("id", std::int64_t{0})); it != open_flows.end()) {
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
  // The window the trace was written with (tools/trace_io.hpp): its events cover [from, to].
  if (doc.contains("window_ps") && doc["window_ps"].is_object()) {
    const auto& w = doc["window_ps"];
    auto tick = [&w](const char* k) { return w.contains(k) && w[k].is_number_integer(); };
    if (tick("from") && tick("to") && w["from"].get<sim::Tick>() < w["to"].get<sim::Tick>()) {
      v.begin = w["from"].get<sim::Tick>();
      v.end = w["to"].get<sim::Tick>();
    }
  }
  for (auto& [tid, l] : lanes)
    if (!l.name.empty()) v.lanes.push_back(std::move(l));
  std::stable_sort(v.lanes.begin(), v.lanes.end(), [](const ViewLane& a, const ViewLane& b) {
    if (a.pcpu != b.pcpu) return a.pcpu;
    return a.sort < b.sort;
  });
  std::stable_sort(v.spans.begin(), v.spans.end(),
                   [](const ViewSpan& a, const ViewSpan& b) { return a.start < b.start; });
  return v;
}

}  // namespace vcpusim::tools
