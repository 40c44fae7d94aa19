// libFuzzer target: the replay-file reader (vcpusim run --replay, shrink, report/timeline --diff):
// the file, its fingerprint, its scenario and its schedule checked against that scenario. Bad
// input must end in sim::ConfigError; anything else is a finding. A replay that loads must load
// again from what it writes with the same content (explore and shrink write replays this way).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sim/error.hpp"
#include "tools/explore/explore.hpp"
#include "tools/run/schedule.hpp"

// libsystemc.so refers to sc_main; these targets never start SystemC.
extern "C" int sc_main(int, char**) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vcpusim;
  const std::string text(reinterpret_cast<const char*>(data), size);
  tools::ReplayFile r;
  try {
    r = tools::ReplayFile::parse(text, "fuzz.replay.json");
    (void)tools::replay_scenario(r, "fuzz.replay.json");
  } catch (const sim::ConfigError&) {
    return 0;
  }
  const sim::Json written = r.to_json();
  if (tools::ReplayFile::parse(written.dump(), "again.json").to_json() != written) std::abort();
  try {
    r.require_fingerprint("fuzz.replay.json");
  } catch (const sim::ConfigError&) {
  }
  return 0;
}
