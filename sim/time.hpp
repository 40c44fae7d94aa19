// Simulated time: integer picoseconds, never floating point.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vcpusim::sim {

using Tick = std::int64_t;  // picoseconds

constexpr Tick kPicosecond = 1;
constexpr Tick kNanosecond = 1000;
constexpr Tick kMicrosecond = 1000 * kNanosecond;
constexpr Tick kMillisecond = 1000 * kMicrosecond;
constexpr Tick kSecond = 1000 * kMillisecond;
constexpr Tick kForever = INT64_MAX;

// "4ms", "250ns", "1.5us", "2s", "10ps"; exact decimal arithmetic, rejects sub-picosecond values.
std::optional<Tick> parse_duration(std::string_view text);
// "2.5GHz", "100MHz", "32kHz", "1000Hz" -> hertz.
std::optional<std::int64_t> parse_frequency(std::string_view text);

// Shortest exact rendering with a unit: 4000000000 -> "4ms", 1500 -> "1.5ns".
std::string format_duration(Tick t);
// The one rule for times in messages and summaries: the largest unit with a non-zero whole part,
// exact (trailing zeros dropped), no space, so every printed time is also valid scenario syntax:
// 34008663000 -> "34.008663ms", 14403000 -> "14.403us", 527000 -> "527ns", 0 -> "0ns".
// (format_duration, for configuration echoes, prefers at most three decimals instead.)
std::string format_time(Tick t);
std::string format_frequency(std::int64_t hz);

inline double to_ns(Tick t) {
  return static_cast<double>(t) / kNanosecond;
}

}  // namespace vcpusim::sim
