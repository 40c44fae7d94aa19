#include "sim/trace.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>

namespace vcpusim::sim {

bool TraceFilter::wants(const char* category) const {
  return categories.empty() || categories.count(category) > 0;
}

const std::vector<std::string>& TraceFilter::all_categories() {
  static const std::vector<std::string> all = {"sched", "vcpu",        "irq",      "spin",
                                               "read",  "timekeeping", "lock",     "seqcount",
                                               "flow",  "counter",     "violation"};
  return all;
}

namespace {

constexpr int kVectorTimer = 0;
constexpr int kVectorIpi = 1;
constexpr int kVectorNmi = 2;
const char* const kVectorNames[3] = {"irq.timer", "irq.ipi", "nmi"};
const char* const kFlowNames[3] = {"timer", "IPI", "NMI"};
const std::string kVdsoRead = "vdso read";

int vector_of(const std::string& kind) {
  if (kind == "irq.timer") return kVectorTimer;
  if (kind == "irq.ipi") return kVectorIpi;
  if (kind == "nmi") return kVectorNmi;
  return -1;
}

enum class Host { kOff, kRunning, kPreempted, kRunnable, kSleeping };
enum class FrameKind { kIrq, kNmi, kSpin, kHalt };

struct Item {  // an open slice on a lane
  std::string name;
  const char* cat;
  const char* k1 = nullptr;
  std::int64_t v1 = 0;
  const char* k2 = nullptr;
  std::int64_t v2 = 0;
};

struct Frame {  // guest-side state of a vCPU, nested inside its host state
  FrameKind kind;
  Item item;
  std::int64_t id = 0;  // spun-on id
};

struct Span {  // an open async span
  std::string name;
  const char* cat;
  std::int64_t id;
  int tid;
  const char* k1 = nullptr;
  std::int64_t v1 = 0;
  const char* k2 = nullptr;
  std::int64_t v2 = 0;
};

struct PendingFlow {
  std::int64_t id;
  std::size_t start_index;  // index of the "s" event in the output, or npos
  std::string name;
};

constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

}  // namespace

class TraceBuilder {
 public:
  TraceBuilder(Trace& out, const TraceInfo& info,
               const std::vector<std::pair<std::int64_t, std::string>>& labels,
               const TraceFilter& filter)
      : out_(out), info_(info), filter_(filter) {
    for (const auto& [id, name] : labels) labels_[id] = name;
    const int lanes = info.pcpus + info.vcpus;
    stacks_.resize(static_cast<std::size_t>(lanes));
    host_.assign(static_cast<std::size_t>(info.vcpus), Host::kOff);
    frames_.resize(static_cast<std::size_t>(info.vcpus));
    pending_.resize(static_cast<std::size_t>(info.vcpus));
    kicks_.resize(static_cast<std::size_t>(info.vcpus));
    current_.assign(static_cast<std::size_t>(info.pcpus), -1);
    const int threads = info.vcpus + static_cast<int>(info.load_names.size());
    thread_pcpu_.assign(static_cast<std::size_t>(threads), -1);
    thread_state_.assign(static_cast<std::size_t>(threads), 0);
    runnable_vcpus_.assign(static_cast<std::size_t>(info.pcpus), 0);
    // VCD signals: pCPU owners, vCPU states, the timekeeping update, the violation count.
    for (int p = 0; p < info.pcpus; ++p)
      out_.signals_.push_back({"host", "pcpu" + std::to_string(p) + "_owner", 8});
    for (int v = 0; v < info.vcpus; ++v)
      out_.signals_.push_back({"vm", "vcpu" + std::to_string(v) + "_state", 3});
    tk_signal_ = static_cast<int>(out_.signals_.size());
    out_.signals_.push_back({"vm", "tk_update", 1});
    violation_signal_ = static_cast<int>(out_.signals_.size());
    out_.signals_.push_back({"vm", "violations", 16});
    signal_value_.assign(out_.signals_.size(), 0);
    for (int p = 0; p < info.pcpus; ++p) signal_value_[static_cast<std::size_t>(p)] = -1;
    for (int v = 0; v < info.vcpus; ++v)
      signal_value_[static_cast<std::size_t>(info.pcpus + v)] = kVcdOff;
  }

  void metadata() {
    auto meta = [&](int pid, int tid, const char* what, const std::string& name, int sort) {
      TraceEvent e;
      e.ph = 'M';
      e.pid = pid;
      e.tid = tid;
      e.name = what;
      if (name.empty()) {
        e.k1 = "sort_index";
        e.v1 = sort;
      } else {
        e.args = "\"name\":" + json_string(name);
      }
      out_.events_.push_back(std::move(e));
    };
    meta(kHostPid, 0, "process_name", "Host pCPUs", 0);
    meta(kHostPid, 0, "process_sort_index", "", 1);
    meta(kVmPid, 0, "process_name", "VM vCPUs", 0);
    meta(kVmPid, 0, "process_sort_index", "", 2);
    for (int p = 0; p < info_.pcpus; ++p) {
      meta(kHostPid, pcpu_tid(p), "thread_name", "pCPU" + std::to_string(p), 0);
      meta(kHostPid, pcpu_tid(p), "thread_sort_index", "", p);
    }
    for (int v = 0; v < info_.vcpus; ++v) {
      meta(kVmPid, vcpu_tid(v), "thread_name", "vCPU" + std::to_string(v), 0);
      meta(kVmPid, vcpu_tid(v), "thread_sort_index", "", info_.pcpus + v);
    }
  }

  void run(const std::vector<RecordedEvent>& events, std::vector<TraceViolation> violations) {
    for (const auto& e : events)
      if (e.kind == "ipi.deliver") explicit_ipis_ = true;
    std::stable_sort(violations.begin(), violations.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
    std::size_t vi = 0;
    Tick last = 0;
    for (const auto& e : events) {
      while (vi < violations.size() && violations[vi].time <= e.time) {
        advance(violations[vi].time);
        if (exited_) break;
        violation(violations[vi], vi);
        ++vi;
      }
      advance(e.time);
      if (exited_) break;
      last = e.time;
      handle(e);
    }
    while (!exited_ && vi < violations.size()) {
      advance(violations[vi].time);
      if (exited_) break;
      violation(violations[vi], vi);
      ++vi;
    }
    const Tick end = std::min(std::max(info_.end, last), filter_.to);
    if (!entered_ && filter_.from <= end) enter(filter_.from);
    if (entered_ && !exited_) leave(std::max(end, filter_.from));
    for (auto& per_target : pending_)
      for (auto& q : per_target)
        for (auto& f : q) drop(f);
    for (auto& q : kicks_)
      for (auto& f : q) drop(f);
    for (auto& [vec, q] : outstanding_)
      for (auto& o : q) (void)o;
    if (unsorted_)
      std::stable_sort(out_.events_.begin() + static_cast<std::ptrdiff_t>(meta_count_),
                       out_.events_.end(),
                       [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; });
  }

  void set_meta_count() { meta_count_ = out_.events_.size(); }

 private:
  static std::string json_string(const std::string& s) {
    std::string r = "\"";
    for (char c : s) {
      switch (c) {
        case '"':
          r += "\\\"";
          break;
        case '\\':
          r += "\\\\";
          break;
        case '\n':
          r += "\\n";
          break;
        case '\t':
          r += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            r += buf;
          } else {
            r += c;
          }
      }
    }
    return r + "\"";
  }

  std::string label(std::int64_t id) const {
    auto it = labels_.find(id);
    return it != labels_.end() ? it->second : "#" + std::to_string(id);
  }
  std::string thread_name(std::int64_t tid) const {
    if (tid >= 0 && tid < info_.vcpus) return "vCPU" + std::to_string(tid);
    const auto l = static_cast<std::size_t>(tid - info_.vcpus);
    if (tid >= info_.vcpus && l < info_.load_names.size()) return info_.load_names[l];
    return "thread" + std::to_string(tid);
  }

  int lane_tid(std::size_t lane) const {
    const int l = static_cast<int>(lane);
    return l < info_.pcpus ? pcpu_tid(l) : vcpu_tid(l - info_.pcpus);
  }
  int lane_pid(std::size_t lane) const {
    return static_cast<int>(lane) < info_.pcpus ? kHostPid : kVmPid;
  }
  std::size_t vlane(int v) const { return static_cast<std::size_t>(info_.pcpus + v); }
  bool live() const { return entered_ && !exited_; }

  // --- window ----------------------------------------------------------------------------------
  void advance(Tick t) {
    if (!entered_ && t >= filter_.from) enter(filter_.from);
    if (entered_ && !exited_ && t > filter_.to) leave(filter_.to);
    now_ = t;
  }

  void enter(Tick from) {
    entered_ = true;
    now_ = from;
    for (std::size_t l = 0; l < stacks_.size(); ++l)
      for (const Item& it : stacks_[l]) emit_slice('B', l, it);
    for (const auto& [key, span] : spans_) emit_span('b', span);
    for (int p = 0; p < info_.pcpus; ++p) emit_runnable(p);
    for (const auto& [id, n] : waiters_) emit_waiters(id);
    for (std::size_t s = 0; s < signal_value_.size(); ++s)
      out_.changes_.push_back({from, static_cast<int>(s), signal_value_[s]});
    out_.vcd_from_ = from;
  }

  void leave(Tick to) {
    now_ = to;
    for (std::size_t l = 0; l < stacks_.size(); ++l)
      for (auto it = stacks_[l].rbegin(); it != stacks_[l].rend(); ++it) emit_slice('E', l, *it);
    for (const auto& [key, span] : spans_) emit_span('e', span);
    exited_ = true;
  }

  // --- emission --------------------------------------------------------------------------------
  TraceEvent& push(char ph, int pid, int tid, std::string name, const char* cat) {
    TraceEvent e;
    e.ts = now_;
    e.ph = ph;
    e.pid = pid;
    e.tid = tid;
    e.name = std::move(name);
    e.cat = cat;
    out_.events_.push_back(std::move(e));
    return out_.events_.back();
  }

  void emit_slice(char ph, std::size_t lane, const Item& it) {
    if (!live() || !filter_.wants(it.cat)) return;
    TraceEvent& e = push(ph, lane_pid(lane), lane_tid(lane), it.name, it.cat);
    if (ph == 'B') {
      e.k1 = it.k1;
      e.v1 = it.v1;
      e.k2 = it.k2;
      e.v2 = it.v2;
    }
  }

  void emit_span(char ph, const Span& s) {
    if (!live() || !filter_.wants(s.cat)) return;
    TraceEvent& e = push(ph, kVmPid, s.tid, s.name, s.cat);
    e.id = s.id;
    if (ph == 'b') {
      e.k1 = s.k1;
      e.v1 = s.v1;
      e.k2 = s.k2;
      e.v2 = s.v2;
    }
  }

  void open(std::size_t lane, Item it) {
    emit_slice('B', lane, it);
    stacks_[lane].push_back(std::move(it));
  }
  void close_top(std::size_t lane) {
    emit_slice('E', lane, stacks_[lane].back());
    stacks_[lane].pop_back();
  }
  void close_all(std::size_t lane) {
    while (!stacks_[lane].empty()) close_top(lane);
  }

  void emit_runnable(int p) {
    if (!live() || !filter_.wants("counter")) return;
    TraceEvent& e = push('C', kHostPid, 0, "runnable vCPUs pCPU" + std::to_string(p), "counter");
    e.k1 = "vcpus";
    e.v1 = runnable_vcpus_[static_cast<std::size_t>(p)];
  }
  void emit_waiters(std::int64_t id) {
    if (!live() || !filter_.wants("counter")) return;
    TraceEvent& e = push('C', kVmPid, 0, "waiters " + label(id), "counter");
    e.k1 = "waiters";
    e.v1 = waiters_[id];
  }

  void set_signal(int s, std::int64_t v) {
    auto& cur = signal_value_[static_cast<std::size_t>(s)];
    if (cur == v) return;
    cur = v;
    if (live()) out_.changes_.push_back({now_, s, v});
  }

  // --- vCPU state ------------------------------------------------------------------------------
  Item level0(int v) const {
    switch (host_[static_cast<std::size_t>(v)]) {
      case Host::kRunning:
        return {"running", "vcpu"};
      case Host::kPreempted:
        return {"preempted", "vcpu"};
      case Host::kRunnable:
        return {"runnable", "vcpu"};
      case Host::kSleeping:
        return {"halted", "vcpu"};
      case Host::kOff:
        break;
    }
    return {"", "vcpu"};
  }
  bool frame_shown(int v, const Frame& f) const {
    return !(f.kind == FrameKind::kHalt && host_[static_cast<std::size_t>(v)] == Host::kSleeping);
  }
  // Rebuilds a vCPU lane after its host state changed: the guest frames are re-opened inside
  // the new host-state slice so that every lane nests properly.
  void relayout(int v) {
    const std::size_t lane = vlane(v);
    close_all(lane);
    if (host_[static_cast<std::size_t>(v)] == Host::kOff) return;
    open(lane, level0(v));
    for (const Frame& f : frames_[static_cast<std::size_t>(v)])
      if (frame_shown(v, f)) open(lane, f.item);
    update_vcpu_signal(v);
  }
  void push_frame(int v, Frame f) {
    auto& frames = frames_[static_cast<std::size_t>(v)];
    frames.push_back(std::move(f));
    if (host_[static_cast<std::size_t>(v)] != Host::kOff && frame_shown(v, frames.back()))
      open(vlane(v), frames.back().item);
    update_vcpu_signal(v);
  }
  // Removes the innermost frame matching; frames above it are closed and re-opened.
  bool pop_frame(int v, FrameKind kind, const std::string* name, std::int64_t id, bool by_id) {
    auto& frames = frames_[static_cast<std::size_t>(v)];
    for (std::size_t i = frames.size(); i-- > 0;) {
      const Frame& f = frames[i];
      if (f.kind != kind || (name && f.item.name != *name) || (by_id && f.id != id)) continue;
      if (i + 1 == frames.size() && host_[static_cast<std::size_t>(v)] != Host::kOff) {
        if (frame_shown(v, f)) close_top(vlane(v));
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
  void update_vcpu_signal(int v) {
    int code = kVcdOff;
    const auto& frames = frames_[static_cast<std::size_t>(v)];
    switch (host_[static_cast<std::size_t>(v)]) {
      case Host::kOff:
        code = kVcdOff;
        break;
      case Host::kPreempted:
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
          }
        }
        break;
    }
    set_signal(info_.pcpus + v, code);
  }
  void set_host(int v, Host h) {
    if (v < 0 || v >= info_.vcpus) return;
    if (host_[static_cast<std::size_t>(v)] == h) return;
    host_[static_cast<std::size_t>(v)] = h;
    relayout(v);
    if (h == Host::kRunning) finish_kicks(v);
  }

  // --- flows -----------------------------------------------------------------------------------
  PendingFlow start_flow(int from_vcpu, const std::string& name, Tick at) {
    PendingFlow f{next_flow_++, kNoIndex, name};
    if (entered_ && !exited_ && at >= filter_.from && filter_.wants("flow") && from_vcpu >= 0 &&
        from_vcpu < info_.vcpus) {
      const Tick saved = now_;
      now_ = at;
      if (at < saved) unsorted_ = true;
      TraceEvent& e = push('s', kVmPid, vcpu_tid(from_vcpu), name, "flow");
      e.id = f.id;
      now_ = saved;
      f.start_index = out_.events_.size() - 1;
    }
    return f;
  }
  void finish_flow(const PendingFlow& f, int target) {
    if (f.start_index == kNoIndex) return;
    if (!live()) {
      drop(f);
      return;
    }
    TraceEvent& e = push('f', kVmPid, vcpu_tid(target), f.name, "flow");
    e.id = f.id;
    e.top = "\"bp\":\"e\"";
  }
  void drop(const PendingFlow& f) {
    if (f.start_index != kNoIndex) out_.events_[f.start_index].dropped = true;
  }
  void finish_kicks(int v) {
    auto& q = kicks_[static_cast<std::size_t>(v)];
    for (const auto& f : q) finish_flow(f, v);
    q.clear();
  }

  // --- handlers --------------------------------------------------------------------------------
  void handle(const RecordedEvent& e) {
    const int c = e.component;
    if (c >= 0 && c < info_.pcpus) {
      sched(c, e);
    } else if (c >= 1000 && c < 1000 + info_.vcpus) {
      vcpu_event(c - 1000, e);
    } else if (c == 3000) {
      if (e.kind == "tk.update") {
        close_span("timekeeping", 0);
        // The update is based on the clock read at c0 (a, in TSC cycles): the span starts there.
        Tick begin = now_;
        if (info_.tsc_hz > 0 && e.a >= 0) {
          const auto c0 = static_cast<unsigned __int128>(e.a) * kSecond;
          const auto hz = static_cast<unsigned __int128>(info_.tsc_hz);
          begin = std::min<Tick>(now_, static_cast<Tick>((c0 + hz - 1) / hz));
        }
        open_span(
            "timekeeping", 0,
            {"timekeeping update", "timekeeping", 0, vcpu_tid(0), "c0", e.a, "mult_adjust", e.b},
            begin);
        set_signal(tk_signal_, 1);
      } else if (e.kind == "tk.published") {
        close_span("timekeeping", 0);
        set_signal(tk_signal_, 0);
      }
    } else if (c >= 4000 && c < 4000 + info_.vcpus) {
      if (!live() || !filter_.wants("read")) return;
      TraceEvent& t = push('i', kVmPid, vcpu_tid(c - 4000),
                           e.kind == "vdso" ? kVdsoRead : e.kind + " read", "read");
      t.k1 = "value_ns";
      t.v1 = e.a;
      t.k2 = "latency_ns";
      t.v2 = e.b;
      t.top = "\"s\":\"t\"";
    }
  }

  void runnable_changed(int p) { emit_runnable(p); }

  void move_thread(std::int64_t tid, int pcpu, int state) {  // state: 0 asleep 1 runnable 2 running
    if (tid < 0 || static_cast<std::size_t>(tid) >= thread_pcpu_.size()) return;
    const auto t = static_cast<std::size_t>(tid);
    const bool vcpu = tid < info_.vcpus;
    const int old_p = thread_pcpu_[t];
    const bool was = thread_state_[t] != 0;
    thread_pcpu_[t] = pcpu;
    thread_state_[t] = state;
    const bool is = state != 0;
    if (!vcpu) return;
    if (was && old_p >= 0 && (old_p != pcpu || !is)) {
      --runnable_vcpus_[static_cast<std::size_t>(old_p)];
      runnable_changed(old_p);
    }
    if (is && (!was || old_p != pcpu)) {
      ++runnable_vcpus_[static_cast<std::size_t>(pcpu)];
      runnable_changed(pcpu);
    }
  }

  void sched(int p, const RecordedEvent& e) {
    const std::size_t lane = static_cast<std::size_t>(p);
    const std::int64_t tid = e.a;
    const int v = tid >= 0 && tid < info_.vcpus ? static_cast<int>(tid) : -1;
    if (e.kind == "dispatch") {
      close_all(lane);
      open(lane, {thread_name(tid), "sched", "thread", tid});
      current_[lane] = tid;
      set_signal(p, tid);
      move_thread(tid, p, 2);
      set_host(v, Host::kRunning);
    } else if (e.kind == "deschedule" || e.kind == "sleep") {
      if (current_[lane] == tid) {
        close_all(lane);
        current_[lane] = -1;
        set_signal(p, -1);
      }
      const bool sleep = e.kind == "sleep";
      move_thread(tid, p, sleep ? 0 : 1);
      set_host(v, sleep ? Host::kSleeping : Host::kPreempted);
    } else if (e.kind == "wake") {
      move_thread(tid, p, 1);
      set_host(v, Host::kRunnable);
    }
  }

  void vcpu_event(int v, const RecordedEvent& e) {
    const std::string& k = e.kind;
    const int vec = vector_of(k);
    if (vec >= 0) {
      if (e.a == 1) {
        Frame f{vec == kVectorNmi ? FrameKind::kNmi : FrameKind::kIrq, {k, "irq"}};
        push_frame(v, std::move(f));
        auto& q = pending_[static_cast<std::size_t>(v)][static_cast<std::size_t>(vec)];
        for (const auto& fl : q) finish_flow(fl, v);
        q.clear();
      } else {
        pop_frame(v, vec == kVectorNmi ? FrameKind::kNmi : FrameKind::kIrq, &k, 0, false);
      }
    } else if (k == "raise") {
      const int rv = static_cast<int>(e.a);
      if (!explicit_ipis_ && (rv == kVectorIpi || rv == kVectorNmi)) {
        auto& out = outstanding_[rv];
        if (!out.empty()) {  // a delayed delivery of an IPI whose send was recorded already
          Outstanding& o = out.front();
          pending_[static_cast<std::size_t>(v)][static_cast<std::size_t>(rv)].push_back(
              start_flow(o.sender, kFlowNames[rv], o.at));
          if (--o.remaining == 0) out.pop_front();
        } else {
          unattributed_.push_back({rv, v, e.time});
        }
      }
    } else if (k == "ipi.sent") {
      if (explicit_ipis_) return;
      const int rv = static_cast<int>(e.a);
      std::int64_t n = e.b;
      // Immediate deliveries were raised before the send was recorded: the latest ones of
      // this vector belong to this send.
      for (std::size_t i = unattributed_.size(); i-- > 0 && n > 0;) {
        const Raise r = unattributed_[i];
        if (r.vector != rv) continue;
        pending_[static_cast<std::size_t>(r.target)][static_cast<std::size_t>(rv)].push_back(
            start_flow(v, kFlowNames[rv], r.at));
        unattributed_.erase(unattributed_.begin() + static_cast<std::ptrdiff_t>(i));
        --n;
      }
      if (n > 0 && rv >= 0 && rv < 3) outstanding_[rv].push_back({v, e.time, n});
      if (unattributed_.size() > 64) unattributed_.erase(unattributed_.begin());
    } else if (k == "ipi.deliver") {
      const int rv = static_cast<int>(e.a);
      const auto target = e.b;
      if (rv < 0 || rv >= 3 || target < 0 || target >= info_.vcpus) return;
      pending_[static_cast<std::size_t>(target)][static_cast<std::size_t>(rv)].push_back(
          start_flow(v, kFlowNames[rv], e.time));
    } else if (k == "kick") {
      const auto target = e.a;
      if (target < 0 || target >= info_.vcpus) return;
      PendingFlow f = start_flow(v, "pv kick", e.time);
      if (host_[static_cast<std::size_t>(target)] == Host::kRunning) {
        finish_flow(f, static_cast<int>(target));
      } else {
        kicks_[static_cast<std::size_t>(target)].push_back(f);
      }
    } else if (k == "spin.begin") {
      Frame f{FrameKind::kSpin, {"spin on " + label(e.a), "spin", "id", e.a, "holder", e.b}, e.a};
      push_frame(v, std::move(f));
      ++waiters_[e.a];
      emit_waiters(e.a);
    } else if (k == "spin.end") {
      if (pop_frame(v, FrameKind::kSpin, nullptr, e.a, true)) {
        --waiters_[e.a];
        emit_waiters(e.a);
      }
    } else if (k == "halt.begin") {
      push_frame(v, Frame{FrameKind::kHalt, {"halted (polling)", "vcpu"}});
    } else if (k == "halt.end") {
      pop_frame(v, FrameKind::kHalt, nullptr, 0, false);
      finish_kicks(v);
    } else if (k == "lock.acquire") {
      open_span("lock", e.a,
                {"lock " + label(e.a) + " held by vCPU" + std::to_string(v), "lock", 0, vcpu_tid(v),
                 "id", e.a, "vcpu", v});
    } else if (k == "lock.release") {
      close_span("lock", e.a);
    } else if (k == "seq.write_begin") {
      open_span("seqcount", e.a,
                {"write " + label(e.a) + " by vCPU" + std::to_string(v), "seqcount", 0, vcpu_tid(v),
                 "id", e.a, "vcpu", v});
    } else if (k == "seq.write_end") {
      close_span("seqcount", e.a);
    }
  }

  void open_span(const char* kind, std::int64_t key, Span s, Tick begin = -1) {
    s.id = next_span_++;
    auto [it, fresh] = spans_.emplace(std::make_pair(std::string(kind), key), std::move(s));
    if (!fresh) return;
    if (begin >= 0 && begin < now_) {  // back-dated: the final sort puts it in place
      const Tick saved = now_;
      now_ = std::max(begin, filter_.from);
      unsorted_ = true;
      emit_span('b', it->second);
      now_ = saved;
    } else {
      emit_span('b', it->second);
    }
  }
  void close_span(const char* kind, std::int64_t key) {
    auto it = spans_.find(std::make_pair(std::string(kind), key));
    if (it == spans_.end()) return;
    emit_span('e', it->second);
    spans_.erase(it);
  }

  void violation(const TraceViolation& v, std::size_t index) {
    set_signal(violation_signal_, static_cast<std::int64_t>(++violations_) & 0xffff);
    if (!live() || !filter_.wants("violation")) return;
    const int cpu = v.cpus.empty() ? 0 : v.cpus.front();
    TraceEvent& e = push('i', kVmPid, vcpu_tid(std::clamp(cpu, 0, std::max(0, info_.vcpus - 1))),
                         "violation: " + v.check, "violation");
    e.k1 = "index";
    e.v1 = static_cast<std::int64_t>(index);
    nlohmann::json cpus = v.cpus;
    e.top = "\"s\":\"t\"";
    e.args = "\"check\":" + json_string(v.check) + ",\"message\":" + json_string(v.message) +
             ",\"cpus\":" + cpus.dump() + ",\"details\":" + v.details.dump();
  }

  struct Raise {
    int vector;
    int target;
    Tick at;
  };
  struct Outstanding {
    int sender;
    Tick at;
    std::int64_t remaining;
  };

  Trace& out_;
  const TraceInfo& info_;
  const TraceFilter& filter_;
  std::map<std::int64_t, std::string> labels_;
  std::vector<std::vector<Item>> stacks_;
  std::vector<Host> host_;
  std::vector<std::vector<Frame>> frames_;
  std::vector<std::array<std::vector<PendingFlow>, 3>> pending_;
  std::vector<std::vector<PendingFlow>> kicks_;
  std::map<int, std::deque<Outstanding>> outstanding_;
  std::vector<Raise> unattributed_;
  std::vector<std::int64_t> current_;
  std::vector<int> thread_pcpu_;
  std::vector<int> thread_state_;
  std::vector<std::int64_t> runnable_vcpus_;
  std::map<std::int64_t, std::int64_t> waiters_;
  std::map<std::pair<std::string, std::int64_t>, Span> spans_;
  std::vector<std::int64_t> signal_value_;
  int tk_signal_ = 0;
  int violation_signal_ = 0;
  std::int64_t violations_ = 0;
  std::int64_t next_span_ = 1;
  std::int64_t next_flow_ = 1;
  bool explicit_ipis_ = false;
  bool entered_ = false;
  bool exited_ = false;
  bool unsorted_ = false;
  std::size_t meta_count_ = 0;
  Tick now_ = 0;
};

Trace Trace::build(const TraceInfo& info, const std::vector<RecordedEvent>& events,
                   const std::vector<std::pair<std::int64_t, std::string>>& labels,
                   const std::vector<TraceViolation>& violations, const TraceFilter& filter) {
  Trace t;
  t.info_ = info;
  t.events_.reserve(events.size() + 64);
  TraceBuilder b(t, t.info_, labels, filter);
  b.metadata();
  b.set_meta_count();
  if (std::is_sorted(
          events.begin(), events.end(),
          [](const RecordedEvent& x, const RecordedEvent& y) { return x.time < y.time; })) {
    b.run(events, violations);
  } else {
    std::vector<RecordedEvent> sorted = events;
    std::stable_sort(
        sorted.begin(), sorted.end(),
        [](const RecordedEvent& x, const RecordedEvent& y) { return x.time < y.time; });
    b.run(sorted, violations);
  }
  return t;
}

}  // namespace vcpusim::sim
