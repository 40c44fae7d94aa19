// libFuzzer target: the sweep spec reader, the DIR/sweep.json reader and the run record reader
// (fuzz/sweep_input.hpp says what it checks). Bad input must end in sim::ConfigError; anything
// else (a crash, another exception, an abort, a sanitizer report) is a finding.
#include <cstdint>
#include <string>

#include "fuzz/sweep_input.hpp"

// libsystemc.so refers to sc_main; these targets never start SystemC.
extern "C" int sc_main(int, char**) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vcpusim::fuzz::read_sweep_input(std::string(reinterpret_cast<const char*>(data), size),
                                  VCPUSIM_SOURCE_DIR);
  return 0;
}
