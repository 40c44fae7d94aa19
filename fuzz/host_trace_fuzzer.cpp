// libFuzzer target: the host recording readers behind a `trace` host load and `vcpusim load
// import` (fuzz/host_trace_input.hpp).
#include <cstdint>
#include <string>

#include "host_trace_input.hpp"

// libsystemc.so refers to sc_main; these targets never start SystemC.
extern "C" int sc_main(int, char**) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vcpusim::fuzz::read_host_trace_input(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
