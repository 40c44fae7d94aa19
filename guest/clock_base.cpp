#include "guest/clock_base.hpp"

namespace vcpusim::guest {

void normalize_shifted(std::uint64_t& sec, __int128& nsec, std::uint64_t shift) {
  const i128 one_second = static_cast<i128>(kNsecPerSec) << shift;
  while (nsec >= one_second) {
    nsec -= one_second;
    ++sec;
  }
  while (nsec < 0) {
    nsec += one_second;
    --sec;
  }
}

std::int64_t ClockBase::read_ns(std::uint64_t cycles) const {
  const std::uint64_t delta =
      cycles > cycle_last ? cycles - cycle_last : 0;  // clamp, as the vDSO does
  const u128 shifted = static_cast<u128>(delta) * mult + nsec;
  return static_cast<std::int64_t>(sec * kNsecPerSec +
                                   static_cast<std::uint64_t>(shifted >> shift));
}

void ClockWords::store(cpu::GuestCpu& cpu, const ClockBase& b) {
  cpu.store(*cycle_last, b.cycle_last);
  cpu.store(*mult, b.mult);
  cpu.store(*shift, b.shift);
  cpu.store(*sec, b.sec);
  cpu.store(*nsec, b.nsec);
}

ClockBase ClockWords::load(cpu::GuestCpu& cpu) {
  ClockBase b;
  b.cycle_last = cpu.load(*cycle_last);
  b.mult = cpu.load(*mult);
  b.shift = cpu.load(*shift);
  b.sec = cpu.load(*sec);
  b.nsec = cpu.load(*nsec);
  return b;
}

void ClockWords::init(cpu::Memory& mem, const ClockBase& b) {
  mem.preset(*cycle_last, b.cycle_last);
  mem.preset(*mult, b.mult);
  mem.preset(*shift, b.shift);
  mem.preset(*sec, b.sec);
  mem.preset(*nsec, b.nsec);
}

ClockWords make_clock_words(cpu::Memory& mem, const std::string& prefix, int line) {
  return ClockWords{&mem.word(prefix + ".cycle_last", line), &mem.word(prefix + ".mult", line),
                    &mem.word(prefix + ".shift", line), &mem.word(prefix + ".sec", line),
                    &mem.word(prefix + ".nsec", line)};
}

void change_mult_at(ClockBase& base, std::int64_t adj, std::uint64_t anchor) {
  const i128 remaining = static_cast<i128>(anchor - base.cycle_last);
  base.mult = static_cast<std::uint64_t>(static_cast<i128>(base.mult) + adj);
  i128 nsec = static_cast<i128>(base.nsec) - adj * remaining;
  normalize_shifted(base.sec, nsec, base.shift);
  base.nsec = static_cast<std::uint64_t>(nsec);
}

}  // namespace vcpusim::guest
