// libFuzzer target: the result reader (vcpusim report). Bad input must end in sim::ConfigError;
// anything else is a finding.
#include <cstdint>
#include <string>

#include "sim/error.hpp"
#include "tools/view/report.hpp"

// libsystemc.so refers to sc_main; these targets never start SystemC.
extern "C" int sc_main(int, char**) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)vcpusim::tools::render_report(text, "");
  } catch (const vcpusim::sim::ConfigError&) {
  }
  return 0;
}
