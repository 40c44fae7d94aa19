// Every observable step goes through here: it feeds the run's fingerprint (a hash of the event
// stream, pinned per catalogue scenario in the tests) and, when asked, keeps the events.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/time.hpp"

namespace vcpusim::sim {

struct RecordedEvent {
  Tick time;
  int component;
  std::string kind;
  std::int64_t a;
  std::int64_t b;
};

class Recorder {
 public:
  void record(Tick time, int component, const char* kind, std::int64_t a = 0, std::int64_t b = 0);
  void keep_events(bool keep) { keep_ = keep; }
  const std::vector<RecordedEvent>& events() const { return events_; }
  std::uint64_t count() const { return count_; }
  // 16 hex digits of the FNV-1a 64 hash over every recorded event.
  std::string fingerprint() const;

 private:
  void mix(std::uint64_t v);
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
  bool keep_ = false;
  std::vector<RecordedEvent> events_;
};

}  // namespace vcpusim::sim
