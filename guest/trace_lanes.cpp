#include "guest/trace_lanes.hpp"

#include <algorithm>

#include "cpu/trace_lanes.hpp"
#include "guest/trace_kinds.hpp"

namespace vcpusim::guest {

const std::vector<std::string>& GuestTraceVocabulary::categories() {
  static const std::vector<std::string> all = {"lock",        "seqcount", "read",
                                               "timekeeping", "rcu",      "c"};
  return all;
}

std::vector<std::string> GuestTraceVocabulary::kinds() const {
  using namespace trace_kind;
  return {kLockAcquire,
          kLockRelease,
          kLockHolderPreempted,
          kLockWaiterPreempted,
          kLockStealPastHaltedHead,
          kSeqWriteBegin,
          kSeqWriteEnd,
          kCodeNote,
          kCodeSpanBegin,
          kCodeSpanEnd};
}

void GuestTraceVocabulary::declare(sim::TraceBuilder& b) {
  tk_signal_ = b.add_signal("vm", "tk_update", 1, 0);
  reads_ = b.wants("read");
  every_read_ = b.asked("read");
  from_ = b.filter().from;
  const sim::Components& components = b.components();
  for (int c = 0; c < components.size(); ++c) {
    const std::string& g = components.at(c).group;
    group_.push_back(g == "clock"  ? Group::kClock
                     : g == "rcu"  ? Group::kRcu
                     : g == "vcpu" ? Group::kVcpu
                                   : Group::kOther);
    if (g == "clock") {
      const int v = components.at(c).index;
      if (static_cast<std::size_t>(v) >= lane_.size())
        lane_.resize(static_cast<std::size_t>(v) + 1);
      lane_[static_cast<std::size_t>(v)] = b.find_lane(cpu::kVmPid, cpu::vcpu_tid(v));
    }
  }
}

// A read's name ("vdso read"), kept for the builder's lifetime (kinds are interned).
const std::string& GuestTraceVocabulary::read_name(const char* kind) {
  for (const auto& [k, name] : read_names_)
    if (k == kind) return name;
  read_names_.emplace_back(kind, std::string(kind) + " read");
  return read_names_.back().second;
}

sim::Tick GuestTraceVocabulary::hold() const {
  sim::Tick h = update_begin_;
  for (const ReadBin& bin : bins_)
    if (bin.start >= 0) h = std::min(h, std::max(bin.start, from_));
  return h;
}

void GuestTraceVocabulary::read(int vcpu, const sim::EventView& e, sim::TraceBuilder& b) {
  if (!reads_) return;
  if (!every_read_) {
    if (static_cast<std::size_t>(vcpu) >= bins_.size())
      bins_.resize(static_cast<std::size_t>(vcpu) + 1);
    ReadBin& bin = bins_[static_cast<std::size_t>(vcpu)];
    const sim::Tick start = e.time - e.time % kReadBin;
    if (bin.start != start) {
      close_bin(vcpu, b, start);
      bin.start = start;
    }
    ++bin.count;
  }
  const int lane = lane_[static_cast<std::size_t>(vcpu)];
  if (!every_read_) {
    b.instant_near_violation(
        {lane, &read_name(e.kind), "read", kReadsAround, "value_ns", e.a, "latency_ns", e.b});
    return;
  }
  sim::TraceEvent* t = b.instant(lane, read_name(e.kind), "read");
  if (!t) return;
  t->k1 = "value_ns";
  t->v1 = e.a;
  t->k2 = "latency_ns";
  t->v2 = e.b;
}

// A bin's count is known when it closes: it is dated at the bin's start (or the window's, when
// the window starts inside it), and a gap after it (no read: the reader preempted, halted, or
// done) shows as zero.
void GuestTraceVocabulary::close_bin(int vcpu, sim::TraceBuilder& b, sim::Tick next) {
  ReadBin& bin = bins_[static_cast<std::size_t>(vcpu)];
  if (bin.start < 0) return;
  const std::string name = "clock reads vCPU" + std::to_string(vcpu);
  const sim::Tick end = bin.start + kReadBin;
  if (end > b.filter().from)
    b.counter_at(std::max(bin.start, b.filter().from), cpu::kVmPid, name, "per_100us", bin.count);
  if (next != end) b.counter_at(end, cpu::kVmPid, name, "per_100us", 0);
  bin = ReadBin{};
}

void GuestTraceVocabulary::finish(sim::TraceBuilder& b) {
  for (std::size_t v = 0; v < bins_.size(); ++v) close_bin(static_cast<int>(v), b, -1);
}

// The time of the TSC value c0 (rounded up), not after `now`.
sim::Tick GuestTraceVocabulary::c0_time(std::int64_t c0, sim::Tick now) const {
  if (tsc_hz_ <= 0 || c0 < 0) return now;
  const auto c = static_cast<unsigned __int128>(c0) * sim::kSecond;
  const auto hz = static_cast<unsigned __int128>(tsc_hz_);
  return std::min<sim::Tick>(now, static_cast<sim::Tick>((c + hz - 1) / hz));
}

void GuestTraceVocabulary::handle(const sim::EventView& e, sim::TraceBuilder& b) {
  const Group g = group_[static_cast<std::size_t>(e.component)];
  if (g == Group::kRcu) {
    handle_rcu(e, b);
  } else if (g == Group::kVcpu) {
    vcpu_note(e, b);
  } else if (g == Group::kClock) {
    read(b.components().at(e.component).index, e, b);
  } else if (sim::kind_is(e, "tk.read")) {
    // The update's clock read (a = c0): its span will start there, so nothing later is final.
    update_begin_ = std::max(c0_time(e.a, b.now()), from_);
  } else if (sim::kind_is(e, "tk.update")) {
    update_begin_ = sim::kForever;
    b.close_span("timekeeping", 0);
    // The update is based on the clock read at c0 (a, in TSC cycles): the span starts there.
    const sim::Tick begin = c0_time(e.a, b.now());
    b.open_span("timekeeping", 0, cpu::kVmPid, cpu::vcpu_tid(0),
                {"timekeeping update", "timekeeping", "c0", e.a, "mult_adjust", e.b}, begin);
    b.set_signal(tk_signal_, 1);
  } else if (sim::kind_is(e, "tk.published")) {
    b.close_span("timekeeping", 0);
    b.set_signal(tk_signal_, 0);
  }
}

// A note a guest model recorded on vCPU v's lane (trace_kinds.hpp).
void GuestTraceVocabulary::vcpu_note(const sim::EventView& e, sim::TraceBuilder& b) {
  using namespace trace_kind;
  const int v = b.components().at(e.component).index;
  if (sim::kind_is(e, kLockAcquire)) {
    b.open_span("lock", e.a, cpu::kVmPid, cpu::vcpu_tid(v),
                {"lock " + b.label(e.a) + " held by vCPU" + std::to_string(v), "lock", "id", e.a,
                 "vcpu", v});
  } else if (sim::kind_is(e, kLockRelease)) {
    b.close_span("lock", e.a);
  } else if (sim::kind_is(e, kLockHolderPreempted) || sim::kind_is(e, kLockWaiterPreempted)) {
    const char* what = sim::kind_is(e, kLockHolderPreempted) ? "lock holder preempted: "
                                                             : "next waiter preempted: ";
    b.instant(b.find_lane(cpu::kVmPid, cpu::vcpu_tid(v)),
              what + b.label(e.a) + " (" + std::to_string(e.b) + " waiting)", "lock");
  } else if (sim::kind_is(e, kLockStealPastHaltedHead)) {
    b.instant(b.find_lane(cpu::kVmPid, cpu::vcpu_tid(v)),
              "stole " + b.label(e.a) + " while the queue head is halted", "lock");
  } else if (sim::kind_is(e, kSeqWriteBegin)) {
    b.open_span("seqcount", e.a, cpu::kVmPid, cpu::vcpu_tid(v),
                {"write " + b.label(e.a) + " by vCPU" + std::to_string(v), "seqcount", "id", e.a,
                 "vcpu", v});
  } else if (sim::kind_is(e, kSeqWriteEnd)) {
    b.close_span("seqcount", e.a);
  } else if (sim::kind_is(e, kCodeNote)) {
    b.instant(b.find_lane(cpu::kVmPid, cpu::vcpu_tid(v)), b.label(e.a), "c");
  } else if (sim::kind_is(e, kCodeSpanBegin)) {
    // Keyed by name and vCPU: the same span may be open on several vCPUs at once.
    b.open_span("c", e.a * 4096 + v, cpu::kVmPid, cpu::vcpu_tid(v),
                {b.label(e.a) + " on vCPU" + std::to_string(v), "c", "vcpu", v});
  } else if (sim::kind_is(e, kCodeSpanEnd)) {
    b.close_span("c", e.a * 4096 + v);
  }
}

void GuestTraceVocabulary::handle_rcu(const sim::EventView& e, sim::TraceBuilder& b) {
  static const char* const kQsReason[] = {"context switch", "idle", "cond_resched", "fqs: idle"};
  const int lane = b.find_lane(cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.a)));
  if (sim::kind_is(e, "rcu.gp.start")) {
    b.open_span("rcu.gp", 0, cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.b)),
                {"RCU GP", "rcu", "gp", e.a});
  } else if (sim::kind_is(e, "rcu.gp.end")) {
    b.close_span("rcu.gp", 0);
    const int holder = b.find_lane(cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.b)));
    if (e.b < 0 || holder < 0) return;
    if (sim::TraceEvent* t = b.instant(holder, "GP waited for this vCPU", "rcu")) {
      t->k1 = "gp";
      t->v1 = e.a;
    }
  } else if (sim::kind_is(e, "rcu.qs")) {
    if (lane < 0) return;
    if (sim::TraceEvent* t = b.instant(lane, std::string("rcu qs (") + kQsReason[e.b & 3] + ")", "rcu")) {
      t->k1 = "reason";
      t->v1 = e.b;
    }
  } else if (sim::kind_is(e, "rcu.read.begin")) {
    const int depth = rcu_readers_[e.a]++;
    b.open_span("rcu.read", e.a * 1024 + depth, cpu::kVmPid, cpu::vcpu_tid(static_cast<int>(e.a)),
                {"vCPU" + std::to_string(e.a) + " rcu read", "rcu"});
  } else if (sim::kind_is(e, "rcu.read.end")) {
    int& depth = rcu_readers_[e.a];
    if (depth > 0) b.close_span("rcu.read", e.a * 1024 + --depth);
  }
}

}  // namespace vcpusim::guest
