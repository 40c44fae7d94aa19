#include "tools/trace_io.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "cpu/trace_lanes.hpp"
#include "guest/trace_lanes.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {

std::vector<std::string> trace_categories() {
  std::vector<std::string> all = cpu::HostTraceVocabulary::categories();
  for (const auto* more :
       {&guest::GuestTraceVocabulary::categories(), &sim::TraceFilter::engine_categories()})
    all.insert(all.end(), more->begin(), more->end());
  return all;
}

sim::TraceFilter parse_trace_filter(const std::string& from, const std::string& to,
                                    const std::string& kinds) {
  sim::TraceFilter f;
  auto duration = [](const std::string& what, const std::string& text) {
    auto t = sim::parse_duration(text);
    if (!t || *t < 0)
      throw sim::ConfigError(what + ": '" + text + "' is not a duration (e.g. 4ms, 250us)");
    return *t;
  };
  if (!from.empty()) f.from = duration("--trace-from", from);
  if (!to.empty()) f.to = duration("--trace-to", to);
  if (f.to < f.from) throw sim::ConfigError("--trace-to is before --trace-from");
  std::stringstream in(kinds);
  std::string k;
  const std::vector<std::string> all = trace_categories();
  while (std::getline(in, k, ',')) {
    if (k.empty()) continue;
    if (std::find(all.begin(), all.end(), k) == all.end()) {
      std::string list;
      for (const auto& a : all) list += (list.empty() ? "" : ", ") + a;
      throw sim::ConfigError("--trace-kinds: unknown kind '" + k + "' (kinds: " + list + ")");
    }
    f.categories.insert(k);
  }
  return f;
}

sim::Trace make_trace(const Scenario& s, const RunResult& r, const sim::TraceFilter& filter) {
  sim::TraceInfo info;
  info.title = s.name;
  info.end = s.duration;
  std::vector<sim::TraceViolation> violations;
  for (const auto& v : r.document["violations"]) {
    sim::TraceViolation tv;
    tv.time = static_cast<sim::Tick>(std::llround(v["time_ns"].get<double>() * sim::kNanosecond));
    tv.check = v["check"].get<std::string>();
    tv.cpus = v["cpus"].get<std::vector<int>>();
    tv.message = v["message"].get<std::string>();
    tv.details = v["details"];
    violations.push_back(std::move(tv));
  }
  cpu::HostTraceVocabulary host(r.components);
  guest::GuestTraceVocabulary guest(s.vm.tsc_frequency.value);
  return sim::Trace::build(info, r.components, r.events, r.labels, violations, filter,
                           {&host, &guest});
}

}  // namespace vcpusim::tools
