#include "guest/timekeeping_params.hpp"

#include <string>

namespace vcpusim::guest {

void NtpScheduleParam::load(const sim::Node& n) {
  n.require_array();
  std::vector<NtpStep> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const sim::Node e = n.at(i);
    e.require_object();
    e.reject_unknown({"at", "freq", "ppm"});
    if (e.has("ppm") == e.has("freq"))
      e.fail("an entry needs exactly one of \"ppm\" and \"freq\"",
             "{\"at\": duration, \"ppm\": integer} or {\"at\": duration, \"freq\": integer}");
    NtpStep step;
    step.at = e.at("at").as_duration(0, 100000 * sim::kSecond);
    step.freq = e.has("ppm") ? e.at("ppm").as_int(-kMaxPpm, kMaxPpm) * kScaledPpm
                             : e.at("freq").as_int(-kMaxPpm * kScaledPpm, kMaxPpm * kScaledPpm);
    if (!out.empty() && step.at <= out.back().at)
      e.at("at").fail("not after the previous entry's " + sim::format_duration(out.back().at),
                      "times in increasing order");
    out.push_back(step);
  }
  value = std::move(out);
}

sim::Json NtpScheduleParam::to_json() const {
  sim::Json out = sim::Json::array();
  for (const NtpStep& s : value) {
    sim::Json e = {{"at", sim::format_duration(s.at)}};
    if (s.freq % kScaledPpm == 0)
      e["ppm"] = s.freq / kScaledPpm;
    else
      e["freq"] = s.freq;
    out.push_back(e);
  }
  return out;
}

sim::Json NtpScheduleParam::schema() const {
  const sim::Json at = {{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?(ps|ns|us|ms|s)$"}};
  const sim::Json ppm = {{"type", "integer"}, {"minimum", -kMaxPpm}, {"maximum", kMaxPpm}};
  const sim::Json freq = {
      {"type", "integer"}, {"minimum", -kMaxPpm * kScaledPpm}, {"maximum", kMaxPpm * kScaledPpm}};
  const sim::Json item = {
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {"at"}},
      {"properties", {{"at", at}, {"ppm", ppm}, {"freq", freq}}},
      {"oneOf", {{{"required", {"ppm"}}}, {{"required", {"freq"}}}}}};
  return {{"type", "array"}, {"items", item}, {"default", to_json()}, {"description", doc()}};
}

void NtpParams::validate(const sim::Node& node) const {
  if (direction.value != NtpDirection::kNone && mult_steps.value == 0)
    node.fail("direction \"" + std::string(direction.text()) + "\" with a zero adjustment",
              "\"mult_steps\" > 0");
  if (direction.value != NtpDirection::kNone && !schedule.value.empty())
    node.fail("both a scripted direction and an adjtimex schedule",
              "\"direction\": \"none\" with a schedule, or no schedule with a direction");
}

}  // namespace vcpusim::guest
