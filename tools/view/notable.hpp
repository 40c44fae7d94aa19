// The notable events of a trace, one list shared by `vcpusim report` (links that jump to each)
// and `vcpusim timeline --at` (a chart around one): violations, lock-holder preemptions and long
// RCU grace periods, each numbered within its kind in time order.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "tools/view/trace_view.hpp"

namespace vcpusim::tools {

// A grace period longer than this is notable (the default of guest.rcu.long_gp).
constexpr sim::Tick kLongGracePeriod = sim::kMillisecond;
// The report lists the first this many of each kind (and how many more there are).
constexpr std::size_t kNotableShownPerKind = 50;

struct NotableEvent {
  std::string kind;       // one of notable_kinds()
  std::size_t index = 0;  // within its kind, in time order (KIND:INDEX)
  sim::Tick start = 0;
  sim::Tick end = 0;  // == start for an instant
  std::string lane;   // the vCPU it happened on ("" when none)
  std::string what;   // in words
};

struct NotableList {
  std::vector<NotableEvent> all;  // grouped by kind (in notable_kinds() order), each in time order
  // The report's list, indexes into `all`: the first kNotableShownPerKind of each kind; `--at N`
  // counts in this list.
  std::vector<std::size_t> shown;
  std::map<std::string, std::size_t> total;  // per kind
};

// "violation", "holder-preempted", "long-gp": the KIND of `--at KIND:N`.
const std::vector<std::string>& notable_kinds();

NotableList notable_events(const TraceView& v);

// `--at` text: "N" (the report's list number) or "KIND:N" (the N-th of that kind, any of them);
// sim::ConfigError naming the value and the allowed forms otherwise.
const NotableEvent& find_notable(const NotableList& list, const std::string& at);

}  // namespace vcpusim::tools
