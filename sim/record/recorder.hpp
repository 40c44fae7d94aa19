// Every observable step goes through here: it feeds the run's fingerprint (a hash of the event
// stream, pinned per catalogue scenario in the tests) and, when asked, keeps the events or hands
// each one to a sink as it happens (the streamed trace, sim/trace/trace.hpp).
// note() is the trace-only path: kept with the events and handed to the sink (for --trace/--vcd,
// see docs/trace.md) but neither hashed nor counted, so adding notes never changes a fingerprint
// or a result.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/record/components.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

struct RecordedEvent {
  Tick time;
  int component;
  std::string kind;
  std::int64_t a;
  std::int64_t b;
};

// One event as handed to a sink: `kind` is valid for the duration of the call only.
struct EventView {
  Tick time;
  int component;
  const char* kind;
  std::int64_t a;
  std::int64_t b;
};

// Sees every event and note as it is recorded, and every label.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void event(const EventView& e) = 0;
  virtual void label(std::int64_t id, const std::string& name) = 0;
};

// Hands each event and label to two sinks, in order (the recorder takes one).
class EventTee final : public EventSink {
 public:
  EventTee(EventSink& first, EventSink& second) : first_(first), second_(second) {}
  void event(const EventView& e) override {
    first_.event(e);
    second_.event(e);
  }
  void label(std::int64_t id, const std::string& name) override {
    first_.label(id, name);
    second_.label(id, name);
  }

 private:
  EventSink& first_;
  EventSink& second_;
};

class Recorder {
 public:
  void record(Tick time, int component, const char* kind, std::int64_t a = 0, std::int64_t b = 0);
  // Trace-only event: kept when keep_events is on and handed to the sink; never hashed or counted.
  void note(Tick time, int component, const char* kind, std::int64_t a = 0, std::int64_t b = 0) {
    if (*ahead_) out_of_order(time, component, kind);
    if (keep_) events_.push_back(RecordedEvent{time, component, kind, a, b});
    if (sink_) sink_->event(EventView{time, component, kind, a, b});
  }
  // Trace-only name for an id used in notes (a lock, a seqcount, a memory word): always kept (one
  // per named object) and handed to the sink. The id must be deterministic (an index, never an
  // address).
  void label(std::int64_t id, const std::string& name) {
    labels_.emplace_back(id, name);
    if (sink_) sink_->label(id, name);
  }
  void keep_events(bool keep) { keep_ = keep; }
  // Records are taken in call order, which is key order only while no code runs ahead of a
  // pending event (sim::Kernel's lookahead): `running_ahead` says when code does, and a record or
  // note made then is a lookahead violation (a footprint declaration that said "no records").
  void guard(const bool* running_ahead) { ahead_ = running_ahead; }
  // Hands every later event and note to `sink` (null: none), and the labels so far at once.
  void set_sink(EventSink* sink) {
    sink_ = sink;
    if (sink_)
      for (const auto& [id, name] : labels_) sink_->label(id, name);
  }
  // Who records: an event's component is an id from here. The fingerprint hashes the
  // component's stable name key, not its id, so it does not depend on registration order.
  Components& components() { return components_; }
  const Components& components() const { return components_; }
  const std::vector<RecordedEvent>& events() const { return events_; }
  std::vector<RecordedEvent> take_events() { return std::move(events_); }
  const std::vector<std::pair<std::int64_t, std::string>>& labels() const { return labels_; }
  std::uint64_t count() const { return count_; }
  // 16 hex digits of a 64-bit hash over every recorded event (one multiply-xorshift round per
  // word: time, component key, kind, a, b).
  std::string fingerprint() const;

 private:
  void mix(std::uint64_t v);
  [[noreturn]] void out_of_order(Tick time, int component, const char* kind) const;
  static constexpr bool kNever = false;
  const bool* ahead_ = &kNever;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::uint64_t count_ = 0;
  bool keep_ = false;
  EventSink* sink_ = nullptr;
  Components components_;
  std::vector<RecordedEvent> events_;
  std::vector<std::pair<std::int64_t, std::string>> labels_;
};

}  // namespace vcpusim::sim
