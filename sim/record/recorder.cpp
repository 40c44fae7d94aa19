#include "sim/record/recorder.hpp"

#include <cstdio>

#include "sim/error.hpp"

namespace vcpusim::sim {

// One round per 64-bit word: xor in, multiply by an odd constant (carries move low bits up), fold
// the high half down (so high input bits reach the low ones). Byte-wise FNV-1a cost eight
// dependent multiplies per word and per character: 10% of a run that records every clock read.
void Recorder::mix(std::uint64_t v) {
  hash_ = (hash_ ^ v) * 0xff51afd7ed558ccdULL;
  hash_ ^= hash_ >> 33;
}

void Recorder::record(Tick time, int component, const char* kind, std::int64_t a, std::int64_t b) {
  if (*ahead_) out_of_order(time, component, kind);
  mix(static_cast<std::uint64_t>(time));
  mix(components_.key(component));
  // The kind eight characters to a word, then its length (so no two kinds hash alike by padding).
  std::uint64_t word = 0;
  std::uint64_t length = 0;
  for (const char* p = kind; *p; ++p) {
    word = word << 8 | static_cast<unsigned char>(*p);
    if (++length % 8 == 0) {
      mix(word);
      word = 0;
    }
  }
  if (length % 8 != 0) mix(word);
  mix(length);
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

void Recorder::out_of_order(Tick time, int component, const char* kind) const {
  throw SimError("lookahead violation: " + components_.at(component).name + " recorded \"" + kind +
                 "\" at " + format_time(time) +
                 " while running ahead of pending events; the footprint it declared says it makes "
                 "no records (docs/lookahead.md)");
}

}  // namespace vcpusim::sim
