// Event timelines for people, as a generic engine: processes and lanes with sort order, nested
// slices per lane, async spans, flows, counters, instants and VCD signals, cut to a time window
// and a set of categories, written as Chrome Trace Event JSON (Perfetto, chrome://tracing) or as
// a VCD (GTKWave). It knows no event kind: each component family declares a TraceVocabulary that
// turns the events its components recorded into these calls (see docs/trace.md).
// Streamed: the engine is the recorder's sink (sim/record/recorder.hpp) during the run and writes
// each piece of output once its place in the file is settled, keeping only open state (open slices
// and spans, pending flows, counter values, a vocabulary's open bins). It never feeds back into
// the simulation. The output is the events sorted by time, ties in the order they were drawn.
#pragma once
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/record/components.hpp"
#include "sim/record/recorder.hpp"
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
  std::string args;       // ... and pre-rendered JSON members of "args" ("\"k\":v,...")
  std::string top;        // pre-rendered top-level members ("s" scope, "bp" binding)
  std::uint64_t seq = 0;  // drawing order: the tie-break at equal ts
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
  static constexpr std::uint64_t kNone = 0;
  std::int64_t id = 0;
  std::uint64_t start = kNone;  // its "s" event (held until the flow finishes or is dropped)
  std::string name;
};

class TraceBuilder;

inline bool kind_is(const EventView& e, const char* kind) {
  return std::strcmp(e.kind, kind) == 0;
}

// The trace vocabulary of one component family, declared by the code that records the events.
class TraceVocabulary {
 public:
  virtual ~TraceVocabulary() = default;
  // Component groups (sim::Components::Entry::group) whose events this vocabulary translates.
  virtual std::vector<std::string> groups() const = 0;
  // Event kinds it translates whichever component recorded them (a guest model's notes on a
  // vCPU's lane): such an event goes to it, not to the vocabulary of the recorder's group.
  virtual std::vector<std::string> kinds() const { return {}; }
  // Declares processes, lanes, counters and signals, before the first event.
  virtual void declare(TraceBuilder& b) = 0;
  virtual void handle(const EventView& e, TraceBuilder& b) = 0;
  // After the last event (pending flows are dropped here).
  virtual void finish(TraceBuilder&) {}
  // The earliest time it may still draw at, before now (a back-dated counter of a bin still open,
  // a span whose start is known only later); kForever when none. Output before it is final.
  virtual Tick hold() const { return kForever; }
};

struct TraceSignal {
  std::string scope;
  std::string name;
  int width = 1;
};

struct TraceChange {
  Tick t;
  int signal;
  std::int64_t value;  // -1: high impedance (idle)
};

class ChromeWriter;
class VcdWriter;
class Trace;

// Where the engine writes: streams (the files of a run) and/or a Trace kept in memory.
struct TraceTargets {
  std::ostream* chrome = nullptr;  // Chrome Trace Event JSON
  std::ostream* vcd = nullptr;
  Trace* keep = nullptr;
};

// What the engine held at most: its memory, independent of the run's length.
struct TraceStats {
  std::size_t peak_held = 0;      // drawn events waiting for their place in the output
  std::size_t peak_retained = 0;  // of those, what a flush could not write yet
  std::size_t peak_pending = 0;   // flow starts and reads whose fate is not known yet
  std::size_t late_inputs = 0;    // events or violations that came after a later one (none)
  std::uint64_t written = 0;      // events written
};

// The engine, and what a vocabulary draws with. Emission outside the window or of a filtered
// category is a no-op. Feed it events (as the recorder's sink, in time order) and violations
// (as they are reported), then finish().
class TraceBuilder final : public EventSink {
 public:
  using CounterKey = std::pair<int, std::int64_t>;  // counters are re-emitted in this order

  // Vocabularies declare in the order given; each event goes to the one claiming its kind, else
  // to the one owning its group.
  // `components` must be complete and outlive the builder.
  TraceBuilder(const TraceInfo& info, const Components& components, const TraceFilter& filter,
               std::vector<TraceVocabulary*> vocabularies, TraceTargets targets);
  ~TraceBuilder() override;
  TraceBuilder(const TraceBuilder&) = delete;
  TraceBuilder& operator=(const TraceBuilder&) = delete;

  // --- input ---
  void event(const EventView& e) override;
  void label(std::int64_t id, const std::string& name) override;
  void violation(const TraceViolation& v);
  // After the last event: closes what is open and writes the rest.
  void finish();
  const TraceStats& stats() const { return stats_; }

  // --- declarations (in TraceVocabulary::declare) ---
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
  // A counter sample dated `at` (back-dated by at most the vocabulary's hold()), kept when `at`
  // lies in the window; not re-emitted at the window start.
  void counter_at(Tick at, int pid, const std::string& name, const char* arg, std::int64_t value);

  // --- instants: null when outside the window or filtered out ---
  TraceEvent* instant(int lane, std::string name, const char* cat);
  // An instant with up to two integer args, kept only when a violation lies within `radius` of
  // now (one at most `radius` later is awaited: the instant is held until then). Cheap when it
  // is not kept (most clock reads): `name` must outlive the builder.
  struct NearViolation {
    int lane;
    const std::string* name;
    const char* cat;
    Tick radius;
    const char* k1;
    std::int64_t v1;
    const char* k2;
    std::int64_t v2;
  };
  void instant_near_violation(const NearViolation& i);

  void set_signal(int signal, std::int64_t value);

 private:
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
  struct Input {  // an event of the current instant, its kind interned
    EventView e;
    TraceVocabulary* owner;
  };
  struct Kind {  // an interned event kind
    std::unique_ptr<char[]> text;
    TraceVocabulary* claimed_by = nullptr;
  };
  struct Tentative {  // an instant kept if a violation comes by `until`
    NearViolation i;
    Tick ts;
    Tick until;
    std::uint64_t seq;
  };

  void begin_output();
  void metadata();
  void settle_instant();
  void process_violation(const TraceViolation& v);
  void process_event(const Input& in);
  void expire_tentative(Tick t);
  void keep_tentative(const Tentative& t);
  const Kind& intern(const char* kind);
  void advance(Tick t);
  void enter(Tick from);
  void leave(Tick to);
  TraceEvent& push(char ph, int pid, int tid, std::string name, const char* cat,
                   bool pending = false);
  void emit_slice(char ph, const Lane& lane, const TraceSlice& s);
  void emit_span(char ph, const Span& s);
  void emit_counter(const Counter& c);
  void draw_violation(const TraceViolation& v, std::size_t index);
  void write_change(Tick t, int signal, std::int64_t value);
  void flush(bool all);
  void write(const TraceEvent& e);

  TraceInfo info_;
  const Components& components_;
  TraceFilter filter_;
  std::vector<TraceVocabulary*> vocabularies_;
  std::vector<TraceVocabulary*> owner_;  // per component id
  TraceTargets targets_;
  std::unique_ptr<ChromeWriter> chrome_;
  std::unique_ptr<VcdWriter> vcd_;
  bool draws_ = false;  // Chrome events are wanted (a VCD alone needs the state changes only)

  std::vector<std::pair<std::string, std::int64_t>> other_data_;  // Chrome "otherData" members
  std::vector<std::string> vcd_notes_;                            // VCD $comment, after the title
  std::vector<TraceSignal> signals_;
  std::map<std::int64_t, std::string> labels_;
  std::vector<std::pair<int, std::string>> processes_;  // pid, name; sort in process_sort_
  std::vector<int> process_sort_;
  std::vector<Lane> lanes_;
  std::vector<int> violation_lanes_;
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
  bool finished_ = false;
  Tick now_ = 0;

  // Input: the events of the current instant wait for the violations reported at it.
  Tick instant_ = -1;
  Tick settled_ = -1;  // the last instant whose events were handled
  std::vector<Input> instant_events_;
  std::deque<TraceViolation> violations_in_;  // reported, not yet processed (time order)
  std::size_t violation_index_ = 0;
  Tick last_violation_ = -1;
  Tick last_event_ = 0;
  bool stopped_ = false;  // past the window: events are no longer handled
  std::unordered_map<std::string, Kind> kinds_;
  std::unordered_map<const char*, const Kind*> kind_cache_;  // by the recorder's pointer
  bool claims_ = false;                                      // some vocabulary claims kinds

  // Output held back until no earlier event can be drawn any more.
  std::uint64_t next_seq_ = 1;
  TraceEvent scratch_;                           // drawn when no Chrome output is wanted
  std::vector<TraceEvent> held_;                 // settled, waiting for their turn
  std::map<std::uint64_t, TraceEvent> pending_;  // flow starts and tentative instants
  std::deque<Tentative> tentative_;              // in drawing order
  std::size_t flush_at_ = 4096;
  TraceStats stats_;
};

// A trace kept whole in memory (tests, and runs made with RunOptions::keep_events).
class Trace {
 public:
  static Trace build(const TraceInfo& info, const Components& components,
                     const std::vector<RecordedEvent>& events,
                     const std::vector<std::pair<std::int64_t, std::string>>& labels,
                     const std::vector<TraceViolation>& violations, const TraceFilter& filter,
                     const std::vector<TraceVocabulary*>& vocabularies);

  void write_chrome_json(std::ostream& out) const;
  void write_vcd(std::ostream& out) const;

  const std::vector<TraceEvent>& events() const { return events_; }
  const std::vector<TraceSignal>& signals() const { return signals_; }
  const std::vector<TraceChange>& changes() const { return changes_; }

 private:
  friend class TraceBuilder;
  TraceInfo info_;
  std::vector<std::pair<std::string, std::int64_t>> other_data_;
  std::vector<std::string> vcd_notes_;
  std::vector<TraceEvent> events_;  // in output order, the metadata first
  std::vector<TraceSignal> signals_;
  std::vector<TraceChange> changes_;
};

}  // namespace vcpusim::sim
