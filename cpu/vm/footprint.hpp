// What a stretch of guest code may touch, declared so that lookahead can let other code run ahead
// of it (sim::Kernel::try_lookahead, docs/lookahead.md). A task (an execution context of a vCPU)
// declares one for all of its code outside interrupt handlers; no declaration means "unknown",
// which is always safe: that code's events are barriers and it never runs ahead.
//
// A declared task promises, until it ends:
//   - it accesses guest memory only in `words` (through the guest API; each word's whole line
//     counts, since the coherence model makes even reads stateful);
//   - it asks the host for nothing but CPU time (no wait, halt, hypercall, interrupt or kick);
//   - it records (results, checks, trace notes) only if `records` says so.
// Its operations' completions are then transparent events. If also no other declared task lists
// a line it lists and it makes no record, it is private: it may run ahead of pending transparent
// events until the next barrier. `run --verify-footprints` checks every access against `words`;
// a record or a barrier pushed out of order is a lookahead violation (sim::SimError) in any run.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::cpu {

class Word;

struct Footprint {
  std::string what;                // names the code in a violation message ("busy")
  std::vector<const Word*> words;  // every word it may read or write
  bool records = false;            // it records: then it is transparent but never runs ahead
};

}  // namespace vcpusim::cpu
