// Sequence counter: writers make it odd for the duration of an update, readers retry when it
// was odd or changed (include/linux/seqlock.h).
#pragma once
#include <cstdint>

#include "cpu/guest_api.hpp"

namespace vcpusim::guest {

class Seqcount {
 public:
  explicit Seqcount(cpu::Word& seq) : seq_(seq) {}

  // Waits (spinning, event-driven) while a write is in progress, then returns the even value.
  std::uint64_t read_begin(cpu::GuestCpu& cpu) {
    std::uint64_t v = cpu.load(seq_);
    while (v & 1) {
      cpu.spin_until([this] { return (seq_.value & 1) == 0; }, {&seq_});
      v = cpu.load(seq_);
    }
    cpu.smp_rmb();
    return v;
  }
  bool read_retry(cpu::GuestCpu& cpu, std::uint64_t start) {
    cpu.smp_rmb();
    return cpu.load(seq_) != start;
  }
  void write_begin(cpu::GuestCpu& cpu) {
    cpu.store(seq_, seq_.value + 1);
    cpu.smp_wmb();
  }
  void write_end(cpu::GuestCpu& cpu) {
    cpu.smp_wmb();
    cpu.store(seq_, seq_.value + 1);
  }
  cpu::Word& word() { return seq_; }

 private:
  cpu::Word& seq_;
};

}  // namespace vcpusim::guest
