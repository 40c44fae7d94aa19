#include "sim/trace/trace.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "sim/trace/trace_writers.hpp"

namespace vcpusim::sim {

bool TraceFilter::wants(const char* category) const {
  return categories.empty() || categories.count(category) > 0;
}

const std::vector<std::string>& TraceFilter::engine_categories() {
  static const std::vector<std::string> all = {"flow", "counter", "violation"};
  return all;
}

namespace {

std::string json_string(const std::string& s) {
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

}  // namespace

TraceBuilder::TraceBuilder(const TraceInfo& info, const Components& components,
                           const TraceFilter& filter, std::vector<TraceVocabulary*> vocabularies,
                           TraceTargets targets)
    : info_(info),
      components_(components),
      filter_(filter),
      vocabularies_(std::move(vocabularies)),
      targets_(targets),
      draws_(targets.chrome || targets.keep) {
  // Which vocabulary reads each component's events.
  owner_.assign(static_cast<std::size_t>(components_.size()), nullptr);
  for (TraceVocabulary* v : vocabularies_)
    for (const std::string& g : v->groups())
      for (int c = 0; c < components_.size(); ++c)
        if (components_.at(c).group == g) owner_[static_cast<std::size_t>(c)] = v;
  for (TraceVocabulary* v : vocabularies_)
    for (const std::string& k : v->kinds()) {
      Kind& kind = kinds_[k];
      kind.text = std::make_unique<char[]>(k.size() + 1);
      std::strcpy(kind.text.get(), k.c_str());
      kind.claimed_by = v;
      claims_ = true;
    }
  for (TraceVocabulary* v : vocabularies_) v->declare(*this);
  violation_signal_ = add_signal(violation_scope_, "violations", 16, 0);
  begin_output();
}

TraceBuilder::~TraceBuilder() = default;

void TraceBuilder::add_process(int pid, const std::string& name, int sort) {
  processes_.emplace_back(pid, name);
  process_sort_.push_back(sort);
}

int TraceBuilder::add_lane(int pid, int tid, const std::string& name, int sort) {
  lanes_.push_back(Lane{pid, tid, name, sort, {}});
  return static_cast<int>(lanes_.size()) - 1;
}

int TraceBuilder::find_lane(int pid, int tid) const {
  for (std::size_t l = 0; l < lanes_.size(); ++l)
    if (lanes_[l].pid == pid && lanes_[l].tid == tid) return static_cast<int>(l);
  return -1;
}

int TraceBuilder::add_signal(const std::string& scope, const std::string& name, int width,
                             std::int64_t initial) {
  signals_.push_back({scope, name, width});
  signal_value_.push_back(initial);
  return static_cast<int>(signals_.size()) - 1;
}

void TraceBuilder::add_other_data(const std::string& key, std::int64_t value) {
  other_data_.emplace_back(key, value);
}

void TraceBuilder::add_vcd_note(const std::string& text) {
  vcd_notes_.push_back(text);
}

void TraceBuilder::label(std::int64_t id, const std::string& name) {
  labels_[id] = name;
}

std::string TraceBuilder::label(std::int64_t id) const {
  auto it = labels_.find(id);
  return it != labels_.end() ? it->second : "#" + std::to_string(id);
}

// The headers and the lanes' metadata: everything is declared before the first event.
void TraceBuilder::begin_output() {
  if (Trace* k = targets_.keep) {
    k->info_ = info_;
    k->other_data_ = other_data_;
    k->vcd_notes_ = vcd_notes_;
    k->signals_ = signals_;
  }
  if (targets_.chrome) {
    chrome_ = std::make_unique<ChromeWriter>(*targets_.chrome);
    chrome_->begin(info_, other_data_);
  }
  if (targets_.vcd) {
    vcd_ = std::make_unique<VcdWriter>(*targets_.vcd);
    vcd_->begin(info_.title, vcd_notes_, signals_);
  }
  if (draws_) metadata();
}

void TraceBuilder::metadata() {
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
    write(e);
  };
  for (std::size_t p = 0; p < processes_.size(); ++p) {
    meta(processes_[p].first, 0, "process_name", processes_[p].second, 0);
    meta(processes_[p].first, 0, "process_sort_index", "", process_sort_[p]);
  }
  for (const Lane& l : lanes_) {
    meta(l.pid, l.tid, "thread_name", l.name, 0);
    meta(l.pid, l.tid, "thread_sort_index", "", l.sort);
  }
}

// --- window ------------------------------------------------------------------------------------
// Time never goes back: a late input (TraceStats::late_inputs, none in the catalogue) is drawn at
// the time the trace has reached, so the output stays in time order.
void TraceBuilder::advance(Tick t) {
  t = std::max(t, now_);
  if (!entered_ && t >= filter_.from) enter(filter_.from);
  if (entered_ && !exited_ && t > filter_.to) leave(filter_.to);
  now_ = t;
}

// Re-opens what is open at the window start, so that a window shows the state it starts in.
void TraceBuilder::enter(Tick from) {
  entered_ = true;
  now_ = from;
  for (const Lane& l : lanes_)
    for (const TraceSlice& s : l.stack) emit_slice('B', l, s);
  for (const auto& [key, span] : spans_) emit_span('b', span);
  for (const auto& [key, c] : counters_) emit_counter(c);
  for (std::size_t s = 0; s < signal_value_.size(); ++s)
    write_change(from, static_cast<int>(s), signal_value_[s]);
}

void TraceBuilder::leave(Tick to) {
  now_ = to;
  for (const Lane& l : lanes_)
    for (auto it = l.stack.rbegin(); it != l.stack.rend(); ++it) emit_slice('E', l, *it);
  for (const auto& [key, span] : spans_) emit_span('e', span);
  exited_ = true;
}

// --- emission ----------------------------------------------------------------------------------
TraceEvent& TraceBuilder::push(char ph, int pid, int tid, std::string name, const char* cat,
                               bool pending) {
  TraceEvent e;
  e.ts = now_;
  e.ph = ph;
  e.pid = pid;
  e.tid = tid;
  e.name = std::move(name);
  e.cat = cat;
  e.seq = next_seq_++;
  if (!draws_) {
    scratch_ = std::move(e);
    return scratch_;
  }
  if (pending) {
    TraceEvent& p = pending_.emplace(e.seq, std::move(e)).first->second;
    stats_.peak_pending = std::max(stats_.peak_pending, pending_.size());
    return p;
  }
  held_.push_back(std::move(e));
  return held_.back();
}

void TraceBuilder::emit_slice(char ph, const Lane& lane, const TraceSlice& s) {
  if (!draws_ || !live() || !filter_.wants(s.cat)) return;
  TraceEvent& e = push(ph, lane.pid, lane.tid, s.name, s.cat);
  if (ph == 'B') {
    e.k1 = s.k1;
    e.v1 = s.v1;
    e.k2 = s.k2;
    e.v2 = s.v2;
  }
}

void TraceBuilder::emit_span(char ph, const Span& s) {
  if (!draws_ || !live() || !filter_.wants(s.slice.cat)) return;
  TraceEvent& e = push(ph, s.pid, s.tid, s.slice.name, s.slice.cat);
  e.id = s.id;
  if (ph == 'b') {
    e.k1 = s.slice.k1;
    e.v1 = s.slice.v1;
    e.k2 = s.slice.k2;
    e.v2 = s.slice.v2;
  }
}

void TraceBuilder::emit_counter(const Counter& c) {
  if (!draws_ || !live() || !filter_.wants("counter")) return;
  TraceEvent& e = push('C', c.pid, 0, c.name, "counter");
  e.k1 = c.arg;
  e.v1 = c.value;
}

// --- slices ------------------------------------------------------------------------------------
void TraceBuilder::open(int lane, TraceSlice s) {
  Lane& l = lanes_[static_cast<std::size_t>(lane)];
  emit_slice('B', l, s);
  l.stack.push_back(std::move(s));
}

void TraceBuilder::close_top(int lane) {
  Lane& l = lanes_[static_cast<std::size_t>(lane)];
  emit_slice('E', l, l.stack.back());
  l.stack.pop_back();
}

void TraceBuilder::close_all(int lane) {
  while (!lanes_[static_cast<std::size_t>(lane)].stack.empty()) close_top(lane);
}

// --- spans -------------------------------------------------------------------------------------
void TraceBuilder::open_span(const char* kind, std::int64_t key, int pid, int tid, TraceSlice s,
                             Tick begin) {
  const std::int64_t id = next_span_++;
  auto [it, fresh] =
      spans_.emplace(std::make_pair(std::string(kind), key), Span{std::move(s), id, pid, tid});
  if (!fresh) return;
  if (begin >= 0 && begin < now_) {  // back-dated: the vocabulary's hold() kept its place free
    const Tick saved = now_;
    now_ = std::max(begin, filter_.from);
    emit_span('b', it->second);
    now_ = saved;
  } else {
    emit_span('b', it->second);
  }
}

void TraceBuilder::close_span(const char* kind, std::int64_t key) {
  auto it = spans_.find(std::make_pair(std::string(kind), key));
  if (it == spans_.end()) return;
  emit_span('e', it->second);
  spans_.erase(it);
}

// --- flows -------------------------------------------------------------------------------------
// A flow start is held until the flow finishes (then written) or is dropped.
TraceFlow TraceBuilder::start_flow(int lane, const std::string& name, Tick at) {
  TraceFlow f{next_flow_++, TraceFlow::kNone, name};
  if (draws_ && live() && at >= filter_.from && filter_.wants("flow") && lane >= 0) {
    const Lane& l = lanes_[static_cast<std::size_t>(lane)];
    const Tick saved = now_;
    now_ = at;
    TraceEvent& e = push('s', l.pid, l.tid, name, "flow", true);
    e.id = f.id;
    now_ = saved;
    f.start = e.seq;
  }
  return f;
}

void TraceBuilder::finish_flow(const TraceFlow& f, int lane) {
  if (f.start == TraceFlow::kNone) return;
  if (!live()) {
    drop(f);
    return;
  }
  auto it = pending_.find(f.start);
  if (it != pending_.end()) {
    held_.push_back(std::move(it->second));
    pending_.erase(it);
  }
  const Lane& l = lanes_[static_cast<std::size_t>(lane)];
  TraceEvent& e = push('f', l.pid, l.tid, f.name, "flow");
  e.id = f.id;
  e.top = "\"bp\":\"e\"";
}

void TraceBuilder::drop(const TraceFlow& f) {
  if (f.start != TraceFlow::kNone) pending_.erase(f.start);
}

// --- counters, instants, signals ---------------------------------------------------------------
void TraceBuilder::set_counter(CounterKey key, int pid, const std::string& name, const char* arg,
                               std::int64_t value) {
  auto it = counters_.find(key);
  if (it == counters_.end()) it = counters_.emplace(key, Counter{pid, name, arg, value}).first;
  it->second.value = value;
  emit_counter(it->second);
}

void TraceBuilder::counter_at(Tick at, int pid, const std::string& name, const char* arg,
                              std::int64_t value) {
  if (!draws_ || !entered_ || at < filter_.from || at > filter_.to || !filter_.wants("counter"))
    return;
  const Tick saved = now_;
  now_ = at;
  TraceEvent& e = push('C', pid, 0, name, "counter");
  e.k1 = arg;
  e.v1 = value;
  now_ = saved;
}

TraceEvent* TraceBuilder::instant(int lane, std::string name, const char* cat) {
  if (!draws_ || !live() || !filter_.wants(cat) || lane < 0) return nullptr;
  const Lane& l = lanes_[static_cast<std::size_t>(lane)];
  TraceEvent& e = push('i', l.pid, l.tid, std::move(name), cat);
  e.top = "\"s\":\"t\"";
  return &e;
}

void TraceBuilder::instant_near_violation(const NearViolation& i) {
  if (!draws_ || !live() || !filter_.wants(i.cat) || i.lane < 0) return;
  Tentative t{i, now_, now_ + i.radius, next_seq_++};
  // Violations are handled in time order, so the last one is the nearest before now.
  if (last_violation_ >= 0 && last_violation_ >= now_ - i.radius) {
    keep_tentative(t);
    return;
  }
  tentative_.push_back(t);
  stats_.peak_pending = std::max(stats_.peak_pending, pending_.size() + tentative_.size());
}

void TraceBuilder::keep_tentative(const Tentative& t) {
  const Lane& l = lanes_[static_cast<std::size_t>(t.i.lane)];
  TraceEvent e;
  e.ts = t.ts;
  e.ph = 'i';
  e.pid = l.pid;
  e.tid = l.tid;
  e.name = *t.i.name;
  e.cat = t.i.cat;
  e.seq = t.seq;
  e.top = "\"s\":\"t\"";
  e.k1 = t.i.k1;
  e.v1 = t.i.v1;
  e.k2 = t.i.k2;
  e.v2 = t.i.v2;
  held_.push_back(std::move(e));
}

void TraceBuilder::set_signal(int s, std::int64_t v) {
  auto& cur = signal_value_[static_cast<std::size_t>(s)];
  if (cur == v) return;
  cur = v;
  if (live()) write_change(now_, s, v);
}

void TraceBuilder::draw_violation(const TraceViolation& v, std::size_t index) {
  set_signal(violation_signal_, static_cast<std::int64_t>(++violations_) & 0xffff);
  if (violation_lanes_.empty()) return;
  const int cpu = v.cpus.empty() ? 0 : v.cpus.front();
  const int last = static_cast<int>(violation_lanes_.size()) - 1;
  TraceEvent* e = instant(violation_lanes_[static_cast<std::size_t>(std::clamp(cpu, 0, last))],
                          "violation: " + v.check, "violation");
  if (!e) return;
  e->k1 = "index";
  e->v1 = static_cast<std::int64_t>(index);
  nlohmann::json cpus = v.cpus;
  e->args = "\"check\":" + json_string(v.check) + ",\"message\":" + json_string(v.message) +
            ",\"cpus\":" + cpus.dump() + ",\"details\":" + v.details.dump();
}

}  // namespace vcpusim::sim
