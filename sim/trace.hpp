// Event timelines for people: translates the Recorder's event stream (recorded kinds and
// trace-only notes, see docs/trace.md) into lanes, nested slices, async spans, flows, counters and
// instants, and writes them as Chrome Trace Event JSON (Perfetto, chrome://tracing) or as a VCD
// (GTKWave). Pure post-processing of a finished run: it never feeds back into the simulation.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/recorder.hpp"
#include "sim/time.hpp"

namespace vcpusim::sim {

// What the translator needs to know about the run besides the events.
struct TraceInfo {
  std::string title;  // scenario name
  int pcpus = 0;
  int vcpus = 0;                        // host threads 0..vcpus-1
  std::vector<std::string> load_names;  // host threads vcpus.. in order
  Tick end = 0;                         // simulated duration: open slices are closed here
  std::int64_t tsc_hz = 0;              // to date a timekeeping update from its c0 TSC read
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
  // sched vcpu irq spin read timekeeping lock seqcount flow counter violation
  static const std::vector<std::string>& all_categories();
};

// Lane ids in the Chrome trace: process 1 holds the pCPU lanes, process 2 the vCPU lanes.
constexpr int kHostPid = 1;
constexpr int kVmPid = 2;
inline int pcpu_tid(int pcpu) {
  return 10000 + pcpu;
}
inline int vcpu_tid(int vcpu) {
  return 20000 + vcpu;
}

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

// VCD signals: pCPU owners (host thread id, z when idle) and vCPU states (codes below).
enum VcpuStateCode : int {
  kVcdHalted = 0,
  kVcdRunning = 1,
  kVcdPreempted = 2,
  kVcdRunnable = 3,  // woken, waiting for a pCPU
  kVcdIrq = 4,
  kVcdNmi = 5,
  kVcdSpinning = 6,
  kVcdOff = 7,  // not started
};

class Trace {
 public:
  static Trace build(const TraceInfo& info, const std::vector<RecordedEvent>& events,
                     const std::vector<std::pair<std::int64_t, std::string>>& labels,
                     const std::vector<TraceViolation>& violations, const TraceFilter& filter);

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
  std::vector<TraceEvent> events_;
  std::vector<Signal> signals_;
  std::vector<Change> changes_;
  Tick vcd_from_ = 0;
};

}  // namespace vcpusim::sim
