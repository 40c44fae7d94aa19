#include "tools/run/schedule.hpp"

#include <algorithm>
#include <cctype>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {

namespace {
constexpr int kReplayFormat = 1;

const char* kind_name(sim::Injection::Kind k) {
  return k == sim::Injection::Kind::kNmi ? "nmi" : "preempt";
}
}  // namespace

sim::Json Schedule::to_json() const {
  sim::Json d = sim::Json::array();
  for (const auto& [key, value] : decisions)
    d.push_back(
        {{"component", key.component}, {"what", key.what}, {"index", key.index}, {"value", value}});
  sim::Json in = sim::Json::array();
  for (const sim::Injection& i : injections) {
    sim::Json j = {{"kind", kind_name(i.kind)}, {"vcpu", i.vcpu}};
    if (i.access > 0)
      j["access"] = i.access;
    else
      j["at"] = sim::format_duration(i.at);
    if (i.kind == sim::Injection::Kind::kPreempt) j["length"] = sim::format_duration(i.length);
    in.push_back(j);
  }
  sim::Json out = {{"decisions", d}, {"injections", in}};
  if (!counted_words.empty()) out["counted_words"] = counted_words;
  return out;
}

Schedule Schedule::from_json(const sim::Node& node) {
  node.require_object();
  node.reject_unknown({"decisions", "injections", "counted_words"});
  Schedule s;
  if (node.has("decisions")) {
    const sim::Node list = node.at("decisions");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const sim::Node d = list.at(i);
      d.require_object();
      d.reject_unknown({"component", "what", "index", "value"});
      for (const char* k : {"component", "what", "index", "value"})
        if (!d.has(k))
          d.fail(std::string("missing key \"") + k + "\"", "component, what, index, value");
      sim::DecisionKey key{d.at("component").as_string(), d.at("what").as_string(),
                           static_cast<std::uint64_t>(d.at("index").as_int(0, INT64_MAX))};
      if (!s.decisions.emplace(key, d.at("value").as_int(INT64_MIN, INT64_MAX)).second)
        d.fail("decision " + sim::quote(key.str()) + " is listed twice", "each key once");
    }
  }
  if (node.has("counted_words")) {
    const sim::Node list = node.at("counted_words");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i) s.counted_words.push_back(list.at(i).as_string());
    std::sort(s.counted_words.begin(), s.counted_words.end());
  }
  if (node.has("injections")) {
    const sim::Node list = node.at("injections");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const sim::Node j = list.at(i);
      j.require_object();
      j.reject_unknown({"kind", "vcpu", "at", "access", "length"});
      sim::Injection in;
      if (!j.has("kind")) j.fail("missing key \"kind\"", "\"preempt\" or \"nmi\"");
      in.kind = j.at("kind").as_enum({"preempt", "nmi"}) == "nmi" ? sim::Injection::Kind::kNmi
                                                                  : sim::Injection::Kind::kPreempt;
      if (!j.has("vcpu")) j.fail("missing key \"vcpu\"", "a vCPU number");
      in.vcpu = static_cast<int>(j.at("vcpu").as_int(0, 1023));
      if (j.has("at") == j.has("access"))
        j.fail("needs exactly one of \"at\" and \"access\"",
               "\"at\": a time, or \"access\": the vCPU's n-th shared-memory access");
      if (j.has("at")) in.at = j.at("at").as_duration(0, sim::kForever / 2);
      if (j.has("access"))
        in.access = static_cast<std::uint64_t>(j.at("access").as_int(1, INT64_MAX));
      if (in.kind == sim::Injection::Kind::kPreempt) {
        if (!j.has("length")) j.fail("missing key \"length\"", "a duration");
        in.length = j.at("length").as_duration(sim::kNanosecond, 1000 * sim::kSecond);
      } else if (j.has("length")) {
        j.at("length").fail("an nmi has no length", "no \"length\" key");
      }
      s.injections.push_back(in);
    }
  }
  return s;
}

void Schedule::check_vcpus(int vcpus, const std::string& file) const {
  for (std::size_t i = 0; i < injections.size(); ++i)
    if (injections[i].vcpu < 0 || injections[i].vcpu >= vcpus)
      throw sim::ConfigError(file + ": $.injections[" + std::to_string(i) +
                             "].vcpu: " + std::to_string(injections[i].vcpu) +
                             " is out of range; allowed: an integer from 0 to " +
                             std::to_string(vcpus - 1) + " (the vCPUs of the scenario)");
}

std::int64_t ReplaySteer::decide(const sim::DecisionPoint& p) {
  const auto it = schedule_.decisions.find(p.key);
  if (it == schedule_.decisions.end()) return p.default_value;
  if (it->second < p.lo || it->second > p.hi)
    throw sim::ConfigError(file_ + ": $.decisions: the value of decision " +
                           sim::quote(p.key.str()) + ", " + std::to_string(it->second) +
                           ", is outside its range; allowed: an integer from " +
                           std::to_string(p.lo) + " to " + std::to_string(p.hi));
  return it->second;
}

std::string failure_signature(const std::string& check, const std::string& message) {
  std::string out = check + ": ";
  for (std::size_t i = 0; i < message.size();) {
    const unsigned char c = static_cast<unsigned char>(message[i]);
    const bool named = i > 0 && (std::isalpha(static_cast<unsigned char>(message[i - 1])) ||
                                 message[i - 1] == '_');
    if (std::isdigit(c) && !named) {
      while (i < message.size() &&
             (std::isdigit(static_cast<unsigned char>(message[i])) || message[i] == '.'))
        ++i;
      // A time's unit goes with it: "45284.6us" and "45284646.9ns" are the same place.
      for (const char* unit : {"ps", "ns", "us", "ms", "s"}) {
        const std::size_t n = std::char_traits<char>::length(unit);
        if (message.compare(i, n, unit) == 0 &&
            (i + n == message.size() ||
             !std::isalpha(static_cast<unsigned char>(message[i + n])))) {
          i += n;
          break;
        }
      }
      out += '#';
    } else {
      out += message[i++];
    }
  }
  return out;
}

sim::Json Failure::to_json() const {
  if (signature.empty()) return nullptr;
  return {{"signature", signature},
          {"check", check},
          {"time", sim::format_duration(time)},
          {"message", message}};
}

Failure Failure::from_json(const sim::Node& node) {
  Failure f;
  if (node.json().is_null()) return f;
  node.require_object();
  node.reject_unknown({"signature", "check", "time", "message"});
  for (const char* k : {"signature", "check", "time", "message"})
    if (!node.has(k))
      node.fail(std::string("missing key \"") + k + "\"", "signature, check, time, message");
  f.signature = node.at("signature").as_string();
  f.check = node.at("check").as_string();
  f.time = node.at("time").as_duration(0, sim::kForever / 2);
  f.message = node.at("message").as_string();
  return f;
}

sim::Json ReplayFile::to_json() const {
  sim::Json j = {{"vcpusim_replay", kReplayFormat},
                 {"origin", origin},
                 {"failure", failure.to_json()},
                 {"scenario", scenario}};
  if (!fingerprint.empty()) j["fingerprint"] = fingerprint;  // "" would not read back
  if (!plugins.empty()) {
    sim::Json list = sim::Json::array();
    for (const ReplayPlugin& p : plugins)
      list.push_back({{"path", p.path}, {"fnv1a64", p.fnv1a64}});
    j["plugins"] = list;
  }
  const sim::Json s = schedule.to_json();
  j["decisions"] = s["decisions"];
  j["injections"] = s["injections"];
  if (s.contains("counted_words")) j["counted_words"] = s["counted_words"];
  return j;
}

ReplayFile ReplayFile::load(const std::string& path) {
  return parse(sim::read_input_file(path, "replay"), path);
}

ReplayFile ReplayFile::parse(const std::string& text, const std::string& path) {
  const sim::Json raw = sim::parse_json_text(text, path);
  const sim::Node root(raw, path, "$");
  root.require_object();
  if (!root.has("vcpusim_replay"))
    root.fail("missing key \"vcpusim_replay\" (not a replay file)",
              "a file written by vcpusim explore or shrink");
  root.reject_unknown({"vcpusim_replay", "origin", "failure", "fingerprint", "scenario", "plugins",
                       "decisions", "injections", "counted_words"});
  root.at("vcpusim_replay").as_int(kReplayFormat, kReplayFormat);
  if (!root.has("scenario")) root.fail("missing key \"scenario\"", "the scenario of the run");
  ReplayFile r;
  r.scenario = raw["scenario"];
  if (root.has("origin")) r.origin = root.at("origin").as_string();
  if (root.has("fingerprint")) {
    const sim::Node f = root.at("fingerprint");
    r.fingerprint = f.as_string();
    if (r.fingerprint.size() != 16 ||
        r.fingerprint.find_first_not_of("0123456789abcdef") != std::string::npos)
      f.fail(sim::quote(r.fingerprint) + " is not a fingerprint",
             "16 lowercase hexadecimal digits, as vcpusim run prints");
  }
  if (root.has("failure")) r.failure = Failure::from_json(root.at("failure"));
  if (root.has("plugins")) {
    const sim::Node list = root.at("plugins");
    list.require_array();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const sim::Node p = list.at(i);
      p.require_object();
      p.reject_unknown({"path", "fnv1a64"});
      for (const char* k : {"path", "fnv1a64"})
        if (!p.has(k)) p.fail(std::string("missing key \"") + k + "\"", "path, fnv1a64");
      ReplayPlugin rp{p.at("path").as_string(), p.at("fnv1a64").as_string()};
      if (rp.path.empty() || rp.path.front() != '/')
        p.at("path").fail(sim::quote(rp.path), "the absolute path of a shared object");
      if (rp.fnv1a64.size() != 16 ||
          rp.fnv1a64.find_first_not_of("0123456789abcdef") != std::string::npos)
        p.at("fnv1a64").fail(sim::quote(rp.fnv1a64) + " is not a content hash",
                             "16 lowercase hexadecimal digits");
      r.plugins.push_back(std::move(rp));
    }
  }
  sim::Json rest = sim::Json::object();
  for (const char* k : {"decisions", "injections", "counted_words"})
    if (raw.contains(k)) rest[k] = raw[k];
  r.schedule = Schedule::from_json(sim::Node(rest, path, "$"));
  return r;
}

void ReplayFile::require_fingerprint(const std::string& file) const {
  if (fingerprint.empty())
    throw sim::ConfigError(file +
                           ": $: missing key \"fingerprint\" (nothing would check that the run "
                           "is the recorded one); allowed: a replay written by vcpusim explore or "
                           "shrink (run --replay --no-fingerprint-check runs one without)");
}

}  // namespace vcpusim::tools
