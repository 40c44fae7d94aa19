// Guest-shared memory: 64-bit words on cachelines, with the coherence cost model of
// cpu/vm/coherence.hpp (what an access costs by where the line is, one transfer at a time per line)
// and watchers that event-driven waits register on. A word's value is private: guest code reads and
// writes it only through cpu::GuestCpu, which charges the access and records what a wait read.
//
// Guest memory by address (C guest code, docs/c-guest-code.md): the bytes live where that code
// put them, in regions registered here (a plugin's globals, objects vcpusim allocated for it).
// Each 64-byte line of a region is a Word of its own that carries the line's coherence state,
// its write count (value and version) and its watchers; the bytes themselves stay in place. A
// line's identity is (region, offset from the region's 64-byte-aligned base): regions are
// registered in a deterministic order and a loader or allocator maps them at line-aligned (page-
// or 64-byte-aligned) bases, so where they land never changes a result.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "cpu/host/topology.hpp"
#include "cpu/params.hpp"
#include "cpu/vm/coherence.hpp"

namespace vcpusim::cpu {

class GuestCpu;
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
  std::vector<Vcpu*> quiet_for_;  // lookahead: declared tasks that wait while it is odd
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
  static constexpr std::size_t kLineBytes = 64;

  Memory(const CostParams& costs, Topology topology);

  // A new cacheline; words placed on it share coherence state.
  int new_line();
  Word& word(std::string name, int line, std::uint64_t initial = 0);
  Word& word(std::string name) { return word(std::move(name), new_line()); }
  // Boot-time contents, before any vCPU runs (as the kernel image or boot code leaves them).
  void preset(Word& w, std::uint64_t v) { w.value_ = v; }

  // Coherence cost of an access by `pcpu` issued at `now` (waiting for a busy line included),
  // updating the line's state.
  bool hit(int pcpu, const Word& w, bool write) const {
    return pcpu >= 0 && coherence_.hit(pcpu, w.line, write);
  }
  Tick access(Tick now, int pcpu, const Word& w, bool write) {
    return coherence_.access(now, pcpu, w.line, write);
  }
  // A write by the host (the hypervisor on `pcpu` at `now`, e.g. the steal-time page): lands at
  // once, moves the line (occupying it for the transfer) and wakes the word's watchers.
  void host_write(Tick now, int pcpu, Word& w, std::uint64_t v);
  // True when a word of the set was written after it was read.
  static bool changed(const WatchSet& ws);
  void watch(const WatchSet& ws, Vcpu& v);
  void unwatch(const WatchSet& ws, Vcpu& v);

  // Registers the guest bytes [start, start + bytes) as region `name` (its lines are words named
  // "<name>+0x<offset>"); SimError when it overlaps a region. Returns the region's index.
  int add_region(const std::string& name, const void* start, std::size_t bytes);
  // The word of the line holding [p, p + size), or null with `why` set (outside every region,
  // or across two lines); `why` names the region and offset, never the host address.
  Word* line_word(const void* p, std::size_t size, std::string& why);
  // The word of the line holding byte `p` and, in `line_end`, one past the last byte of that
  // line inside its region; null when `p` is in no region (a fiber's stack, host memory).
  Word* line_of(const void* p, std::uintptr_t& line_end);

  // Cacheline transfers: in all, on one line (e.g. a lock's, for transfers per acquisition:
  // line_transfers(word.line)), requested by one pCPU.
  std::uint64_t transfers() const { return coherence_.transfers(); }
  std::uint64_t line_transfers(int line) const { return coherence_.line_transfers(line); }
  std::uint64_t pcpu_transfers(int pcpu) const { return coherence_.pcpu_transfers(pcpu); }
  const Coherence& coherence() const { return coherence_; }
  const std::deque<Word>& words() const { return words_; }

 private:
  // A guest store lands only through GuestCpu, which pays its cost first.
  friend class GuestCpu;
  // Stores `v` and wakes the watchers.
  void write(Word& w, std::uint64_t v);

 public:
  // Lookahead (cpu/vm/footprint.hpp, Footprint::quiet): every write to `w` tells `v`.
  void tell_writes(Word& w, Vcpu& v) { w.quiet_for_.push_back(&v); }

 private:
  void notify(Word& w);

  struct Region {
    std::string name;
    std::uintptr_t base;  // rounded down to a line
    std::uintptr_t end;   // one past the last byte registered
    std::size_t first_word;
  };

  Coherence coherence_;
  std::deque<Word> words_;
  std::vector<Region> regions_;                 // registration order
  std::map<std::uintptr_t, std::size_t> by_base_;  // lookup only, never iterated for output
};

// Host-side inspection of guest memory for tests and checkers, never for guest code.
struct MemoryInspector {
  static std::uint64_t value(const Word& w) { return w.value_; }
  static std::uint64_t writes(const Word& w) { return w.version_; }
};

}  // namespace vcpusim::cpu
