// Guest-shared memory: 64-bit words on cachelines, with a coherence cost model (a transfer is
// charged when another core last wrote the line, or the accessor holds no copy) and watchers
// that event-driven waits register on. A word's value is private: guest code reads and writes
// it only through cpu::GuestCpu, which charges the access and records what a wait read.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "cpu/params.hpp"

namespace vcpusim::cpu {

class Vcpu;

class Word {
 public:
  Word(int id, std::string name, int line, std::uint64_t initial)
      : id(id), name(std::move(name)), line(line), value_(initial) {}
  const int id;  // allocation order: a stable name for traces
  const std::string name;
  const int line;

 private:
  friend class Memory;
  friend class GuestCpu;
  friend struct MemoryInspector;
  std::uint64_t value_;
  std::uint64_t version_ = 0;    // writes so far: a wait compares it with what it read
  std::vector<Vcpu*> watchers_;  // notified in vCPU order
};

// What a wait read: each word with its version at the read. Derived by GuestCpu while the
// wait's condition runs, never listed by hand.
struct WatchSet {
  struct Entry {
    Word* word;
    std::uint64_t version;
  };
  std::vector<Entry> entries;
  void add(Word& w, std::uint64_t version);
  bool empty() const { return entries.empty(); }
};

class Memory {
 public:
  Memory(const CostParams& costs, int pcpus, int sockets);

  // A new cacheline; words placed on it share coherence state.
  int new_line();
  Word& word(std::string name, int line, std::uint64_t initial = 0);
  Word& word(std::string name) { return word(std::move(name), new_line()); }
  // Boot-time contents, before any vCPU runs (as the kernel image or boot code leaves them).
  void preset(Word& w, std::uint64_t v) { w.value_ = v; }

  // Coherence cost of an access by `pcpu`, updating the line's state.
  Tick access(int pcpu, const Word& w, bool write);
  // A write by the host (the hypervisor on `pcpu`, e.g. the steal-time page): lands at once,
  // moves the line and wakes the word's watchers.
  void host_write(int pcpu, Word& w, std::uint64_t v);
  // Stores `v` and wakes the watchers (a guest store, after its cost was paid).
  void write(Word& w, std::uint64_t v);
  // True when a word of the set was written after it was read.
  static bool changed(const WatchSet& ws);
  void watch(const WatchSet& ws, Vcpu& v);
  void unwatch(const WatchSet& ws, Vcpu& v);

  std::uint64_t transfers() const { return transfers_; }
  // Transfers of one cacheline so far.
  std::uint64_t line_transfers(int line) const {
    return lines_[static_cast<std::size_t>(line)].transfers;
  }
  const std::deque<Word>& words() const { return words_; }

 private:
  struct Line {
    int owner = -1;             // pCPU holding it modified, or -1
    std::vector<bool> sharers;  // pCPUs holding a copy
    std::uint64_t transfers = 0;
  };
  int socket_of(int pcpu) const { return pcpu * sockets_ / pcpus_; }
  void notify(Word& w);

  const CostParams& costs_;
  int pcpus_;
  int sockets_;
  std::vector<Line> lines_;
  std::deque<Word> words_;
  std::uint64_t transfers_ = 0;
};

// Host-side inspection of guest memory for tests and checkers, never for guest code.
struct MemoryInspector {
  static std::uint64_t value(const Word& w) { return w.value_; }
  static std::uint64_t writes(const Word& w) { return w.version_; }
};

}  // namespace vcpusim::cpu
