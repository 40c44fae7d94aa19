#include "tools/explore/shrink_explain.hpp"

#include <algorithm>
#include <sstream>

#include "tools/explore/shrink.hpp"
#include "tools/run/trace_io.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {
namespace {

using sim::Tick;

// "write vdso.seq by vCPU0" -> "in the write section of vdso.seq"; a lock span -> "holding lockN".
std::string in_words(const ViewSpan& s) {
  if (s.cat == "timekeeping")
    return "between reading the clock and publishing the new values (timekeeping update, "
           "clock read at " +
           readable_time(s.start) + ")";
  if (s.cat == "seqcount") {
    const auto a = s.name.find(' '), b = s.name.find(" by ");
    return "in the write section of " +
           s.name.substr(a + 1, b == std::string::npos ? b : b - a - 1);
  }
  if (s.cat == "lock") {
    const auto b = s.name.find(" held by ");
    return "holding " + s.name.substr(0, b);
  }
  return "in " + s.name;
}

// Who a pCPU slice is, in words.
std::string holder_name(const ViewSlice& s) {
  if (s.name == "host preemption (explore)") return "an injected host preemption";
  if (s.name == "host irq" || s.name == "host softirq") return s.name;
  if (s.name.rfind("vCPU", 0) == 0) return s.name;
  return "host task " + s.name;
}

}  // namespace

// The pCPU is the one whose lane ran the vCPU up to t0; failing that, the first allowed pCPU
// where a host thread ran at t0.
std::string preemption_holders(const TraceView& v, const std::string& vcpu, Tick t0, Tick t1,
                               const std::vector<std::int64_t>& pcpus) {
  const ViewLane* lane = nullptr;
  for (const ViewLane& l : v.lanes) {
    if (!l.pcpu) continue;
    for (const ViewSlice& s : l.slices)
      if (s.depth == 0 && s.name == vcpu && s.end == t0) lane = &l;
    if (lane) break;
  }
  for (const ViewLane& l : v.lanes) {
    if (lane || !l.pcpu) continue;
    const int p = std::atoi(l.name.c_str() + 4);
    if (!pcpus.empty() && std::find(pcpus.begin(), pcpus.end(), p) == pcpus.end()) continue;
    for (const ViewSlice& s : l.slices)
      if (s.depth == 0 && s.start <= t0 && t0 < s.end && s.name != vcpu) lane = &l;
  }
  if (!lane) return "another host thread";
  std::vector<std::pair<std::string, Tick>> held;  // in order of first appearance
  for (const ViewSlice& s : lane->slices) {
    if (s.depth != 0 || s.end <= t0 || s.start >= t1) continue;
    const Tick d = std::min(s.end, t1) - std::max(s.start, t0);
    const std::string who = holder_name(s);
    auto it = std::find_if(held.begin(), held.end(), [&](const auto& h) { return h.first == who; });
    if (it == held.end()) held.emplace_back(who, d);
    else it->second += d;
  }
  if (held.empty()) return "another host thread";
  std::string out;
  for (std::size_t i = 0; i < held.size(); ++i)
    out += (i ? ", then " : "") + held[i].first + " (" + readable_time(held[i].second) + ")";
  return out + " on " + lane->name;
}

namespace {

std::string ns_text(const nlohmann::json& d, const char* key) {
  if (!d.contains(key) || !d[key].is_number()) return "";
  return readable_time(static_cast<Tick>(d[key].get<double>() * sim::kNanosecond));
}

}  // namespace

std::vector<std::string> explain_failure(const Scenario& s, const RunResult& r) {
  std::ostringstream text;
  write_chrome_trace(text, make_trace(s, r, sim::TraceFilter{}), sim::TraceFilter{}, s.duration);
  const TraceView v = parse_trace(text.str(), "the final run's trace");
  std::vector<std::string> out;
  const Tick until = r.failure.signature.empty() ? s.duration : r.failure.time;
  for (const ViewLane& l : v.lanes) {
    if (l.pcpu) continue;
    const int vcpu = std::atoi(l.name.c_str() + 4);
    std::vector<std::int64_t> pcpus;
    if (static_cast<std::size_t>(vcpu) < s.vm.pinning.size())
      pcpus = s.vm.pinning[static_cast<std::size_t>(vcpu)];
    for (const ViewSlice& p : l.slices) {
      if (p.depth != 0 || p.name != "preempted" || p.start > until) continue;
      std::string line = l.name + " preempted " + readable_time(p.end - p.start) + " at " +
                         readable_time(p.start) + " by " +
                         preemption_holders(v, l.name, p.start, p.end, pcpus);
      std::vector<std::string> where;
      for (const ViewSpan& sp : v.spans)
        if (sp.tid == l.tid && sp.start <= p.start && p.start < sp.end)
          where.push_back(in_words(sp));
      if (where.empty())
        for (const ViewSlice& f : l.slices)
          if (f.depth > 0 && f.start <= p.start && p.start < f.end) where.push_back("in " + f.name);
      line += where.empty() ? ", in guest code outside any traced section" : ", ";
      for (std::size_t i = 0; i < where.size(); ++i) line += (i ? " and " : "") + where[i];
      out.push_back(line);
    }
  }
  if (out.empty()) out.push_back("no vCPU was preempted before the failure");
  if (r.failure.signature.empty()) {
    out.push_back("the run passed");
    return out;
  }
  std::string line = "then " + r.failure.check + " failed at " + readable_time(r.failure.time) +
                     ": " + r.failure.message;
  for (const auto& viol : r.document["violations"]) {
    if (viol.value("check", "") != r.failure.check ||
        viol.value("message", "") != r.failure.message)
      continue;
    const auto d = viol.value("details", nlohmann::json::object());
    if (d.contains("mult_old") && d.contains("mult_new"))
      line += std::string(", while NTP's mult ") +
              (d["mult_new"].get<std::int64_t>() < d["mult_old"].get<std::int64_t>() ? "fell"
                                                                                     : "rose") +
              " from " + d["mult_old"].dump() + " to " + d["mult_new"].dump();
    if (!ns_text(d, "publish_delay_ns").empty())
      line += "; the update took " + ns_text(d, "publish_delay_ns") +
              " from reading the clock to publishing";
    break;
  }
  out.push_back(line);
  return out;
}

}  // namespace vcpusim::tools
