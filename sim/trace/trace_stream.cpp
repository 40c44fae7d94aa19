// The trace engine's input and output (sim/trace/trace.hpp): events and violations in, settled
// output out in time order, and the trace kept whole in memory.
#include <algorithm>
#include <cstring>

#include "sim/trace/trace.hpp"
#include "sim/trace/trace_writers.hpp"

namespace vcpusim::sim {
// --- input -------------------------------------------------------------------------------------
// The events of one instant are handled when time moves on, after the violations reported at
// that instant (a check reports while the events of its instant are being recorded).
void TraceBuilder::event(const EventView& e) {
  if (finished_) return;
  if (e.time != instant_) {
    if (e.time < instant_) {
      ++stats_.late_inputs;
    } else {
      settle_instant();
      instant_ = e.time;
    }
  }
  const bool owned = e.component >= 0 && static_cast<std::size_t>(e.component) < owner_.size();
  TraceVocabulary* owner = owned ? owner_[static_cast<std::size_t>(e.component)] : nullptr;
  const char* kind = "";
  if (owner || claims_) {
    const Kind& k = intern(e.kind);
    kind = k.text.get();
    if (k.claimed_by) owner = k.claimed_by;
  }
  instant_events_.push_back(Input{EventView{e.time, e.component, kind, e.a, e.b}, owner});
}

void TraceBuilder::violation(const TraceViolation& v) {
  if (finished_) return;
  if (v.time <= settled_) ++stats_.late_inputs;
  auto at = violations_in_.end();
  while (at != violations_in_.begin() && std::prev(at)->time > v.time) --at;
  violations_in_.insert(at, v);
}

const TraceBuilder::Kind& TraceBuilder::intern(const char* kind) {
  auto cached = kind_cache_.find(kind);
  if (cached != kind_cache_.end() && std::strcmp(cached->second->text.get(), kind) == 0)
    return *cached->second;
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) {
    Kind k;
    k.text = std::make_unique<char[]>(std::strlen(kind) + 1);
    std::strcpy(k.text.get(), kind);
    it = kinds_.emplace(kind, std::move(k)).first;
  }
  kind_cache_[kind] = &it->second;
  return it->second;
}

void TraceBuilder::settle_instant() {
  while (!violations_in_.empty() && violations_in_.front().time <= instant_) {
    process_violation(violations_in_.front());
    violations_in_.pop_front();
  }
  for (const Input& in : instant_events_) process_event(in);
  instant_events_.clear();
  if (instant_ > settled_) settled_ = instant_;
  if (held_.size() >= flush_at_) flush(false);
}

void TraceBuilder::process_violation(const TraceViolation& v) {
  last_violation_ = v.time;
  // Every instant still waiting for a violation learns its fate (violations come in time order).
  for (const Tentative& t : tentative_)
    if (t.until >= v.time) keep_tentative(t);
  tentative_.clear();
  if (stopped_) return;
  advance(v.time);
  if (exited_) {
    stopped_ = true;
    return;
  }
  draw_violation(v, violation_index_++);
}

void TraceBuilder::process_event(const Input& in) {
  const EventView& e = in.e;
  expire_tentative(e.time);
  if (stopped_) return;
  advance(e.time);
  if (exited_) {
    stopped_ = true;
    return;
  }
  last_event_ = e.time;
  if (in.owner) in.owner->handle(e, *this);
}

void TraceBuilder::expire_tentative(Tick t) {
  while (!tentative_.empty() && tentative_.front().until < t) tentative_.pop_front();
}

void TraceBuilder::finish() {
  if (finished_) return;
  settle_instant();
  while (!violations_in_.empty()) {
    process_violation(violations_in_.front());
    violations_in_.pop_front();
  }
  tentative_.clear();
  const Tick end = std::min(std::max(info_.end, last_event_), filter_.to);
  if (!entered_ && filter_.from <= end) enter(filter_.from);
  // Before the window closes: a vocabulary may still flush what it summarised up to the end.
  for (TraceVocabulary* v : vocabularies_) v->finish(*this);
  if (entered_ && !exited_) leave(std::max(end, filter_.from));
  for (auto& [seq, e] : pending_) held_.push_back(std::move(e));  // never finished nor dropped
  pending_.clear();
  flush(true);
  if (chrome_) chrome_->end();
  if (vcd_) vcd_->end();
  finished_ = true;
}

// --- output ------------------------------------------------------------------------------------
void TraceBuilder::write(const TraceEvent& e) {
  ++stats_.written;
  if (chrome_) chrome_->event(e);
  if (targets_.keep) targets_.keep->events_.push_back(e);
}

void TraceBuilder::write_change(Tick t, int signal, std::int64_t value) {
  if (vcd_) vcd_->change(t, signal, value);
  if (targets_.keep) targets_.keep->changes_.push_back({t, signal, value});
}

// Writes the held events that nothing can precede any more: the output is sorted by time (ties
// in drawing order), and nothing is drawn before now, a pending flow start or tentative instant,
// or a vocabulary's hold.
void TraceBuilder::flush(bool all) {
  stats_.peak_held = std::max(stats_.peak_held, held_.size());
  Tick until = kForever;
  if (!all) {
    until = now_;
    for (const auto& [seq, e] : pending_) until = std::min(until, e.ts);
    if (!tentative_.empty()) until = std::min(until, tentative_.front().ts);
    for (const TraceVocabulary* v : vocabularies_) until = std::min(until, v->hold());
  }
  std::sort(held_.begin(), held_.end(), [](const TraceEvent& a, const TraceEvent& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
  });
  std::size_t n = 0;
  while (n < held_.size() && (all || held_[n].ts < until)) write(held_[n++]);
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
  stats_.peak_retained = std::max(stats_.peak_retained, held_.size());
  flush_at_ = std::max<std::size_t>(4096, 2 * held_.size());
}

// --- a trace kept in memory --------------------------------------------------------------------
Trace Trace::build(const TraceInfo& info, const Components& components,
                   const std::vector<RecordedEvent>& events,
                   const std::vector<std::pair<std::int64_t, std::string>>& labels,
                   const std::vector<TraceViolation>& violations, const TraceFilter& filter,
                   const std::vector<TraceVocabulary*>& vocabularies) {
  Trace t;
  TraceBuilder b(info, components, filter, vocabularies, TraceTargets{nullptr, nullptr, &t});
  for (const auto& [id, name] : labels) b.label(id, name);
  std::vector<const RecordedEvent*> sorted;
  sorted.reserve(events.size());
  for (const auto& e : events) sorted.push_back(&e);
  std::stable_sort(
      sorted.begin(), sorted.end(),
      [](const RecordedEvent* x, const RecordedEvent* y) { return x->time < y->time; });
  std::vector<const TraceViolation*> vs;
  for (const auto& v : violations) vs.push_back(&v);
  std::stable_sort(vs.begin(), vs.end(), [](const TraceViolation* x, const TraceViolation* y) {
    return x->time < y->time;
  });
  std::size_t vi = 0;
  for (const RecordedEvent* e : sorted) {
    while (vi < vs.size() && vs[vi]->time <= e->time) b.violation(*vs[vi++]);
    b.event(EventView{e->time, e->component, e->kind.c_str(), e->a, e->b});
  }
  while (vi < vs.size()) b.violation(*vs[vi++]);
  b.finish();
  return t;
}

void Trace::write_chrome_json(std::ostream& out) const {
  ChromeWriter w(out);
  w.begin(info_, other_data_);
  for (const TraceEvent& e : events_) w.event(e);
  w.end();
}

void Trace::write_vcd(std::ostream& out) const {
  VcdWriter w(out);
  w.begin(info_.title, vcd_notes_, signals_);
  for (const TraceChange& c : changes_) w.change(c.t, c.signal, c.value);
  w.end();
}

}  // namespace vcpusim::sim
