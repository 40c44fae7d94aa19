#include "cpu/trace_lanes.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace vcpusim::cpu {
namespace {

constexpr int kVectorTimer = 0;
constexpr int kVectorIpi = 1;
constexpr int kVectorNmi = 2;
const char* const kFlowNames[3] = {"timer", "IPI", "NMI"};

int vector_of(const char* kind) {
  if (std::strcmp(kind, "irq.timer") == 0) return kVectorTimer;
  if (std::strcmp(kind, "irq.ipi") == 0) return kVectorIpi;
  if (std::strcmp(kind, "nmi") == 0) return kVectorNmi;
  return -1;
}

}  // namespace

const std::vector<std::string>& HostTraceVocabulary::categories() {
  static const std::vector<std::string> all = {"sched", "vcpu", "irq", "spin"};
  return all;
}

HostTraceVocabulary::HostTraceVocabulary(const sim::Components& components) {
  int threads = 0;
  for (const auto& c : components.entries()) {
    if (c.group == "pcpu") pcpus_ = std::max(pcpus_, c.index + 1);
    if (c.group == "vcpu") vcpus_ = std::max(vcpus_, c.index + 1);
    if (c.group == "vcpu" || c.group == "load") threads = std::max(threads, c.index + 1);
    if (c.group == "load") thread_names_[c.index] = c.name;
  }
  host_.assign(static_cast<std::size_t>(vcpus_), Host::kOff);
  frames_.resize(static_cast<std::size_t>(vcpus_));
  pending_.resize(static_cast<std::size_t>(vcpus_));
  kicks_.resize(static_cast<std::size_t>(vcpus_));
  current_.assign(static_cast<std::size_t>(pcpus_), -1);
  thread_pcpu_.assign(static_cast<std::size_t>(threads), -1);
  thread_state_.assign(static_cast<std::size_t>(threads), 0);
  runnable_vcpus_.assign(static_cast<std::size_t>(pcpus_), 0);
}

void HostTraceVocabulary::declare(sim::TraceBuilder& b) {
  b_ = &b;
  b.add_other_data("pcpus", pcpus_);
  b.add_other_data("vcpus", vcpus_);
  b.add_vcd_note(
      "pcpuN_owner = host thread id (vCPU n is n, load tasks follow), z when idle; vcpuN_state 0 "
      "halted 1 running 2 preempted 3 runnable 4 irq 5 nmi 6 spinning 7 off");
  b.add_process(kHostPid, "Host pCPUs", 1);
  b.add_process(kVmPid, "VM vCPUs", 2);
  std::vector<int> vcpu_lanes;
  for (int p = 0; p < pcpus_; ++p) b.add_lane(kHostPid, pcpu_tid(p), "pCPU" + std::to_string(p), p);
  for (int v = 0; v < vcpus_; ++v)
    vcpu_lanes.push_back(b.add_lane(kVmPid, vcpu_tid(v), "vCPU" + std::to_string(v), pcpus_ + v));
  b.set_violation_lanes(std::move(vcpu_lanes), "vm");
  for (int p = 0; p < pcpus_; ++p)
    owner_signal_.push_back(b.add_signal("host", "pcpu" + std::to_string(p) + "_owner", 8, -1));
  for (int v = 0; v < vcpus_; ++v)
    state_signal_.push_back(b.add_signal("vm", "vcpu" + std::to_string(v) + "_state", 3, kVcdOff));
  for (int p = 0; p < pcpus_; ++p)
    b.set_counter({0, p}, kHostPid, "runnable vCPUs pCPU" + std::to_string(p), "vcpus", 0);
}

void HostTraceVocabulary::finish(sim::TraceBuilder& b) {
  for (auto& per_target : pending_)
    for (auto& q : per_target)
      for (auto& f : q) b.drop(f);
  for (auto& q : kicks_)
    for (auto& f : q) b.drop(f);
}

std::string HostTraceVocabulary::thread_name(std::int64_t tid) const {
  if (tid >= 0 && tid < vcpus_) return "vCPU" + std::to_string(tid);
  auto it = thread_names_.find(static_cast<int>(tid));
  if (it != thread_names_.end()) return it->second;
  return "thread" + std::to_string(tid);
}

void HostTraceVocabulary::handle(const sim::EventView& e, sim::TraceBuilder& b) {
  const auto& c = b.components().at(e.component);
  if (c.group == "pcpu") {
    sched(c.index, e);
  } else {
    vcpu_event(c.index, e);
  }
}

void HostTraceVocabulary::emit_runnable(int p) {
  b_->set_counter({0, p}, kHostPid, "runnable vCPUs pCPU" + std::to_string(p), "vcpus",
                  runnable_vcpus_[static_cast<std::size_t>(p)]);
}

void HostTraceVocabulary::emit_waiters(std::int64_t id) {
  b_->set_counter({1, id}, kVmPid, "waiters " + b_->label(id), "waiters", waiters_[id]);
}

void HostTraceVocabulary::move_thread(std::int64_t tid, int pcpu, int state) {
  // state: 0 asleep 1 runnable 2 running
  if (tid < 0 || static_cast<std::size_t>(tid) >= thread_pcpu_.size()) return;
  const auto t = static_cast<std::size_t>(tid);
  const bool vcpu = tid < vcpus_;
  const int old_p = thread_pcpu_[t];
  const bool was = thread_state_[t] != 0;
  thread_pcpu_[t] = pcpu;
  thread_state_[t] = state;
  const bool is = state != 0;
  if (!vcpu) return;
  if (was && old_p >= 0 && (old_p != pcpu || !is)) {
    --runnable_vcpus_[static_cast<std::size_t>(old_p)];
    emit_runnable(old_p);
  }
  if (is && (!was || old_p != pcpu)) {
    ++runnable_vcpus_[static_cast<std::size_t>(pcpu)];
    emit_runnable(pcpu);
  }
}

void HostTraceVocabulary::sched(int p, const sim::EventView& e) {
  const int lane = p;
  const std::int64_t tid = e.a;
  const int v = tid >= 0 && tid < vcpus_ ? static_cast<int>(tid) : -1;
  const auto pi = static_cast<std::size_t>(p);
  if (sim::kind_is(e, "dispatch")) {
    b_->close_all(lane);
    b_->open(lane, {thread_name(tid), "sched", "thread", tid});
    current_[pi] = tid;
    b_->set_signal(owner_signal_[pi], tid);
    move_thread(tid, p, 2);
    set_host(v, Host::kRunning);
  } else if (sim::kind_is(e, "deschedule") || sim::kind_is(e, "sleep")) {
    if (current_[pi] == tid) {
      b_->close_all(lane);
      current_[pi] = -1;
      b_->set_signal(owner_signal_[pi], -1);
    }
    const bool sleep = sim::kind_is(e, "sleep");
    move_thread(tid, p, sleep ? 0 : 1);
    set_host(v, sleep ? Host::kSleeping : Host::kPreempted);
  } else if (sim::kind_is(e, "wake") || sim::kind_is(e, "migrate")) {
    move_thread(tid, p, 1);
    set_host(v, Host::kRunnable);
  } else if (sim::kind_is(e, "steal")) {
    b_->close_all(lane);
    b_->open(lane, {"host preemption (explore)", "sched"});
  } else if (sim::kind_is(e, "steal_end")) {
    b_->close_all(lane);
  } else if (sim::kind_is(e, "noise.irq") || sim::kind_is(e, "noise.softirq")) {
    // Recorded right after the steal it names (cpu/host/host_noise.cpp).
    b_->close_all(lane);
    b_->open(lane, {sim::kind_is(e, "noise.irq") ? "host irq" : "host softirq", "sched"});
  } else if (sim::kind_is(e, "throttle")) {
    set_host(v, Host::kThrottled);
  } else if (sim::kind_is(e, "unthrottle")) {
    set_host(v, Host::kRunnable);
  }
}

// --- vCPU state --------------------------------------------------------------------------------
sim::TraceSlice HostTraceVocabulary::level0(int v) const {
  switch (host_[static_cast<std::size_t>(v)]) {
    case Host::kRunning:
      return {"running", "vcpu"};
    case Host::kPreempted:
      return {"preempted", "vcpu"};
    case Host::kRunnable:
      return {"runnable", "vcpu"};
    case Host::kThrottled:
      return {"throttled", "vcpu"};
    case Host::kSleeping:
      return {"halted", "vcpu"};
    case Host::kOff:
      break;
  }
  return {"", "vcpu"};
}

bool HostTraceVocabulary::frame_shown(int v, const Frame& f) const {
  return !(f.kind == FrameKind::kHalt && host_[static_cast<std::size_t>(v)] == Host::kSleeping);
}

// Rebuilds a vCPU lane after its host state changed: the guest frames are re-opened inside
// the new host-state slice so that every lane nests properly.
void HostTraceVocabulary::relayout(int v) {
  const int lane = vlane(v);
  b_->close_all(lane);
  if (host_[static_cast<std::size_t>(v)] == Host::kOff) return;
  b_->open(lane, level0(v));
  for (const Frame& f : frames_[static_cast<std::size_t>(v)])
    if (frame_shown(v, f)) b_->open(lane, f.slice);
  update_vcpu_signal(v);
}

void HostTraceVocabulary::push_frame(int v, Frame f) {
  auto& frames = frames_[static_cast<std::size_t>(v)];
  frames.push_back(std::move(f));
  if (host_[static_cast<std::size_t>(v)] != Host::kOff && frame_shown(v, frames.back()))
    b_->open(vlane(v), frames.back().slice);
  update_vcpu_signal(v);
}

// Removes the innermost frame matching; frames above it are closed and re-opened.
bool HostTraceVocabulary::pop_frame(int v, FrameKind kind, const std::string* name, std::int64_t id,
                                    bool by_id) {
  auto& frames = frames_[static_cast<std::size_t>(v)];
  for (std::size_t i = frames.size(); i-- > 0;) {
    const Frame& f = frames[i];
    if (f.kind != kind || (name && f.slice.name != *name) || (by_id && f.id != id)) continue;
    if (i + 1 == frames.size() && host_[static_cast<std::size_t>(v)] != Host::kOff) {
      if (frame_shown(v, f)) b_->close_top(vlane(v));
      frames.pop_back();
    } else {
      frames.erase(frames.begin() + static_cast<std::ptrdiff_t>(i));
      relayout(v);
    }
    update_vcpu_signal(v);
    return true;
  }
  return false;
}

void HostTraceVocabulary::update_vcpu_signal(int v) {
  int code = kVcdOff;
  const auto& frames = frames_[static_cast<std::size_t>(v)];
  switch (host_[static_cast<std::size_t>(v)]) {
    case Host::kOff:
      code = kVcdOff;
      break;
    case Host::kPreempted:
    case Host::kThrottled:
      code = kVcdPreempted;
      break;
    case Host::kRunnable:
      code = kVcdRunnable;
      break;
    case Host::kSleeping:
      code = kVcdHalted;
      break;
    case Host::kRunning:
      code = kVcdRunning;
      if (!frames.empty()) {
        switch (frames.back().kind) {
          case FrameKind::kIrq:
            code = kVcdIrq;
            break;
          case FrameKind::kNmi:
            code = kVcdNmi;
            break;
          case FrameKind::kSpin:
            code = kVcdSpinning;
            break;
          case FrameKind::kHalt:
            code = kVcdHalted;
            break;
          case FrameKind::kUser:  // running; the VCD has no mode signal
            break;
        }
      }
      break;
  }
  b_->set_signal(state_signal_[static_cast<std::size_t>(v)], code);
}

void HostTraceVocabulary::set_host(int v, Host h) {
  if (v < 0 || v >= vcpus_) return;
  if (host_[static_cast<std::size_t>(v)] == h) return;
  host_[static_cast<std::size_t>(v)] = h;
  relayout(v);
  if (h == Host::kRunning) finish_kicks(v);
}

// --- flows -------------------------------------------------------------------------------------
sim::TraceFlow HostTraceVocabulary::start_flow(int from_vcpu, const std::string& name,
                                               sim::Tick at) {
  const bool known = from_vcpu >= 0 && from_vcpu < vcpus_;
  return b_->start_flow(known ? vlane(from_vcpu) : -1, name, at);
}

void HostTraceVocabulary::finish_kicks(int v) {
  auto& q = kicks_[static_cast<std::size_t>(v)];
  for (const auto& f : q) b_->finish_flow(f, vlane(v));
  q.clear();
}

// --- vCPU events -------------------------------------------------------------------------------
// IPIs and NMIs sent by another vCPU are recorded at delivery (ipi.deliver, by the sender): an
// arrow from there to the target's handler entry.
void HostTraceVocabulary::vcpu_event(int v, const sim::EventView& e) {
  const std::string_view k = e.kind;
  const int vec = vector_of(e.kind);
  if (vec >= 0) {
    if (e.a == 1) {
      Frame f{vec == kVectorNmi ? FrameKind::kNmi : FrameKind::kIrq, {e.kind, "irq"}};
      push_frame(v, std::move(f));
      auto& q = pending_[static_cast<std::size_t>(v)][static_cast<std::size_t>(vec)];
      for (const auto& fl : q) b_->finish_flow(fl, vlane(v));
      q.clear();
    } else {
      const std::string name = e.kind;
      pop_frame(v, vec == kVectorNmi ? FrameKind::kNmi : FrameKind::kIrq, &name, 0, false);
    }
  } else if (k == "ipi.deliver") {
    const int rv = static_cast<int>(e.a);
    const auto target = e.b;
    if (rv < 0 || rv >= 3 || target < 0 || target >= vcpus_) return;
    pending_[static_cast<std::size_t>(target)][static_cast<std::size_t>(rv)].push_back(
        start_flow(v, kFlowNames[rv], e.time));
  } else if (k == "kick") {  // recorded by the kicked vCPU (Vcpu::kick), a = the sender
    sim::TraceFlow f = start_flow(static_cast<int>(e.a), "pv kick", e.time);
    if (host_[static_cast<std::size_t>(v)] == Host::kRunning) {
      b_->finish_flow(f, vlane(v));
    } else {
      kicks_[static_cast<std::size_t>(v)].push_back(f);
    }
  } else if (k == "spin.begin") {
    Frame f{FrameKind::kSpin, {"spin on " + b_->label(e.a), "spin", "id", e.a, "holder", e.b}, e.a};
    push_frame(v, std::move(f));
    ++waiters_[e.a];
    emit_waiters(e.a);
  } else if (k == "spin.end") {
    if (pop_frame(v, FrameKind::kSpin, nullptr, e.a, true)) {
      --waiters_[e.a];
      emit_waiters(e.a);
    }
  } else if (k == "mode.user") {  // Vcpu::set_mode: a = 1 entering user mode, 0 leaving it
    if (e.a == 1)
      push_frame(v, Frame{FrameKind::kUser, {"user mode", "vcpu"}});
    else
      pop_frame(v, FrameKind::kUser, nullptr, 0, false);
  } else if (k == "halt.begin") {
    push_frame(v, Frame{FrameKind::kHalt, {"halted (polling)", "vcpu"}});
  } else if (k == "halt.end") {
    pop_frame(v, FrameKind::kHalt, nullptr, 0, false);
    finish_kicks(v);
  }
}

}  // namespace vcpusim::cpu
