// Guest-shared memory: 64-bit words on cachelines, with a coherence cost model (a transfer is
// charged when another core last wrote the line, or the accessor holds no copy) and watchers
// that event-driven spinners register on.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "cpu/params.hpp"

namespace vcpusim::cpu {

class Vcpu;

struct Word {
  int id = 0;  // allocation order: a stable name for traces
  std::string name;
  int line = 0;
  std::uint64_t value = 0;
  std::vector<Vcpu*> watchers;  // in registration order; notified in vCPU order
};

class Memory {
 public:
  Memory(const CostParams& costs, int pcpus, int sockets);

  // A new cacheline; words placed on it share coherence state.
  int new_line();
  Word& word(std::string name, int line, std::uint64_t initial = 0);
  Word& word(std::string name) { return word(std::move(name), new_line()); }

  // Coherence cost of an access by `pcpu`, updating the line's state.
  Tick access(int pcpu, const Word& w, bool write);
  // Wakes the spinners watching `w` (after a write).
  void notify(Word& w);
  void watch(Word& w, Vcpu& v);
  void unwatch(Word& w, Vcpu& v);

  std::uint64_t transfers() const { return transfers_; }
  const std::deque<Word>& words() const { return words_; }

 private:
  struct Line {
    int owner = -1;             // pCPU holding it modified, or -1
    std::vector<bool> sharers;  // pCPUs holding a copy
  };
  int socket_of(int pcpu) const { return pcpu * sockets_ / pcpus_; }

  const CostParams& costs_;
  int pcpus_;
  int sockets_;
  std::vector<Line> lines_;
  std::deque<Word> words_;
  std::uint64_t transfers_ = 0;
};

}  // namespace vcpusim::cpu
