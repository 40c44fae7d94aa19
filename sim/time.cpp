#include "sim/time.hpp"

#include <cctype>
#include <utility>

namespace vcpusim::sim {
namespace {

// Parses "<decimal><unit>" where unit scales the value to an integer; nullopt if inexact.
std::optional<std::int64_t> parse_scaled(
    std::string_view text, std::initializer_list<std::pair<std::string_view, std::int64_t>> units) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  std::string_view number = text.substr(0, i);
  std::string_view unit = text.substr(i);
  // The schema's pattern: digits, then optionally a dot and digits (no ".5ms", no "5.ms").
  if (number.empty() || number.front() == '.' || number.back() == '.') return std::nullopt;
  std::int64_t scale = 0;
  for (const auto& [name, factor] : units)
    if (unit == name) scale = factor;
  if (scale == 0) return std::nullopt;
  __int128 whole = 0;
  __int128 frac = 0;
  __int128 frac_div = 1;
  bool seen_dot = false;
  for (char c : number) {
    if (c == '.') {
      if (seen_dot) return std::nullopt;
      seen_dot = true;
      continue;
    }
    int d = c - '0';
    if (!seen_dot) {
      whole = whole * 10 + d;
    } else {
      if (frac_div > static_cast<__int128>(1e18)) return std::nullopt;
      frac = frac * 10 + d;
      frac_div *= 10;
    }
    if (whole > static_cast<__int128>(INT64_MAX)) return std::nullopt;
  }
  __int128 value = whole * scale;
  __int128 frac_scaled = frac * scale;
  if (frac_scaled % frac_div != 0) return std::nullopt;
  value += frac_scaled / frac_div;
  if (value > static_cast<__int128>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::string format_scaled(std::int64_t v,
                          std::initializer_list<std::pair<std::string_view, std::int64_t>> units) {
  // units are listed largest first; pick the largest unit that renders with <= 3 decimals exactly.
  for (const auto& [name, factor] : units) {
    if (v == 0) break;
    if (v < factor) continue;
    std::int64_t whole = v / factor;
    std::int64_t rem = v % factor;
    std::string out = std::to_string(whole);
    if (rem != 0) {
      std::string digits;
      std::int64_t f = factor;
      std::int64_t r = rem;
      while (r != 0 && f > 1) {
        f /= 10;
        digits += static_cast<char>('0' + r / f);
        r %= f;
      }
      if (r != 0 || digits.size() > 3) continue;
      out += "." + digits;
    }
    return out + std::string(name);
  }
  return std::to_string(v) + std::string(std::prev(units.end())->first);
}

}  // namespace

std::optional<Tick> parse_duration(std::string_view text) {
  return parse_scaled(text, {{"ps", kPicosecond},
                             {"ns", kNanosecond},
                             {"us", kMicrosecond},
                             {"ms", kMillisecond},
                             {"s", kSecond}});
}

std::optional<std::int64_t> parse_frequency(std::string_view text) {
  return parse_scaled(text, {{"Hz", 1}, {"kHz", 1000}, {"MHz", 1000000}, {"GHz", 1000000000}});
}

std::string format_duration(Tick t) {
  if (t < 0) return "-" + format_duration(-t);
  return format_scaled(t, {{"s", kSecond},
                           {"ms", kMillisecond},
                           {"us", kMicrosecond},
                           {"ns", kNanosecond},
                           {"ps", kPicosecond}});
}

std::string format_time(Tick t) {
  if (t < 0) return "-" + format_time(-t);
  if (t == 0) return "0ns";
  static constexpr std::pair<const char*, Tick> kUnits[] = {
      {"s", kSecond}, {"ms", kMillisecond}, {"us", kMicrosecond}, {"ns", kNanosecond}};
  for (const auto& [name, factor] : kUnits) {
    if (t < factor) continue;
    std::string out = std::to_string(t / factor);
    std::string digits;
    for (Tick f = factor / 10, r = t % factor; r != 0; f /= 10) {
      digits += static_cast<char>('0' + r / f);
      r %= f;
    }
    if (!digits.empty()) out += "." + digits;
    return out + name;
  }
  return std::to_string(t) + "ps";
}

std::string format_frequency(std::int64_t hz) {
  return format_scaled(hz, {{"GHz", 1000000000}, {"MHz", 1000000}, {"kHz", 1000}, {"Hz", 1}});
}

}  // namespace vcpusim::sim
