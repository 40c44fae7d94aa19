#include "cpu/vm/memory.hpp"

#include <algorithm>
#include <cstdio>

#include "sim/error.hpp"

#include "cpu/vm/vcpu.hpp"

namespace vcpusim::cpu {

void WatchSet::add(Word& w, std::uint64_t version) {
  for (const Entry& e : entries)
    if (e.word == &w) return;  // the first read of a word decides what it is compared with
  entries.push_back(Entry{&w, version});
}

Memory::Memory(const CostParams& costs, Topology topology) : coherence_(costs, topology) {}

int Memory::new_line() {
  return coherence_.add_line();
}

Word& Memory::word(std::string name, int line, std::uint64_t initial) {
  coherence_.name_line(line, name);
  words_.emplace_back(static_cast<int>(words_.size()), std::move(name), line, initial);
  return words_.back();
}

int Memory::add_region(const std::string& name, const void* start, std::size_t bytes) {
  const auto first = reinterpret_cast<std::uintptr_t>(start);
  const std::uintptr_t base = first & ~static_cast<std::uintptr_t>(kLineBytes - 1);
  const std::uintptr_t end = first + bytes;
  // Two regions never share a line: its coherence state would be split in two.
  for (const Region& r : regions_)
    if (base < r.end && r.base < end)
      throw sim::SimError("guest memory region " + name + " shares a cacheline with region " +
                          r.name);
  Region r{name, base, end, words_.size()};
  for (std::uintptr_t at = base; at < end; at += kLineBytes) {
    char offset[32];
    std::snprintf(offset, sizeof offset, "+0x%llx",
                  static_cast<unsigned long long>(at - base));
    word(name + offset, new_line());
  }
  regions_.push_back(std::move(r));
  by_base_[base] = regions_.size() - 1;
  return static_cast<int>(regions_.size() - 1);
}

Word* Memory::line_word(const void* p, std::size_t size, std::string& why) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  auto it = by_base_.upper_bound(at);
  if (it == by_base_.begin()) {
    why = "an address outside every guest region (a plugin global or an object vcpusim "
          "allocated)";
    return nullptr;
  }
  const Region& r = regions_[std::prev(it)->second];
  if (at + size > r.end) {
    why = "an address outside every guest region (past the end of region " + r.name + ")";
    return nullptr;
  }
  const std::uintptr_t line = (at - r.base) / kLineBytes;
  if ((at + size - 1 - r.base) / kLineBytes != line) {
    why = "an access of " + std::to_string(size) + " bytes at " + r.name + "+" +
          std::to_string(at - r.base) + " crosses a cacheline (not modelled)";
    return nullptr;
  }
  return &words_[r.first_word + line];
}

Word* Memory::line_of(const void* p, std::uintptr_t& line_end) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  auto it = by_base_.upper_bound(at);
  if (it == by_base_.begin()) return nullptr;
  const Region& r = regions_[std::prev(it)->second];
  if (at >= r.end) return nullptr;
  const std::uintptr_t line = (at - r.base) / kLineBytes;
  line_end = std::min(r.base + (line + 1) * kLineBytes, r.end);
  return &words_[r.first_word + line];
}

void Memory::write(Word& w, std::uint64_t v) {
  w.value_ = v;
  ++w.version_;
  for (Vcpu* q : w.quiet_for_) q->quiet_word_written();
  notify(w);
}

void Memory::host_write(Tick now, int pcpu, Word& w, std::uint64_t v) {
  if (pcpu >= 0) access(now, pcpu, w, true);
  write(w, v);
}

bool Memory::changed(const WatchSet& ws) {
  for (const auto& e : ws.entries)
    if (e.word->version_ != e.version) return true;
  return false;
}

void Memory::watch(const WatchSet& ws, Vcpu& v) {
  for (const auto& e : ws.entries) e.word->watchers_.push_back(&v);
}

void Memory::unwatch(const WatchSet& ws, Vcpu& v) {
  for (const auto& e : ws.entries) {
    auto& list = e.word->watchers_;
    list.erase(std::remove(list.begin(), list.end(), &v), list.end());
  }
}

void Memory::notify(Word& w) {
  if (w.watchers_.empty()) return;
  std::vector<Vcpu*> ws = w.watchers_;
  std::sort(ws.begin(), ws.end(),
            [](const Vcpu* a, const Vcpu* b) { return a->index() < b->index(); });
  ws.erase(std::unique(ws.begin(), ws.end()), ws.end());
  for (Vcpu* v : ws) v->watched_write();
}

}  // namespace vcpusim::cpu
