// The cacheline coherence cost model (MESI-like, one cache per pCPU). An access costs by where the
// line is: already here in the state it needs (a hit, free), else a transfer by the distance
// (cpu/host/topology.hpp) to the copy that serves it: costs.cacheline_same_core (the SMT sibling,
// through the core's shared caches), cacheline_same_socket, cacheline_cross_socket. A read is
// served by the nearest copy and leaves the line shared; a write or atomic must take the line
// exclusive: it invalidates every other copy and waits for the farthest one (the RFO from a
// modified owner, or the invalidation acknowledgements of the sharers), even when it already held a
// shared copy. A line never touched by any CPU is in memory and costs nothing extra (first touch).
//
// Ordering of concurrent requests: the line's owner answers one request at a time. Each line keeps
// the time it is next free; an access that needs a transfer starts at max(now, free), ends one
// transfer later and makes that the line's new free time. Requests issued at the same instant are
// served in the order they are issued (the event order: vCPU order at equal times), so after a
// write to a line that N vCPUs spin on, the k-th refetch completes k transfers after the spinners
// noticed the write. The line's state changes when the request is issued (its place in that
// order); a write's value lands when its cost, waiting included, is paid.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/host/topology.hpp"
#include "cpu/params.hpp"
#include "sim/config/config.hpp"

namespace vcpusim::cpu {

class Coherence {
 public:
  Coherence(const CostParams& costs, Topology topology);

  int add_line();
  // The line's name in reports: the name of the first word placed on it.
  void name_line(int line, const std::string& word_name);
  // Cost (waiting for the line included) of an access by `pcpu` issued at `now`. Hits are
  // decided inline (most accesses are): modified here, or a read of a copy held here.
  Tick access(Tick now, int pcpu, int line, bool write) {
    Line& l = lines_[static_cast<std::size_t>(line)];
    if (l.owner == pcpu) return 0;
    if (!write && l.holders[static_cast<std::size_t>(pcpu)]) {
      l.owner = -1;  // a shared copy here means no other pCPU holds it modified
      return 0;
    }
    return miss(now, pcpu, l, write);
  }

  // Whether access() would change nothing: the line is modified here, or it is a read of a copy
  // held here.
  bool hit(int pcpu, int line, bool write) const {
    const Line& l = lines_[static_cast<std::size_t>(line)];
    return l.owner == pcpu || (!write && l.holders[static_cast<std::size_t>(pcpu)]);
  }
  const Topology& topology() const { return topology_; }
  std::uint64_t transfers() const { return transfers_; }
  std::uint64_t line_transfers(int line) const {
    return lines_[static_cast<std::size_t>(line)].transfers;
  }
  std::uint64_t pcpu_transfers(int pcpu) const { return per_pcpu_[static_cast<std::size_t>(pcpu)]; }
  // Copies dropped by writes taking lines exclusive.
  std::uint64_t invalidations() const { return invalidations_; }
  // Time requests spent waiting for a line busy with an earlier transfer.
  Tick queued() const { return queued_; }
  // The "coherence" section of the result JSON: totals, per pCPU, and the `top` lines with the
  // most transfers (ties: the older line first).
  sim::Json report(std::size_t top) const;

 private:
  struct Line {
    std::string name;
    int owner = -1;             // pCPU holding it modified, or -1
    std::vector<bool> holders;  // pCPUs holding a copy (the owner included)
    Tick free_at = 0;           // end of the last transfer: the next one starts no earlier
    std::uint64_t transfers = 0;
  };
  Tick miss(Tick now, int pcpu, Line& l, bool write);
  Tick cost(Distance d) const;

  const CostParams& costs_;
  Topology topology_;
  std::vector<Line> lines_;
  std::vector<std::uint64_t> per_pcpu_;
  std::uint64_t by_distance_[kDistances] = {0, 0, 0, 0};
  std::uint64_t transfers_ = 0;
  std::uint64_t invalidations_ = 0;
  Tick queued_ = 0;
};

}  // namespace vcpusim::cpu
