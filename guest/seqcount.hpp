// Sequence counter: writers make it odd for the duration of an update, readers retry when it
// was odd or changed (include/linux/seqlock.h).
#pragma once
#include <cstdint>

#include "cpu/vm/guest_api.hpp"
#include "guest/trace_kinds.hpp"
#include "guest/window_sites.hpp"

namespace vcpusim::guest {

class Seqcount {
 public:
  explicit Seqcount(cpu::Word& seq) : seq_(seq) {}
  // The CPU that runs the write sections (for the wait-for graph), -1 when any CPU may.
  void set_writer(int cpu) { writer_ = cpu; }
  int writer() const { return writer_; }

  // Waits (spinning, event-driven) while a write is in progress, then returns the even value.
  std::uint64_t read_begin(cpu::GuestCpu& cpu) {
    std::uint64_t v = cpu.load(seq_);
    if (v & 1)
      cpu.spin_until([&] { return ((v = cpu.load(seq_)) & 1) == 0; },
                     sim::WaitOn{seq_.name, writer_, sim::Needs::kProgress, false});
    cpu.smp_rmb();
    return v;
  }
  bool read_retry(cpu::GuestCpu& cpu, std::uint64_t start) {
    cpu.smp_rmb();
    return cpu.load(seq_) != start;
  }
  // The sole writer's increment: a load and a store (not atomic: writers are serialised).
  void write_begin(cpu::GuestCpu& cpu) {
    cpu.store(seq_, cpu.load(seq_) + 1);
    cpu.trace(trace_kind::kSeqWriteBegin, seq_.id);
    cpu.window(window::kSeqWrite, &seq_, true);
    cpu.smp_wmb();
  }
  void write_end(cpu::GuestCpu& cpu) {
    cpu.smp_wmb();
    cpu.store(seq_, cpu.load(seq_) + 1);
    cpu.trace(trace_kind::kSeqWriteEnd, seq_.id);
    cpu.window(window::kSeqWrite, &seq_, false);
  }
  cpu::Word& word() { return seq_; }

 private:
  cpu::Word& seq_;
  int writer_ = -1;
};

}  // namespace vcpusim::guest
