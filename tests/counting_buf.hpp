// An output buffer that counts what it is given and keeps nothing: a trace's size without the
// trace (the streamed-trace tests and the trace benchmark).
#pragma once
#include <cstdint>
#include <streambuf>

namespace vcpusim::test {

class CountingBuf : public std::streambuf {
 public:
  std::uint64_t n = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize k) override {
    n += static_cast<std::uint64_t>(k);
    return k;
  }
  int overflow(int c) override {
    ++n;
    return c;
  }
};

}  // namespace vcpusim::test
