// The trace engine's writers (sim/trace/trace.hpp): Chrome Trace Event JSON and VCD, each written
// piece by piece as the engine settles it, through a small buffer.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace/trace.hpp"

namespace vcpusim::sim {

// Appends to a string and hands it to the stream in chunks.
class TraceBuffer {
 public:
  explicit TraceBuffer(std::ostream& out) : out_(out) { buf_.reserve(kChunk + 4096); }
  ~TraceBuffer() { flush(); }
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;
  void flush();
  TraceBuffer& operator<<(const char* s) {
    buf_ += s;
    return *this;
  }
  TraceBuffer& operator<<(const std::string& s) {
    buf_ += s;
    return *this;
  }
  TraceBuffer& operator<<(char c) {
    buf_ += c;
    return *this;
  }
  TraceBuffer& num(std::int64_t v);
  // picoseconds as microseconds with an exact decimal fraction, trailing zeros trimmed
  TraceBuffer& micros(Tick t);
  void string(const std::string& s);  // a JSON string
  // Hands the buffer over once it is a chunk long (between whole records).
  void maybe_flush() {
    if (buf_.size() >= kChunk) flush();
  }

 private:
  static constexpr std::size_t kChunk = 1 << 16;
  std::ostream& out_;
  std::string buf_;
};

class ChromeWriter {
 public:
  explicit ChromeWriter(std::ostream& out) : out_(out) {}
  void begin(const TraceInfo& info,
             const std::vector<std::pair<std::string, std::int64_t>>& other_data);
  void event(const TraceEvent& e);
  void end();

 private:
  TraceBuffer out_;
  bool first_ = true;
};

// Writes one value per signal and timestamp (the last one), and only real changes.
class VcdWriter {
 public:
  explicit VcdWriter(std::ostream& out) : out_(out) {}
  void begin(const std::string& title, const std::vector<std::string>& notes,
             const std::vector<TraceSignal>& signals);
  // Changes come in time order.
  void change(Tick t, int signal, std::int64_t value);
  void end();

 private:
  void close_block();
  TraceBuffer out_;
  std::vector<TraceSignal> signals_;
  std::vector<std::int64_t> shown_;
  std::vector<std::int64_t> latest_;
  std::vector<int> touched_;
  Tick block_ = -1;
  bool first_block_ = true;
};

}  // namespace vcpusim::sim
