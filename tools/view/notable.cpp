#include "tools/view/notable.hpp"

#include <algorithm>
#include <cctype>

#include "sim/config/config.hpp"
#include "sim/error.hpp"
#include "tools/view/report_metrics.hpp"

namespace vcpusim::tools {
namespace {

// The vCPU whose quiescent state ended the grace period that ends at `t` (its "GP waited for
// this vCPU" instant, drawn at that moment), or "".
std::string gp_holder(const TraceView& v, sim::Tick t) {
  for (const auto& l : v.lanes)
    for (const auto& in : l.instants)
      if (in.cat == "rcu" && in.t == t && in.name == "GP waited for this vCPU") return l.name;
  return "";
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

const std::vector<std::string>& notable_kinds() {
  static const std::vector<std::string> kinds = {"violation", "holder-preempted", "long-gp"};
  return kinds;
}

NotableList notable_events(const TraceView& v) {
  NotableList list;
  std::map<std::string, std::vector<NotableEvent>> by_kind;
  for (const auto& l : v.lanes)
    for (const auto& in : l.instants) {
      if (in.cat == "violation")
        by_kind["violation"].push_back({"violation", 0, in.t, in.t, l.name,
                                        in.args.value("check", std::string()) + ": " +
                                            in.args.value("message", std::string())});
      // guest/trace_lanes.cpp names the lock.lhp mark "lock holder preempted: LOCK (N waiting)".
      else if (in.cat == "lock" && in.name.rfind("lock holder preempted", 0) == 0)
        by_kind["holder-preempted"].push_back({"holder-preempted", 0, in.t, in.t, l.name, in.name});
    }
  for (const auto& s : v.spans)
    if (s.cat == "rcu" && s.name == "RCU GP" && s.end - s.start > kLongGracePeriod) {
      const std::string holder = gp_holder(v, s.end);
      by_kind["long-gp"].push_back(
          {"long-gp", 0, s.start, s.end, holder,
           "grace period of " +
               format_metric_value(static_cast<double>(s.end - s.start) / sim::kNanosecond, "ns") +
               (holder.empty() ? std::string() : ", held by " + holder)});
    }
  for (const std::string& kind : notable_kinds()) {
    auto& events = by_kind[kind];
    std::stable_sort(
        events.begin(), events.end(),
        [](const NotableEvent& a, const NotableEvent& b) { return a.start < b.start; });
    list.total[kind] = events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
      events[i].index = i;
      list.all.push_back(std::move(events[i]));
    }
  }
  for (std::size_t i = 0; i < list.all.size(); ++i)
    if (list.all[i].index < kNotableShownPerKind) list.shown.push_back(i);
  return list;
}

const NotableEvent& find_notable(const NotableList& list, const std::string& at) {
  std::string kinds;
  for (const auto& k : notable_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  auto bad = [&](const std::string& why) {
    return sim::ConfigError("--at " + sim::quote(at) + ": " + why +
                            "; allowed: N (a number of the report's notable events, 0 to " +
                            (list.shown.empty() ? std::string("none: the trace has none")
                                                : std::to_string(list.shown.size() - 1)) +
                            ") or KIND:N with KIND one of " + kinds + " (e.g. holder-preempted:0)");
  };
  const auto colon = at.find(':');
  if (colon == std::string::npos) {
    if (!all_digits(at)) throw bad("not a number or KIND:N");
    const std::size_t n = std::stoul(at);
    if (n >= list.shown.size()) throw bad("no notable event " + at);
    return list.all[list.shown[n]];
  }
  const std::string kind = at.substr(0, colon), number = at.substr(colon + 1);
  if (std::find(notable_kinds().begin(), notable_kinds().end(), kind) == notable_kinds().end())
    throw bad("unknown kind " + sim::quote(kind));
  if (!all_digits(number)) throw bad(sim::quote(number) + " is not a number");
  const std::size_t n = std::stoul(number);
  const std::size_t total = list.total.count(kind) ? list.total.at(kind) : 0;
  if (n >= total)
    throw bad("the trace has " + std::to_string(total) + " " + kind + " event(s)" +
              (total ? ", numbered 0 to " + std::to_string(total - 1) : std::string()));
  for (const auto& e : list.all)
    if (e.kind == kind && e.index == n) return e;
  throw bad("no such event");
}

}  // namespace vcpusim::tools
