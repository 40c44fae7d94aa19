// A clock's read base and its guest-memory copy (kernel/time/timekeeping.c struct tk_read_base).
#pragma once
#include <cstdint>
#include <string>

#include "cpu/machine.hpp"

namespace vcpusim::guest {

// One clock's read base: ns = sec * 1e9 + (((c - cycle_last) * mult + nsec) >> shift).
struct ClockBase {
  std::uint64_t cycle_last = 0;
  std::uint64_t mult = 0;
  std::uint64_t shift = 0;
  std::uint64_t sec = 0;
  std::uint64_t nsec = 0;  // shifted nanoseconds
  std::int64_t read_ns(std::uint64_t cycles) const;
};

// NTP changes mult by `adj` so that the new line passes through the old one at cycle `anchor`:
// nsec -= adj * (anchor - cycle_last) (timekeeping_apply_adjustment).
void change_mult_at(ClockBase& base, std::int64_t adj, std::uint64_t anchor);

// The same five fields as guest-shared words on one cacheline.
struct ClockWords {
  cpu::Word* cycle_last;
  cpu::Word* mult;
  cpu::Word* shift;
  cpu::Word* sec;
  cpu::Word* nsec;
  void store(cpu::GuestCpu& cpu, const ClockBase& b);
  ClockBase load(cpu::GuestCpu& cpu);
  // Boot-time contents.
  void init(cpu::Memory& mem, const ClockBase& b);
};

using u128 = unsigned __int128;
using i128 = __int128;
constexpr std::uint64_t kNsecPerSec = 1000000000ULL;

// Keeps shifted nanoseconds within [0, 1 s) by carrying into seconds.
void normalize_shifted(std::uint64_t& sec, __int128& nsec, std::uint64_t shift);

// Five words on one new cacheline (or on `line` when given).
ClockWords make_clock_words(cpu::Memory& mem, const std::string& prefix, int line);

}  // namespace vcpusim::guest
