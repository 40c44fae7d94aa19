#include "cpu/memory.hpp"

#include <algorithm>

#include "cpu/vcpu.hpp"

namespace vcpusim::cpu {

void WatchSet::add(Word& w, std::uint64_t version) {
  for (const Entry& e : entries)
    if (e.word == &w) return;  // the first read of a word decides what it is compared with
  entries.push_back(Entry{&w, version});
}

Memory::Memory(const CostParams& costs, int pcpus, int sockets)
    : costs_(costs), pcpus_(pcpus), sockets_(std::min(sockets, pcpus)) {}

int Memory::new_line() {
  lines_.push_back(Line{-1, std::vector<bool>(static_cast<std::size_t>(pcpus_), false), 0});
  return static_cast<int>(lines_.size()) - 1;
}

Word& Memory::word(std::string name, int line, std::uint64_t initial) {
  words_.emplace_back(static_cast<int>(words_.size()), std::move(name), line, initial);
  return words_.back();
}

Tick Memory::access(int pcpu, const Word& w, bool write) {
  Line& line = lines_[static_cast<std::size_t>(w.line)];
  const auto me = static_cast<std::size_t>(pcpu);
  int source = -1;
  if (line.owner >= 0 && line.owner != pcpu) {
    source = line.owner;
  } else if (!line.sharers[me] || write) {
    for (std::size_t c = 0; c < line.sharers.size(); ++c)
      if (line.sharers[c] && c != me) {
        source = static_cast<int>(c);
        break;
      }
  }
  if (write) {
    std::fill(line.sharers.begin(), line.sharers.end(), false);
    line.owner = pcpu;
  } else if (line.owner != pcpu) {
    line.owner = -1;  // a read downgrades the modified copy to shared
    if (source >= 0) line.sharers[static_cast<std::size_t>(source)] = true;
  }
  line.sharers[me] = true;
  if (source < 0) return 0;
  ++transfers_;
  ++line.transfers;
  return socket_of(source) == socket_of(pcpu) ? costs_.cacheline_same_socket.value
                                              : costs_.cacheline_cross_socket.value;
}

void Memory::write(Word& w, std::uint64_t v) {
  w.value_ = v;
  ++w.version_;
  notify(w);
}

void Memory::host_write(int pcpu, Word& w, std::uint64_t v) {
  if (pcpu >= 0) access(pcpu, w, true);
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
