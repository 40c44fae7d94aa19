#include "sim/recorder.hpp"

#include <cstdio>

namespace vcpusim::sim {

void Recorder::mix(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    hash_ ^= (v >> (8 * i)) & 0xff;
    hash_ *= 0x100000001b3ULL;
  }
}

void Recorder::record(Tick time, int component, const char* kind, std::int64_t a, std::int64_t b) {
  mix(static_cast<std::uint64_t>(time));
  mix(components_.key(component));
  for (const char* p = kind; *p; ++p) mix(static_cast<unsigned char>(*p));
  mix(static_cast<std::uint64_t>(a));
  mix(static_cast<std::uint64_t>(b));
  ++count_;
  if (keep_) events_.push_back(RecordedEvent{time, component, kind, a, b});
  if (sink_) sink_->event(EventView{time, component, kind, a, b});
}

std::string Recorder::fingerprint() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_));
  return buf;
}

}  // namespace vcpusim::sim
