// libFuzzer target: the scenario loader with --set overrides. Input: scenario text, then
// optionally a line "#set" followed by one override per line. Bad input must end in
// sim::ConfigError; anything else (a crash, another exception, a sanitizer report) is a finding.
// A scenario that loads must load again from its resolved form with the same resolved form (the
// replay property of validate --resolved).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/config/scenario_file.hpp"
#include "sim/error.hpp"
#include "tools/run/scenario.hpp"

// libsystemc.so refers to sc_main; these targets never start SystemC.
extern "C" int sc_main(int, char**) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vcpusim;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto marker = input.find("\n#set\n");
  const std::string text = input.substr(0, marker);
  std::vector<std::string> sets;
  if (marker != std::string::npos) {
    std::string rest = input.substr(marker + 6);
    for (std::size_t at = 0; at <= rest.size();) {
      const auto eol = std::min(rest.find('\n', at), rest.size());
      sets.push_back(rest.substr(at, eol - at));
      at = eol + 1;
    }
  }
  std::unique_ptr<tools::Scenario> s;
  try {
    s = tools::Scenario::from_json(sim::parse_json_text(text, "fuzz.json"), "fuzz.json", sets);
  } catch (const sim::ConfigError&) {
    return 0;
  }
  const sim::Json resolved = s->resolved();
  const auto again = tools::Scenario::from_json(
      sim::parse_json_text(resolved.dump(2), "resolved.json"), "resolved.json");
  if (again->resolved() != resolved) std::abort();  // the resolved form does not replay
  return 0;
}
