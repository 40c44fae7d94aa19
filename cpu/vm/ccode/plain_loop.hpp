// A plain loop of instrumented C code at a fixed point (docs/c-guest-code.md "Spinning without
// cpu_relax"). C code compiled with -fsanitize=thread calls vcpusim before each load; on x86-64
// that call hands over the code's whole state (plugin/tsan_entry_points.cpp): the callee-saved
// registers and the return address, which the hook pushes, and the stack above them. Values in
// caller-saved registers are dead across a call, so what the code does next depends on that
// state and on memory alone. When the state before a load equals the state before an earlier
// load, and between the two the code only loaded guest lines that nobody has written since,
// the next pass reads the same values and comes back to the same state: the loop repeats until
// one of those lines is written. GuestCpu then waits for that write, as cpu_relax does, instead
// of paying one event per pass. A loop whose state moves (a counter in a register or on the
// stack, a store, any other operation, host memory) is never taken for one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/vm/memory.hpp"

namespace vcpusim::cpu {

// The state of C code at an instrumented load: `frame` points at the six callee-saved registers
// the hook pushed, then its return address, then the caller's frames up to `top`, the running
// fiber's first frame.
struct CodeState {
  const std::uint64_t* frame = nullptr;
  const char* top = nullptr;

  static constexpr std::size_t kReturnAddress = 6;
  std::uint64_t pc() const { return frame[kReturnAddress]; }
  std::size_t words() const {
    return static_cast<std::size_t>(top - reinterpret_cast<const char*>(frame)) /
           sizeof(std::uint64_t);
  }
};

class PlainLoop {
 public:
  // Before a plain load in `state`, with the vCPU's operation count `ops` (Vcpu::operations):
  // true when the code is at a fixed point; take_reads() is then what it waits on.
  bool at_fixed_point(const CodeState& state, std::uint64_t ops);
  // The load read `line` at `version` (its writes so far).
  void loaded(Word& line, std::uint64_t version);
  // The access is over; `ops` is the count after it.
  void done(std::uint64_t ops) { ops_ = ops; }
  // Anything but a plain load of guest memory or of the fiber's own stack happened.
  void reset();
  // The lines the loop read since its sample, each at the version it first read.
  WatchSet take_reads();

  // Loads in a row before the first sample: most code is not a loop, and a sample copies the
  // stack. Samples are compared at most every gap loads; the gap doubles after each mismatch
  // (a loop whose state moves), up to kMaxGap.
  static constexpr std::uint64_t kWarmup = 32;
  static constexpr std::uint64_t kMaxGap = 4096;

 private:
  void take(const CodeState& state);

  std::uint64_t ops_ = 0;
  std::uint64_t loads_ = 0;  // plain loads in a row, nothing else between
  std::uint64_t since_ = 0;  // loads since the sample
  std::uint64_t gap_ = 1;
  bool sampled_ = false;
  const std::uint64_t* sample_frame_ = nullptr;
  std::vector<std::uint64_t> sample_;  // the words from sample_frame_ to the stack's top
  WatchSet reads_;
};

}  // namespace vcpusim::cpu
