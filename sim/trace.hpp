// Event timelines for people, as a generic engine: processes and lanes with sort order, nested
// slices per lane, async spans, flows, counters, instants and VCD signals, cut to a time window
// and a set of categories, written as Chrome Trace Event JSON (Perfetto, chrome://tracing) or as
// a VCD (GTKWave). It knows no event kind: each component family declares a TraceVocabulary that
// turns the events its components recorded into these calls (see docs/trace.md).
// Pure post-processing of a finished run: it never feeds back into the simulation.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/components.hpp"
#include "sim/recorder.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

struct TraceInfo {
  std::string title;  // scenario name
  Tick end = 0;       // simulated duration: open slices are closed here
};

struct TraceViolation {
  Tick time = 0;
  std::string check;
  std::vector<int> cpus;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

// Volume control: a time window and the categories to keep.
struct TraceFilter {
  Tick from = 0;
  Tick to = kForever;
  std::set<std::string> categories;  // empty: all of them
  bool wants(const char* category) const;
  // The category was listed explicitly (a vocabulary may summarise a bulky category unless so).
  bool asked(const char* category) const { return categories.count(category) > 0; }
  // The categories the engine itself emits; vocabularies declare the rest.
  static const std::vector<std::string>& engine_categories();  // flow counter violation
};

struct TraceEvent {
  Tick ts = 0;
  char ph = 'i';  // M B E i b e s f C
  int pid = 0;
  int tid = 0;
  std::string name;
  const char* cat = "";
  std::int64_t id = -1;      // async span or flow id
  const char* k1 = nullptr;  // up to two integer args ...
  std::int64_t v1 = 0;
  const char* k2 = nullptr;
  std::int64_t v2 = 0;
  std::string args;      // ... and pre-rendered JSON members of "args" ("\"k\":v,...")
  std::string top;       // pre-rendered top-level members ("s" scope, "bp" binding)
  bool dropped = false;  // a flow start whose end never came
};

// A slice on a lane, or an async span: a name, a category and up to two integer args.
struct TraceSlice {
  std::string name;
  const char* cat = "";
  const char* k1 = nullptr;
  std::int64_t v1 = 0;
  const char* k2 = nullptr;
  std::int64_t v2 = 0;
};

// A flow arrow started on one lane, to be finished on another (or dropped).
struct TraceFlow {
  std::int64_t id = 0;
  std::size_t start_index = static_cast<std::size_t>(-1);  // its "s" event, or none
  std::string name;
};

class TraceBuilder;

// The trace vocabulary of one component family, declared by the code that records the events.
class TraceVocabulary {
 public:
  virtual ~TraceVocabulary() = default;
  // Component groups (sim::Components::Entry::group) whose events this vocabulary translates.
  virtual std::vector<std::string> groups() const = 0;
  // Declares processes, lanes, counters and signals, before the first event.
  virtual void declare(TraceBuilder& b) = 0;
  // Sees each of its events once before the translation starts.
  virtual void scan(const RecordedEvent&) {}
  virtual void handle(const RecordedEvent& e, TraceBuilder& b) = 0;
  // After the last event (pending flows are dropped here).
  virtual void finish(TraceBuilder&) {}
};

class Trace {
 public:
  // Vocabularies declare in the order given; each event goes to the one owning its group.
  static Trace build(const TraceInfo& info, const Components& components,
                     const std::vector<RecordedEvent>& events,
                     const std::vector<std::pair<std::int64_t, std::string>>& labels,
                     const std::vector<TraceViolation>& violations, const TraceFilter& filter,
                     const std::vector<TraceVocabulary*>& vocabularies);

  void write_chrome_json(std::ostream& out) const;
  void write_vcd(std::ostream& out) const;

  const std::vector<TraceEvent>& events() const { return events_; }

  struct Signal {
    std::string scope;
    std::string name;
    int width = 1;
  };
  struct Change {
    Tick t;
    int signal;
    std::int64_t value;  // -1: high impedance (idle)
  };
  const std::vector<Signal>& signals() const { return signals_; }
  const std::vector<Change>& changes() const { return changes_; }

 private:
  friend class TraceBuilder;
  TraceInfo info_;
  std::vector<std::pair<std::string, std::int64_t>> other_data_;  // Chrome "otherData" members
  std::vector<std::string> vcd_notes_;                            // VCD $comment, after the title
  std::vector<TraceEvent> events_;
  std::vector<Signal> signals_;
  std::vector<Change> changes_;
  Tick vcd_from_ = 0;
};

// What a vocabulary draws with. Emission outside the window or of a filtered category is a no-op.
class TraceBuilder {
 public:
  using CounterKey = std::pair<int, std::int64_t>;  // counters are re-emitted in this order

  TraceBuilder(Trace& out, const TraceInfo& info, const Components& components,
               const std::vector<std::pair<std::int64_t, std::string>>& labels,
               const TraceFilter& filter);

  // --- declarations (before the first event) ---
  void add_process(int pid, const std::string& name, int sort);
  // Returns the lane number used by open(), flows and instants.
  int add_lane(int pid, int tid, const std::string& name, int sort);
  int find_lane(int pid, int tid) const;  // -1 when there is none
  // Adds a VCD signal with its value before the first change; returns its number.
  int add_signal(const std::string& scope, const std::string& name, int width,
                 std::int64_t initial);
  void add_other_data(const std::string& key, std::int64_t value);
  void add_vcd_note(const std::string& text);
  // The lanes violations of cpu 0, 1, ... are shown on (clamped to the last one), and the VCD
  // scope of the violation count (the last signal).
  void set_violation_lanes(std::vector<int> lanes, std::string scope) {
    violation_lanes_ = std::move(lanes);
    violation_scope_ = std::move(scope);
  }

  // --- state ---
  Tick now() const { return now_; }
  bool live() const { return entered_ && !exited_; }
  bool wants(const char* category) const { return filter_.wants(category); }
  bool asked(const char* category) const { return filter_.asked(category); }
  const TraceFilter& filter() const { return filter_; }
  // Whether a violation lies within `radius` of t (the violations are known before translation).
  bool near_violation(Tick t, Tick radius) const;
  std::string label(std::int64_t id) const;
  const Components& components() const { return components_; }

  // --- slices: a stack per lane ---
  void open(int lane, TraceSlice s);
  void close_top(int lane);
  void close_all(int lane);

  // --- async spans, one open per (kind, key); `begin` may back-date the start ---
  void open_span(const char* kind, std::int64_t key, int pid, int tid, TraceSlice s,
                 Tick begin = -1);
  void close_span(const char* kind, std::int64_t key);

  // --- flows; lane -1 (or a start outside the window) gives a flow that is never drawn ---
  TraceFlow start_flow(int lane, const std::string& name, Tick at);
  void finish_flow(const TraceFlow& f, int lane);
  void drop(const TraceFlow& f);

  // --- counters: emitted on every set (and at the window start) ---
  void set_counter(CounterKey key, int pid, const std::string& name, const char* arg,
                   std::int64_t value);
  // A counter sample dated `at` (at most one bin back: the value of a bin that just closed),
  // kept when `at` lies in the window; not re-emitted at the window start.
  void counter_at(Tick at, int pid, const std::string& name, const char* arg, std::int64_t value);

  // --- instants: null when outside the window or filtered out ---
  TraceEvent* instant(int lane, std::string name, const char* cat);

  void set_signal(int signal, std::int64_t value);

 private:
  friend class Trace;
  struct Lane {
    int pid;
    int tid;
    std::string name;
    int sort;
    std::vector<TraceSlice> stack;
  };
  struct Span {
    TraceSlice slice;
    std::int64_t id;
    int pid;
    int tid;
  };
  struct Counter {
    int pid;
    std::string name;
    const char* arg;
    std::int64_t value;
  };

  void metadata();
  void run(const std::vector<RecordedEvent>& events, std::vector<TraceViolation> violations,
           const std::vector<TraceVocabulary*>& vocabularies);
  void advance(Tick t);
  void enter(Tick from);
  void leave(Tick to);
  TraceEvent& push(char ph, int pid, int tid, std::string name, const char* cat);
  void emit_slice(char ph, const Lane& lane, const TraceSlice& s);
  void emit_span(char ph, const Span& s);
  void emit_counter(const Counter& c);
  void violation(const TraceViolation& v, std::size_t index);

  Trace& out_;
  const TraceInfo& info_;
  const Components& components_;
  const TraceFilter& filter_;
  std::map<std::int64_t, std::string> labels_;
  std::vector<std::pair<int, std::string>> processes_;  // pid, name; sort in process_sort_
  std::vector<int> process_sort_;
  std::vector<Lane> lanes_;
  std::vector<int> violation_lanes_;
  std::vector<Tick> violation_times_;  // sorted
  std::string violation_scope_ = "checks";
  std::map<std::pair<std::string, std::int64_t>, Span> spans_;
  std::map<CounterKey, Counter> counters_;
  std::vector<std::int64_t> signal_value_;
  int violation_signal_ = -1;
  std::int64_t violations_ = 0;
  std::int64_t next_span_ = 1;
  std::int64_t next_flow_ = 1;
  bool entered_ = false;
  bool exited_ = false;
  bool unsorted_ = false;
  std::size_t meta_count_ = 0;
  Tick now_ = 0;
};

}  // namespace vcpusim::sim
