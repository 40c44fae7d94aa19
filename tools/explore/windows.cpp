#include "tools/explore/windows.hpp"

#include <algorithm>
#include <cctype>

#include "sim/config/glob.hpp"

namespace vcpusim::tools {

std::string fold_digits(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(name[i]))) {
      out += '#';
      while (i + 1 < name.size() && std::isdigit(static_cast<unsigned char>(name[i + 1]))) ++i;
    } else {
      out += name[i];
    }
  }
  return out;
}

WindowWatch::WindowWatch(const std::vector<std::string>& counted, int vcpus,
                         const std::set<std::string>* known)
    : counted_(counted.begin(), counted.end()),
      count_all_(counted.empty()),
      known_(known),
      cpus_(static_cast<std::size_t>(vcpus)) {}

int WindowWatch::key_of(const std::string& name) {
  const auto [it, fresh] = key_ids_.emplace(name, static_cast<int>(keys_.size()));
  if (fresh) {
    keys_.push_back(name);
    pass_count_.push_back(0);
    hit_.push_back(false);
    fresh_.push_back(known_ && !known_->count(name) ? 1 : 0);
  }
  return it->second;
}

int WindowWatch::pair_key(bool write, int from, int to) {
  const std::uint64_t id = (static_cast<std::uint64_t>(write) << 62) |
                           (static_cast<std::uint64_t>(from) << 31) | static_cast<std::uint64_t>(to);
  const auto it = pair_keys_.find(id);
  if (it != pair_keys_.end()) return it->second;
  const int k = key_of(std::string(write ? "pair.write " : "pair.read ") +
                       names_[static_cast<std::size_t>(from)] + " -> " +
                       names_[static_cast<std::size_t>(to)]);
  pair_keys_.emplace(id, k);
  return k;
}

int WindowWatch::folded(const cpu::Word& w) {
  const auto id = static_cast<std::size_t>(w.id);
  if (id >= word_folded_.size()) word_folded_.resize(id + 1, -2);
  int& f = word_folded_[id];
  if (f == -2) {
    if (!count_all_ && !counted_.count(w.name)) {
      f = -1;
    } else {
      const std::string name = fold_digits(w.name);
      const auto [it, fresh] = name_ids_.emplace(name, static_cast<int>(names_.size()));
      if (fresh) names_.push_back(name);
      f = it->second;
    }
  }
  return f;
}

void WindowWatch::pass(const WindowPass& p, bool hit) {
  const auto k = static_cast<std::size_t>(p.key);
  ++pass_count_[k];
  if (hit) hit_[k] = true;
  if (!known_ || (fresh_[k] == 1 && pass_count_[k] <= kNewPasses)) passes_.push_back(p);
}

void WindowWatch::access(int vcpu, const cpu::Word& w, bool write) {
  const int word = folded(w);
  if (word < 0) return;
  Cpu& c = cpus_[static_cast<std::size_t>(vcpu)];
  const std::uint64_t at = ++c.count;
  if (!write) {
    c.read_word = word;
    c.read_at = at;
    return;
  }
  // A preemption at `at` itself comes after this call (the access is pending while the host
  // runs): preempted() credits the windows closed here.
  c.closed.clear();
  auto in = [&](std::uint64_t after) { return c.preempted && c.preempted_at > after; };
  if (c.write_word >= 0 && c.write_word != word) {
    const int k = pair_key(true, c.write_word, word);
    pass({k, vcpu, c.write_at + 1, at, 0, 0, -1}, in(c.write_at));
    c.closed.push_back(k);
  }
  if (c.read_word >= 0 && c.read_word != word) {
    const int k = pair_key(false, c.read_word, word);
    pass({k, vcpu, c.read_at + 1, at, 0, 0, -1}, in(c.read_at));
    c.closed.push_back(k);
  }
  c.write_word = word;
  c.write_at = at;
  c.read_word = -1;
}

void WindowWatch::window(int vcpu, const cpu::WindowSite& site, const cpu::Word* object,
                         bool open, sim::Tick now) {
  Cpu& c = cpus_[static_cast<std::size_t>(vcpu)];
  const auto id = std::make_pair(&site, object ? object->id : -1);
  auto known = named_keys_.find(id);
  if (known == named_keys_.end()) {
    std::string name = std::string(site.kind) + " " + site.site;
    if (object) name += "(" + fold_digits(object->name) + ")";
    known = named_keys_.emplace(id, key_of(name)).first;
  }
  const int k = known->second;
  if (open) {
    c.named.push_back({k, c.count + 1, now, id.second, false});
    return;
  }
  // Windows close in the reverse order they opened; the innermost open one of this key.
  for (auto it = c.named.rbegin(); it != c.named.rend(); ++it) {
    if (it->key != k) continue;
    // A window with no counted access in it has no position a point could be placed at: no
    // pass, though a preemption inside it still counts.
    if (c.count >= it->first)
      pass({k, vcpu, it->first, c.count, it->begin, now, it->object}, it->hit);
    else if (it->hit)
      hit_[static_cast<std::size_t>(k)] = true;
    c.named.erase(std::next(it).base());
    return;
  }
}

void WindowWatch::preempted(int vcpu) {
  Cpu& c = cpus_[static_cast<std::size_t>(vcpu)];
  c.preempted = true;
  c.preempted_at = c.count;
  for (Open& o : c.named) o.hit = true;
  if (c.count > 0 && c.write_at == c.count)
    for (int k : c.closed) hit_[static_cast<std::size_t>(k)] = true;
}

std::set<std::string> WindowWatch::hit() const {
  std::set<std::string> out;
  for (std::size_t k = 0; k < keys_.size(); ++k)
    if (hit_[k]) out.insert(keys_[k]);
  return out;
}

std::map<std::string, std::uint64_t> WindowWatch::seen() const {
  std::map<std::string, std::uint64_t> out;
  for (std::size_t k = 0; k < keys_.size(); ++k)
    if (pass_count_[k] > 0) out[keys_[k]] = pass_count_[k];
  return out;
}

namespace {

// The kind, the site and the words of a window name.
std::vector<std::string> window_fields(const std::string& key) {
  std::vector<std::string> out;
  const std::size_t sp = key.find(' ');
  out.push_back(key.substr(0, sp));
  if (sp == std::string::npos) return out;
  const std::string rest = key.substr(sp + 1);
  if (out[0].rfind("pair.", 0) == 0) {
    const std::size_t arrow = rest.find(" -> ");
    out.push_back(rest.substr(0, arrow));
    if (arrow != std::string::npos) out.push_back(rest.substr(arrow + 4));
    return out;
  }
  const std::size_t paren = rest.find('(');
  out.push_back(rest.substr(0, paren));
  if (paren != std::string::npos && rest.back() == ')')
    out.push_back(rest.substr(paren + 1, rest.size() - paren - 2));
  return out;
}

}  // namespace

bool window_targeted(const std::string& key, const std::vector<std::string>& patterns) {
  const std::vector<std::string> fields = window_fields(key);
  for (const std::string& raw : patterns) {
    const std::string p = fold_digits(raw);
    for (const std::string& f : fields)
      if (sim::glob_match(p, f)) return true;
  }
  return false;
}

std::map<std::string, std::vector<WindowOverlap>> window_overlaps(
    const std::vector<std::string>& keys, const std::vector<WindowPass>& passes, std::size_t most) {
  std::map<int, std::vector<std::size_t>> by_object;
  for (std::size_t i = 0; i < passes.size(); ++i)
    if (passes[i].object >= 0 && passes[i].end > passes[i].begin)
      by_object[passes[i].object].push_back(i);
  std::map<std::string, std::vector<WindowOverlap>> out;
  for (auto& [object, list] : by_object) {
    std::stable_sort(list.begin(), list.end(), [&](std::size_t x, std::size_t y) {
      return passes[x].begin < passes[y].begin;
    });
    for (std::size_t i = 0; i < list.size(); ++i) {
      const WindowPass& a = passes[list[i]];
      for (std::size_t j = i + 1; j < list.size() && passes[list[j]].begin < a.end; ++j) {
        const WindowPass& b = passes[list[j]];
        // Two CPUs in the same window (two walkers on one notifier) is a moment of that window,
        // which its own points already reach; an overlap is two roles, one CPU in each.
        if (b.vcpu == a.vcpu || b.key == a.key) continue;
        const std::string& ka = keys[static_cast<std::size_t>(a.key)];
        const std::string& kb = keys[static_cast<std::size_t>(b.key)];
        auto& found = out["overlap " + std::min(ka, kb) + " & " + std::max(ka, kb)];
        if (found.size() < most) found.push_back({list[i], list[j], b.begin, std::min(a.end, b.end)});
      }
    }
  }
  return out;
}

std::vector<std::string> default_targets(const std::vector<std::string>& checks) {
  // What each check exists to catch, as windows: the pv hash race is a head preempted between
  // _Q_SLOW_VAL and its hash entry (or an unlock between lookup and kick); a backward clock is a
  // timekeeper preempted between reading the clock and publishing; a lost wake-up is a waiter
  // or waker preempted between its condition and its sleep or kick; a use after free is a
  // reader (an mmu notifier walk) preempted inside its read section.
  static const std::map<std::string, std::vector<std::string>> table = {
      {"hash_lookup", {"lock.slowpath", "pv_lock_hash*", "lock*.val"}},
      {"monotonic_time", {"tk.update", "seq.write", "tk_core*", "vdso*", "tk_fast_mono*"}},
      {"no_lost_wakeup", {"lock.slowpath", "qnode*.state", "lock*.val"}},
      {"use_after_free", {"mmu_notifier.walk", "rcu.read", "rcu_*"}},
      {"mutual_exclusion", {"lock.*", "lock*", "qnode*"}},
  };
  std::vector<std::string> out;
  for (const std::string& c : checks) {
    const auto it = table.find(c);
    if (it == table.end()) continue;
    for (const std::string& p : it->second)
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

}  // namespace vcpusim::tools
