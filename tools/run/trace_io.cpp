#include "tools/run/trace_io.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>
#include <sstream>
#include <streambuf>

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

namespace {

// Passes everything through but the first character (the writer's opening brace, replaced by
// ours so the window can lead the object).
class DropFirstChar : public std::streambuf {
 public:
  explicit DropFirstChar(std::streambuf* to) : to_(to) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (!dropped_) {
      dropped_ = true;
      return c;
    }
    return to_->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (!dropped_ && n > 0) {
      dropped_ = true;
      return to_->sputn(s + 1, n - 1) + 1;
    }
    return to_->sputn(s, n);
  }
  int sync() override { return to_->pubsync(); }

 private:
  std::streambuf* to_;
  bool dropped_ = false;
};

void write_window(std::ostream& out, const sim::TraceFilter& filter, sim::Tick duration) {
  const sim::Tick from = std::min(filter.from, duration);
  const sim::Tick to = std::min(filter.to, duration);
  out << "{\"window_ps\":{\"from\":" << from << ",\"to\":" << to << "},";
}

sim::TraceInfo trace_info(const Scenario& s) {
  sim::TraceInfo info;
  info.title = s.name;
  info.end = s.duration;
  return info;
}

}  // namespace

sim::TraceViolation trace_violation(const sim::Violation& v) {
  sim::TraceViolation tv;
  tv.time = static_cast<sim::Tick>(std::llround(sim::to_ns(v.time) * sim::kNanosecond));
  tv.check = v.check;
  tv.cpus = v.cpus;
  tv.message = v.message;
  tv.details = v.details;
  return tv;
}

TraceStream::TraceStream(const Scenario& s, const sim::Components& components,
                         const sim::TraceFilter& filter, std::ostream* chrome, std::ostream* vcd)
    : host_(components), guest_(s.vm.tsc_frequency.value) {
  if (chrome) {
    write_window(*chrome, filter, s.duration);
    rest_ = std::make_unique<DropFirstChar>(chrome->rdbuf());
    body_ = std::make_unique<std::ostream>(rest_.get());
  }
  builder_ = std::make_unique<sim::TraceBuilder>(
      trace_info(s), components, filter, std::vector<sim::TraceVocabulary*>{&host_, &guest_},
      sim::TraceTargets{body_.get(), vcd, nullptr});
}

TraceStream::~TraceStream() = default;

void write_chrome_trace(std::ostream& out, const sim::Trace& trace, const sim::TraceFilter& filter,
                        sim::Tick duration) {
  write_window(out, filter, duration);
  DropFirstChar rest(out.rdbuf());
  std::ostream body(&rest);
  trace.write_chrome_json(body);
  body.flush();
  if (!body) out.setstate(std::ios::badbit);
}

sim::Trace make_trace(const Scenario& s, const RunResult& r, const sim::TraceFilter& filter) {
  const sim::TraceInfo info = trace_info(s);
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
