#include "cpu/memory.hpp"

#include <algorithm>

#include "cpu/vcpu.hpp"

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

void Memory::write(Word& w, std::uint64_t v) {
  w.value_ = v;
  ++w.version_;
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
