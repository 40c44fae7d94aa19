// What a stretch of guest code may touch, declared so that lookahead can let other code run ahead
// of it (sim::Kernel::try_lookahead, docs/lookahead.md). A task (an execution context of a vCPU)
// declares one for all of its code outside interrupt handlers; no declaration means "unknown",
// which is always safe: that code's events are barriers and it never runs ahead.
//
// A declared task promises, until it ends:
//   - it reads guest memory only in `reads` and writes only in `writes` (through the guest API;
//     each word's whole line counts, since the coherence model makes even reads stateful);
//   - before anything whose order across vCPUs matters (a record, a check's sample) it calls
//     GuestCpu::order_point(), which GuestCpu::trace does itself.
// Its operations' completions are then transparent events. It is private, and may run ahead of
// pending transparent events until the next barrier, when no other vCPU's declared task writes a
// line it lists or lists a line it writes. Running ahead, an access that is not a cache hit
// (it would change a line's state in the wrong order) first waits its turn, as order_point() does.
// A task that may wait names what on (`quiet`, a seqcount): otherwise its wait could start behind
// code that already ran past it. Waits, halts, hypercalls and interrupts sent start in turn as well
// (the vCPU calls order_point first), and an exit completes in a barrier event. `run
// --verify-footprints` checks every access against the footprint; a record, a barrier pushed, or an
// interrupt or kick raised out of key order is a lookahead violation (sim::SimError) in any run.
#pragma once
#include <string>
#include <vector>

namespace vcpusim::cpu {

class Word;

struct Footprint {
  std::string what;                 // names the code in a violation message ("busy")
  std::vector<const Word*> reads;   // every word it may read (and not write)
  std::vector<const Word*> writes;  // every word it may write (or read and write)
  // A seqcount the task spins on while it is odd (read_seqcount_begin): its work is transparent
  // only while the count is even, and a write to it turns armed work into a barrier, since a
  // wait acts on the host (a pause-loop exit's directed yield) where others may have run ahead.
  const Word* quiet = nullptr;
};

}  // namespace vcpusim::cpu
