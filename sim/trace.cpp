#include "sim/trace.hpp"

#include <algorithm>
#include <cstdio>

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

constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

}  // namespace

TraceBuilder::TraceBuilder(Trace& out, const TraceInfo& info, const Components& components,
                           const std::vector<std::pair<std::int64_t, std::string>>& labels,
                           const TraceFilter& filter)
    : out_(out), info_(info), components_(components), filter_(filter) {
  for (const auto& [id, name] : labels) labels_[id] = name;
}

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
  out_.signals_.push_back({scope, name, width});
  signal_value_.push_back(initial);
  return static_cast<int>(out_.signals_.size()) - 1;
}

void TraceBuilder::add_other_data(const std::string& key, std::int64_t value) {
  out_.other_data_.emplace_back(key, value);
}

void TraceBuilder::add_vcd_note(const std::string& text) {
  out_.vcd_notes_.push_back(text);
}

std::string TraceBuilder::label(std::int64_t id) const {
  auto it = labels_.find(id);
  return it != labels_.end() ? it->second : "#" + std::to_string(id);
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
    out_.events_.push_back(std::move(e));
  };
  for (std::size_t p = 0; p < processes_.size(); ++p) {
    meta(processes_[p].first, 0, "process_name", processes_[p].second, 0);
    meta(processes_[p].first, 0, "process_sort_index", "", process_sort_[p]);
  }
  for (const Lane& l : lanes_) {
    meta(l.pid, l.tid, "thread_name", l.name, 0);
    meta(l.pid, l.tid, "thread_sort_index", "", l.sort);
  }
  meta_count_ = out_.events_.size();
}

void TraceBuilder::run(const std::vector<RecordedEvent>& events,
                       std::vector<TraceViolation> violations,
                       const std::vector<TraceVocabulary*>& vocabularies) {
  // Which vocabulary reads each component's events.
  std::vector<TraceVocabulary*> owner(static_cast<std::size_t>(components_.size()), nullptr);
  for (TraceVocabulary* v : vocabularies)
    for (const std::string& g : v->groups())
      for (int c = 0; c < components_.size(); ++c)
        if (components_.at(c).group == g) owner[static_cast<std::size_t>(c)] = v;
  auto owner_of = [&](int c) -> TraceVocabulary* {
    return c >= 0 && static_cast<std::size_t>(c) < owner.size() ? owner[static_cast<std::size_t>(c)]
                                                                : nullptr;
  };
  for (const auto& e : events)
    if (TraceVocabulary* v = owner_of(e.component)) v->scan(e);
  std::stable_sort(violations.begin(), violations.end(),
                   [](const auto& a, const auto& b) { return a.time < b.time; });
  for (const auto& v : violations) violation_times_.push_back(v.time);
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
    if (TraceVocabulary* v = owner_of(e.component)) v->handle(e, *this);
  }
  while (!exited_ && vi < violations.size()) {
    advance(violations[vi].time);
    if (exited_) break;
    violation(violations[vi], vi);
    ++vi;
  }
  const Tick end = std::min(std::max(info_.end, last), filter_.to);
  if (!entered_ && filter_.from <= end) enter(filter_.from);
  // Before the window closes: a vocabulary may still flush what it summarised up to the end.
  for (TraceVocabulary* v : vocabularies) v->finish(*this);
  if (entered_ && !exited_) leave(std::max(end, filter_.from));
  if (unsorted_)
    std::stable_sort(out_.events_.begin() + static_cast<std::ptrdiff_t>(meta_count_),
                     out_.events_.end(),
                     [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; });
}

// --- window ------------------------------------------------------------------------------------
void TraceBuilder::advance(Tick t) {
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
    out_.changes_.push_back({from, static_cast<int>(s), signal_value_[s]});
  out_.vcd_from_ = from;
}

void TraceBuilder::leave(Tick to) {
  now_ = to;
  for (const Lane& l : lanes_)
    for (auto it = l.stack.rbegin(); it != l.stack.rend(); ++it) emit_slice('E', l, *it);
  for (const auto& [key, span] : spans_) emit_span('e', span);
  exited_ = true;
}

// --- emission ----------------------------------------------------------------------------------
TraceEvent& TraceBuilder::push(char ph, int pid, int tid, std::string name, const char* cat) {
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

void TraceBuilder::emit_slice(char ph, const Lane& lane, const TraceSlice& s) {
  if (!live() || !filter_.wants(s.cat)) return;
  TraceEvent& e = push(ph, lane.pid, lane.tid, s.name, s.cat);
  if (ph == 'B') {
    e.k1 = s.k1;
    e.v1 = s.v1;
    e.k2 = s.k2;
    e.v2 = s.v2;
  }
}

void TraceBuilder::emit_span(char ph, const Span& s) {
  if (!live() || !filter_.wants(s.slice.cat)) return;
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
  if (!live() || !filter_.wants("counter")) return;
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

void TraceBuilder::close_span(const char* kind, std::int64_t key) {
  auto it = spans_.find(std::make_pair(std::string(kind), key));
  if (it == spans_.end()) return;
  emit_span('e', it->second);
  spans_.erase(it);
}

// --- flows -------------------------------------------------------------------------------------
TraceFlow TraceBuilder::start_flow(int lane, const std::string& name, Tick at) {
  TraceFlow f{next_flow_++, kNoIndex, name};
  if (live() && at >= filter_.from && filter_.wants("flow") && lane >= 0) {
    const Lane& l = lanes_[static_cast<std::size_t>(lane)];
    const Tick saved = now_;
    now_ = at;
    if (at < saved) unsorted_ = true;
    TraceEvent& e = push('s', l.pid, l.tid, name, "flow");
    e.id = f.id;
    now_ = saved;
    f.start_index = out_.events_.size() - 1;
  }
  return f;
}

void TraceBuilder::finish_flow(const TraceFlow& f, int lane) {
  if (f.start_index == kNoIndex) return;
  if (!live()) {
    drop(f);
    return;
  }
  const Lane& l = lanes_[static_cast<std::size_t>(lane)];
  TraceEvent& e = push('f', l.pid, l.tid, f.name, "flow");
  e.id = f.id;
  e.top = "\"bp\":\"e\"";
}

void TraceBuilder::drop(const TraceFlow& f) {
  if (f.start_index != kNoIndex) out_.events_[f.start_index].dropped = true;
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
  if (!entered_ || at < filter_.from || at > filter_.to || !filter_.wants("counter")) return;
  const Tick saved = now_;
  now_ = at;
  if (at < saved) unsorted_ = true;
  TraceEvent& e = push('C', pid, 0, name, "counter");
  e.k1 = arg;
  e.v1 = value;
  now_ = saved;
}

bool TraceBuilder::near_violation(Tick t, Tick radius) const {
  const auto it = std::lower_bound(violation_times_.begin(), violation_times_.end(), t - radius);
  return it != violation_times_.end() && *it <= t + radius;
}

TraceEvent* TraceBuilder::instant(int lane, std::string name, const char* cat) {
  if (!live() || !filter_.wants(cat) || lane < 0) return nullptr;
  const Lane& l = lanes_[static_cast<std::size_t>(lane)];
  TraceEvent& e = push('i', l.pid, l.tid, std::move(name), cat);
  e.top = "\"s\":\"t\"";
  return &e;
}

void TraceBuilder::set_signal(int s, std::int64_t v) {
  auto& cur = signal_value_[static_cast<std::size_t>(s)];
  if (cur == v) return;
  cur = v;
  if (live()) out_.changes_.push_back({now_, s, v});
}

void TraceBuilder::violation(const TraceViolation& v, std::size_t index) {
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

Trace Trace::build(const TraceInfo& info, const Components& components,
                   const std::vector<RecordedEvent>& events,
                   const std::vector<std::pair<std::int64_t, std::string>>& labels,
                   const std::vector<TraceViolation>& violations, const TraceFilter& filter,
                   const std::vector<TraceVocabulary*>& vocabularies) {
  Trace t;
  t.info_ = info;
  t.events_.reserve(events.size() + 64);
  TraceBuilder b(t, t.info_, components, labels, filter);
  for (TraceVocabulary* v : vocabularies) v->declare(b);
  b.violation_signal_ = b.add_signal(b.violation_scope_, "violations", 16, 0);
  b.metadata();
  auto by_time = [](const RecordedEvent& x, const RecordedEvent& y) { return x.time < y.time; };
  if (std::is_sorted(events.begin(), events.end(), by_time)) {
    b.run(events, violations, vocabularies);
  } else {
    std::vector<RecordedEvent> sorted = events;
    std::stable_sort(sorted.begin(), sorted.end(), by_time);
    b.run(sorted, violations, vocabularies);
  }
  return t;
}

}  // namespace vcpusim::sim
