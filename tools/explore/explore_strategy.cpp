#include "tools/explore/explore_strategy.hpp"

#include <algorithm>

namespace vcpusim::tools {

const std::vector<std::string>& explore_strategies() {
  static const std::vector<std::string> names = {"window", "pct", "random", "cover", "seeds"};
  return names;
}

std::int64_t ExploreSteer::decide(const sim::DecisionPoint& p) {
  const auto it = schedule_.decisions.find(p.key);
  if (it != schedule_.decisions.end() && it->second >= p.lo && it->second <= p.hi)
    return it->second;
  if (rng_.below(1024) >= redraw_) return p.default_value;
  const std::int64_t v = p.kind == sim::DecisionKind::kExponential
                             ? rng_.exponential(p.mean)
                             : p.lo + static_cast<std::int64_t>(
                                          rng_.below(static_cast<std::uint64_t>(p.hi - p.lo) + 1));
  if (v != p.default_value) schedule_.decisions[p.key] = v;
  return v;
}

Strategy::Strategy(std::string name, const Scenario& s, std::uint64_t seed)
    : name_(std::move(name)), scenario_(s), seed_(seed), preemptible_(s.preemptible_vcpus()) {
  if (s.explore.preemptions.value == 0) preemptible_.clear();
  for (auto v : s.explore.nmi_vcpus.value) nmi_vcpus_.push_back(static_cast<int>(v));
  if (s.explore.nmis.value == 0) nmi_vcpus_.clear();
}

// Lengths from length_min to length_max; spread over the doublings between them (each order of
// magnitude as likely: a 2 us and a 20 ms preemption find different bugs), or uniform.
sim::Tick Strategy::length(sim::Rng& rng, bool log_spread) const {
  const sim::Tick lo = scenario_.explore.length_min.value;
  const sim::Tick hi = scenario_.explore.length_max.value;
  if (!log_spread)
    return lo + static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(hi - lo) + 1));
  int doublings = 0;
  while (doublings < 62 && (lo << (doublings + 1)) <= hi) ++doublings;
  const sim::Tick from =
      lo << static_cast<int>(rng.below(static_cast<std::uint64_t>(doublings) + 1));
  const sim::Tick to = std::min(hi, from * 2);
  return from + static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(to - from) + 1));
}

sim::Injection Strategy::access_point(sim::Rng& rng, sim::Injection::Kind kind,
                                      const std::vector<int>& vcpus) const {
  sim::Injection in;
  in.kind = kind;
  in.vcpu = vcpus[rng.below(vcpus.size())];
  const std::uint64_t ops =
      static_cast<std::size_t>(in.vcpu) < ops_.size() ? ops_[static_cast<std::size_t>(in.vcpu)] : 0;
  in.access = 1 + rng.below(std::max<std::uint64_t>(ops, 1));
  if (kind == sim::Injection::Kind::kPreempt) in.length = length(rng, true);
  return in;
}

std::vector<std::string> Strategy::set_windows(WindowProfile profile,
                                               const std::vector<std::string>& targets) {
  windows_ = std::move(profile);
  for (const auto& [name, passes] : windows_.seen) known_.insert(name);
  targets_ = targets;
  std::vector<std::string> aimed;
  for (const auto& [name, passes] : windows_.seen)
    if (!targets.empty() && window_targeted(name, targets)) aimed.push_back(name);
  const bool every = aimed.empty();
  std::map<int, std::size_t> slot;  // key index -> aimed window
  for (std::size_t k = 0; k < windows_.keys.size(); ++k)
    if (every || std::binary_search(aimed.begin(), aimed.end(), windows_.keys[k]))
      slot.emplace(static_cast<int>(k), slot.size());
  std::vector<std::vector<std::size_t>> preempt(slot.size()), nmi(slot.size());
  auto allowed = [](const std::vector<int>& list, int v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  for (std::size_t i = 0; i < windows_.passes.size(); ++i) {
    const WindowPass& w = windows_.passes[i];
    const auto it = slot.find(w.key);
    if (it == slot.end()) continue;
    if (allowed(preemptible_, w.vcpu)) preempt[it->second].push_back(i);
    if (allowed(nmi_vcpus_, w.vcpu)) nmi[it->second].push_back(i);
  }
  // Windows in the order first seen, named ones apart from pairs; those no allowed vCPU passed
  // through are left out.
  auto keep = [&](std::vector<std::vector<std::size_t>>& from, AimedWindows& to) {
    to = {};
    for (auto& x : from) {
      if (x.empty()) continue;
      const bool pair = windows_.keys[static_cast<std::size_t>(windows_.passes[x[0]].key)].rfind(
                            "pair.", 0) == 0;
      (pair ? to.pairs : to.named).push_back(std::move(x));
    }
  };
  keep(preempt, aimed_preempt_);
  keep(nmi, aimed_nmi_);
  for (auto& [name, list] : window_overlaps(windows_.keys, windows_.passes, kOverlapsPerName)) {
    std::vector<WindowOverlap> preempt_at, nmi_at;
    for (const WindowOverlap& o : list) {
      const WindowPass& a = windows_.passes[o.a];
      const WindowPass& b = windows_.passes[o.b];
      if (!slot.count(a.key) && !slot.count(b.key)) continue;
      if (allowed(preemptible_, a.vcpu) || allowed(preemptible_, b.vcpu)) preempt_at.push_back(o);
      if (allowed(nmi_vcpus_, a.vcpu) || allowed(nmi_vcpus_, b.vcpu)) nmi_at.push_back(o);
    }
    if (!preempt_at.empty() || !nmi_at.empty())
      overlap_counts_[name] = std::max(preempt_at.size(), nmi_at.size());
    if (!preempt_at.empty()) aimed_preempt_.overlaps.push_back(std::move(preempt_at));
    if (!nmi_at.empty()) aimed_nmi_.overlaps.push_back(std::move(nmi_at));
  }
  aim_all_ = every;
  return aimed;
}

// A window first, then one of its passes, then a place in it. Named windows (the code the
// models call out), pair windows (found from the accesses alone, many nested inside a named one)
// and overlaps (two named windows about one object open on two vCPUs at once) are each chosen
// as often as the others present, every window of a class as likely as any other. In a
// named window a quarter of the points go to each of: its first access (the work begun, none of
// it visible yet: the clock read, the lock taken), its last (the window held open longest: the
// release, the publish, a walker's read of the node it slept on), any of its accesses, and a
// moment of its time: a window's task may sleep inside it (an mmu notifier method), its vCPU then
// running other work that makes no counted access, and only a point placed by time preempts the
// vCPU there. The run is the scenario's up to the schedule's first point, so each point lands
// in the pass it was aimed at.
std::optional<sim::Injection> Strategy::window_point(sim::Rng& rng, sim::Injection::Kind kind,
                                                     const std::vector<int>& vcpus) const {
  const AimedWindows& aimed = kind == sim::Injection::Kind::kPreempt ? aimed_preempt_ : aimed_nmi_;
  if (aimed.named.empty() && aimed.pairs.empty() && aimed.overlaps.empty()) {
    if (vcpus.empty()) return std::nullopt;
    return access_point(rng, kind, vcpus);  // a run with no window: PCT over accesses
  }
  if (!aimed.overlaps.empty() && rng.below(1 + !aimed.named.empty() + !aimed.pairs.empty()) == 0)
    return overlap_point(rng, kind, vcpus, aimed.overlaps);
  const bool named = aimed.pairs.empty() || (!aimed.named.empty() && rng.below(2) == 0);
  const auto& windows = named ? aimed.named : aimed.pairs;
  const auto& passes = windows[rng.below(windows.size())];
  const WindowPass& w = windows_.passes[passes[rng.below(passes.size())]];
  sim::Injection in;
  in.kind = kind;
  in.vcpu = w.vcpu;
  enum Place { kFirst, kLast, kAny, kMoment };
  const auto place = named ? static_cast<Place>(rng.below(4)) : kAny;
  if (place == kMoment && w.end > w.begin)
    in.at = w.begin + static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(w.end - w.begin)));
  else if (place == kFirst)
    in.access = w.first;
  else if (place == kLast)
    in.access = w.last;
  else
    in.access = w.first + rng.below(w.last - w.first + 1);
  if (kind == sim::Injection::Kind::kPreempt) in.length = length(rng, true);
  return in;
}

// An overlap, one of its instances, then one of its two vCPUs (an allowed one) preempted or
// interrupted at a moment both windows are open: the walker sleeping on the notifier while it is
// unregistered, the lock holder while a waiter is in the slow path.
std::optional<sim::Injection> Strategy::overlap_point(
    sim::Rng& rng, sim::Injection::Kind kind, const std::vector<int>& vcpus,
    const std::vector<std::vector<WindowOverlap>>& overlaps) const {
  const auto& list = overlaps[rng.below(overlaps.size())];
  const WindowOverlap& o = list[rng.below(list.size())];
  std::vector<int> who;
  for (const std::size_t i : {o.a, o.b}) {
    const int v = windows_.passes[i].vcpu;
    if (std::find(vcpus.begin(), vcpus.end(), v) != vcpus.end()) who.push_back(v);
  }
  sim::Injection in;
  in.kind = kind;
  in.vcpu = who[rng.below(who.size())];
  in.at = o.from + static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(o.to - o.from)));
  if (kind == sim::Injection::Kind::kPreempt) in.length = length(rng, true);
  return in;
}

void Strategy::add_window(Plan& p, sim::Rng& rng) const {
  auto add = [&](sim::Injection::Kind kind, const std::vector<int>& vcpus, std::int64_t most) {
    if (vcpus.empty()) return;
    const auto n = 1 + rng.below(static_cast<std::uint64_t>(most));
    for (std::uint64_t i = 0; i < n; ++i)
      if (auto in = window_point(rng, kind, vcpus)) p.schedule.injections.push_back(*in);
  };
  add(sim::Injection::Kind::kPreempt, preemptible_, scenario_.explore.preemptions.value);
  add(sim::Injection::Kind::kNmi, nmi_vcpus_, scenario_.explore.nmis.value);
}

// A lead's schedule plus one preemption point inside a window the lead opened (each such window
// as likely as any other): the lead's run up to that access is the lead's, so the point lands
// where it was aimed.
void Strategy::deepen(Plan& p, sim::Rng& rng) const {
  const Lead& lead = leads_[rng.below(leads_.size())];
  p.schedule = lead.schedule;
  std::vector<std::string> names;
  for (const auto& x : lead.passes)
    if (names.empty() || names.back() != x.window) names.push_back(x.window);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  const std::string& window = names[rng.below(names.size())];
  std::vector<const Outcome::NewPass*> passes;
  for (const auto& x : lead.passes)
    if (x.window == window) passes.push_back(&x);
  const Outcome::NewPass& w = *passes[rng.below(passes.size())];
  sim::Injection in;
  in.vcpu = w.vcpu;
  in.access = w.first + rng.below(w.last - w.first + 1);
  in.length = length(rng, true);
  p.schedule.injections.push_back(in);
}

void Strategy::add_random(Plan& p, sim::Rng& rng) const {
  auto at = [&] {
    return static_cast<sim::Tick>(rng.below(static_cast<std::uint64_t>(scenario_.duration)));
  };
  if (!preemptible_.empty()) {
    const auto n = rng.below(static_cast<std::uint64_t>(scenario_.explore.preemptions.value) + 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      sim::Injection in;
      in.vcpu = preemptible_[rng.below(preemptible_.size())];
      in.at = at();
      in.length = length(rng, false);
      p.schedule.injections.push_back(in);
    }
  }
  if (!nmi_vcpus_.empty()) {
    const auto n = rng.below(static_cast<std::uint64_t>(scenario_.explore.nmis.value) + 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      sim::Injection in;
      in.kind = sim::Injection::Kind::kNmi;
      in.vcpu = nmi_vcpus_[rng.below(nmi_vcpus_.size())];
      in.at = at();
      p.schedule.injections.push_back(in);
    }
  }
}

void Strategy::add_pct(Plan& p, sim::Rng& rng) const {
  if (!preemptible_.empty()) {
    const auto n = 1 + rng.below(static_cast<std::uint64_t>(scenario_.explore.preemptions.value));
    for (std::uint64_t i = 0; i < n; ++i)
      p.schedule.injections.push_back(
          access_point(rng, sim::Injection::Kind::kPreempt, preemptible_));
  }
  if (!nmi_vcpus_.empty()) {
    const auto n = 1 + rng.below(static_cast<std::uint64_t>(scenario_.explore.nmis.value));
    for (std::uint64_t i = 0; i < n; ++i)
      p.schedule.injections.push_back(access_point(rng, sim::Injection::Kind::kNmi, nmi_vcpus_));
  }
}

void Strategy::mutate(Plan& p, sim::Rng& rng) const {
  auto& in = p.schedule.injections;
  const int mutations = 1 + static_cast<int>(rng.below(2));
  for (int m = 0; m < mutations; ++m) {
    const auto what = rng.below(5);
    if (what == 0 || in.empty()) {
      if (!preemptible_.empty())
        in.push_back(access_point(rng, sim::Injection::Kind::kPreempt, preemptible_));
      else if (!nmi_vcpus_.empty())
        in.push_back(access_point(rng, sim::Injection::Kind::kNmi, nmi_vcpus_));
      continue;
    }
    sim::Injection& x = in[rng.below(in.size())];
    if (what == 1) {
      in.erase(in.begin() + static_cast<std::ptrdiff_t>(&x - in.data()));
    } else if (what == 2) {  // move it a little
      if (x.access > 0) {
        const std::uint64_t step = 1 + rng.below(std::max<std::uint64_t>(1, x.access / 16));
        x.access = rng.below(2) ? x.access + step
                                : std::max<std::uint64_t>(1, x.access - std::min(x.access, step));
      } else {
        const sim::Tick step = 1 + static_cast<sim::Tick>(rng.below(sim::kMicrosecond * 10));
        x.at = rng.below(2) ? x.at + step : std::max<sim::Tick>(0, x.at - step);
      }
    } else if (what == 3 && x.kind == sim::Injection::Kind::kPreempt) {
      x.length = rng.below(2) ? std::min(x.length * 2, scenario_.explore.length_max.value)
                              : std::max(x.length / 2, scenario_.explore.length_min.value);
    } else if (!p.schedule.decisions.empty()) {  // undo one decision
      auto it = p.schedule.decisions.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng.below(p.schedule.decisions.size())));
      p.schedule.decisions.erase(it);
    }
  }
}

Plan Strategy::plan(std::uint64_t index) const {
  Plan p;
  p.index = index;
  p.seed = scenario_.seed;
  if (index == 0) return p;  // the scenario's own run, also the profile
  sim::Rng rng(seed_, index);
  if (name_ == "seeds") {
    p.seed = scenario_.seed + index;
    return p;
  }
  p.steered = true;
  p.steer_seed = seed_;
  p.redraw = 1024;
  p.schedule.counted_words = shared_;
  if (name_ == "random") {
    add_random(p, rng);
  } else if (name_ == "pct") {
    add_pct(p, rng);
  } else if (name_ == "window" && !leads_.empty() && rng.below(2) == 0) {
    p.steered = false;
    p.redraw = 0;
    deepen(p, rng);
  } else if (name_ == "window" || corpus_.empty() || rng.below(4) == 0) {
    // The scenario's own decisions, so the run is the profile's up to its first preemption point
    // and each point lands in the window it was placed in.
    p.steered = false;
    p.redraw = 0;
    add_window(p, rng);
  } else {
    p.schedule = corpus_[rng.below(corpus_.size())];
    p.redraw = 32;
    mutate(p, rng);
  }
  return p;
}

void Strategy::feedback(const Outcome& o) {
  if (name_ == "window" && o.index > 0) {
    // A schedule that opened an aimed window no lead has opened yet becomes a lead, with its
    // passes through the windows it opened and that are aimed at.
    Lead lead{o.schedule, {}};
    bool fresh = false;
    for (const auto& x : o.new_passes) {
      const bool preemptible =
          std::find(preemptible_.begin(), preemptible_.end(), x.vcpu) != preemptible_.end();
      if (!preemptible || (!aim_all_ && !window_targeted(x.window, targets_))) continue;
      lead.passes.push_back(x);
      fresh |= !opened_.count(x.window);
    }
    if (fresh && o.schedule.injections.size() <
                     static_cast<std::size_t>(scenario_.explore.preemptions.value)) {
      for (const auto& x : lead.passes) opened_.insert(x.window);
      leads_.push_back(std::move(lead));
    }
    return;
  }
  if (!wants_coverage()) return;
  bool fresh = false;
  for (std::uint64_t h : o.coverage) fresh |= seen_.insert(h).second;
  for (const std::string& w : o.windows_hit)
    fresh |= seen_.insert(sim::stable_hash("window/" + w)).second;
  if (!o.failure.signature.empty())
    fresh |= seen_.insert(sim::stable_hash("failure/" + o.failure.signature)).second;
  if (fresh && o.index > 0) corpus_.push_back(o.schedule);
}

}  // namespace vcpusim::tools
