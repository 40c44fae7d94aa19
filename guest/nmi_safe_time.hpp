// Reading time from NMI context (seed 000, MECHANISMS.md section 2).
// - naive: through tk_core's seqcount; an NMI that interrupted its own CPU's write section spins
//   forever, since the writer cannot resume until the NMI returns.
// - owner-shadow (Desnoyers, lttng-dev 2013-09-11 "timekeeping_is_busy" RFC): around the write
//   section the writer keeps a copy of the old timekeeper and records its CPU, ordered by compiler
//   barriers (owner stored before the sequence turns odd, cleared after it is even again); a
//   reader that finds the sequence odd on the owner CPU reads the copy.
// - owner-shadow-no-barrier: the same without the barriers, so the owner store may sink below the
//   sequence increment and its clearing rise above the final one; an NMI in that window spins.
// - latch (kernel/time/timekeeping.c update_fast_timekeeper, include/linux/seqlock.h latch):
//   a sequence and two copies; the low bit of the sequence picks the copy not being written.
#pragma once
#include <cstdint>
#include <string>

#include "cpu/machine.hpp"
#include "guest/clock_base.hpp"
#include "guest/seqcount.hpp"
#include "guest/timekeeping_params.hpp"

namespace vcpusim::guest {

class NmiSafeTime {
 public:
  NmiSafeTime(cpu::Machine& machine, NmiVariant variant, Seqcount& tk_seq, ClockWords& tk,
              sim::Tick read_compute);
  void init(const ClockBase& initial);
  bool naive() const { return variant_ == Variant::kNaive; }

  // Writer hooks, on the timekeeping CPU around tk_core's write section. Naive: no-ops.
  void before_write_begin(cpu::GuestCpu& cpu);
  void after_write_begin(cpu::GuestCpu& cpu);
  void published(cpu::GuestCpu& cpu, const ClockBase& base);  // the new timekeeper, in the section
  void before_write_end(cpu::GuestCpu& cpu);
  void after_write_end(cpu::GuestCpu& cpu);

  // The non-naive readers (naive readers use Timekeeping::ktime_get).
  std::int64_t read(cpu::GuestCpu& cpu, std::uint64_t& retries);
  std::uint64_t shadow_reads() const { return shadow_reads_; }

 private:
  using Variant = NmiVariant;
  std::int64_t read_owner_shadow(cpu::GuestCpu& cpu, std::uint64_t& retries);
  std::int64_t read_latch(cpu::GuestCpu& cpu, std::uint64_t& retries);
  std::int64_t compute(cpu::GuestCpu& cpu, const ClockBase& base);

  cpu::Machine& machine_;
  Variant variant_;
  Seqcount& tk_seq_;
  ClockWords& tk_;
  sim::Tick read_compute_;
  cpu::Word* owner_ = nullptr;  // owner CPU + 1, 0 when no write section is open
  ClockWords copy_{};           // owner-shadow: the old timekeeper
  cpu::Word* latch_seq_ = nullptr;
  ClockWords latch_[2] = {};
  std::uint64_t shadow_reads_ = 0;
};

}  // namespace vcpusim::guest
