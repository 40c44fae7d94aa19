#include "cpu/memory.hpp"

#include <algorithm>

#include "cpu/vcpu.hpp"

namespace vcpusim::cpu {

Memory::Memory(const CostParams& costs, int pcpus, int sockets)
    : costs_(costs), pcpus_(pcpus), sockets_(std::min(sockets, pcpus)) {}

int Memory::new_line() {
  lines_.push_back(Line{-1, std::vector<bool>(static_cast<std::size_t>(pcpus_), false)});
  return static_cast<int>(lines_.size()) - 1;
}

Word& Memory::word(std::string name, int line, std::uint64_t initial) {
  words_.push_back(Word{static_cast<int>(words_.size()), std::move(name), line, initial, {}});
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
  return socket_of(source) == socket_of(pcpu) ? costs_.cacheline_same_socket.value
                                              : costs_.cacheline_cross_socket.value;
}

void Memory::watch(Word& w, Vcpu& v) {
  w.watchers.push_back(&v);
}

void Memory::unwatch(Word& w, Vcpu& v) {
  w.watchers.erase(std::remove(w.watchers.begin(), w.watchers.end(), &v), w.watchers.end());
}

void Memory::notify(Word& w) {
  if (w.watchers.empty()) return;
  std::vector<Vcpu*> ws = w.watchers;
  std::sort(ws.begin(), ws.end(),
            [](const Vcpu* a, const Vcpu* b) { return a->index() < b->index(); });
  for (Vcpu* v : ws) v->watched_write();
}

}  // namespace vcpusim::cpu
