#include "cpu/vm/coherence.hpp"

#include <algorithm>
#include <numeric>

namespace vcpusim::cpu {

Coherence::Coherence(const CostParams& costs, Topology topology)
    : costs_(costs), topology_(topology), per_pcpu_(static_cast<std::size_t>(topology.pcpus), 0) {}

int Coherence::add_line() {
  Line l;
  l.holders.assign(static_cast<std::size_t>(topology_.pcpus), false);
  lines_.push_back(std::move(l));
  return static_cast<int>(lines_.size()) - 1;
}

void Coherence::name_line(int line, const std::string& word_name) {
  Line& l = lines_[static_cast<std::size_t>(line)];
  if (l.name.empty()) l.name = word_name;
}

Tick Coherence::cost(Distance d) const {
  switch (d) {
    case Distance::kHere:
      return 0;
    case Distance::kSameCore:
      return costs_.cacheline_same_core.value;
    case Distance::kSameSocket:
      return costs_.cacheline_same_socket.value;
    case Distance::kOtherSocket:
      return costs_.cacheline_cross_socket.value;
  }
  return 0;
}

// A write, or a read of a line not held here: the line moves.
Tick Coherence::miss(Tick now, int pcpu, Line& l, bool write) {
  const auto me = static_cast<std::size_t>(pcpu);
  // The copy the request needs: for a write the farthest other copy (all must go), for a read
  // that misses the nearest one; kHere when no transfer is needed.
  Distance need = Distance::kHere;
  bool found = false;
  int others = 0;
  for (std::size_t c = 0; c < l.holders.size(); ++c) {
    if (!l.holders[c] || c == me) continue;
    ++others;
    const Distance d = topology_.distance(pcpu, static_cast<int>(c));
    if (!found || (write ? d > need : d < need)) need = d;
    found = true;
  }
  if (write) {
    std::fill(l.holders.begin(), l.holders.end(), false);
    l.owner = pcpu;
    invalidations_ += static_cast<std::uint64_t>(others);
  } else {
    l.owner = -1;  // a read downgrades a modified copy elsewhere to shared
  }
  l.holders[me] = true;
  if (need == Distance::kHere) return 0;
  const Tick start = std::max(now, l.free_at);
  l.free_at = start + cost(need);
  ++l.transfers;
  ++transfers_;
  ++per_pcpu_[me];
  ++by_distance_[static_cast<int>(need)];
  queued_ += start - now;
  return l.free_at - now;
}

sim::Json Coherence::report(std::size_t top) const {
  std::vector<std::size_t> order(lines_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    return lines_[a].transfers > lines_[b].transfers;
  });
  sim::Json lines = sim::Json::array();
  for (std::size_t i = 0; i < order.size() && i < top; ++i) {
    const Line& l = lines_[order[i]];
    if (l.transfers == 0) break;
    lines.push_back({{"line", order[i]}, {"name", l.name}, {"transfers", l.transfers}});
  }
  return {{"transfers", transfers_},
          {"same_core", by_distance_[static_cast<int>(Distance::kSameCore)]},
          {"same_socket", by_distance_[static_cast<int>(Distance::kSameSocket)]},
          {"cross_socket", by_distance_[static_cast<int>(Distance::kOtherSocket)]},
          {"invalidations", invalidations_},
          {"queued_ns", queued_ / sim::kNanosecond},
          {"per_pcpu", per_pcpu_},
          {"top_lines", lines}};
}

}  // namespace vcpusim::cpu
