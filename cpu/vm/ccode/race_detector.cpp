#include "cpu/vm/ccode/race_detector.hpp"

#include <algorithm>

#include "cpu/vm/memory.hpp"

namespace vcpusim::cpu {

namespace {
constexpr std::uintptr_t kWordMask = ~static_cast<std::uintptr_t>(7);
constexpr std::uintptr_t kLineMask = Memory::kLineBytes - 1;
}  // namespace

RaceDetector::RaceDetector(int vcpus, sim::Violations& out, const CodeLocator* locator)
    : clocks_(static_cast<std::size_t>(vcpus), Clock(static_cast<std::size_t>(vcpus), 0)),
      kicks_(static_cast<std::size_t>(vcpus), Clock(static_cast<std::size_t>(vcpus), 0)),
      out_(out),
      locator_(locator) {
  for (int t = 0; t < vcpus; ++t)
    clocks_[static_cast<std::size_t>(t)][static_cast<std::size_t>(t)] = 1;
}

void RaceDetector::join(Clock& into, const Clock& from) {
  for (std::size_t i = 0; i < into.size(); ++i) into[i] = std::max(into[i], from[i]);
}

bool RaceDetector::ordered(int t, const Access& earlier) const {
  return earlier.vcpu < 0 || earlier.vcpu == t ||
         earlier.epoch <=
             clocks_[static_cast<std::size_t>(t)][static_cast<std::size_t>(earlier.vcpu)];
}

void RaceDetector::plain(int t, sim::Tick now, const Word& line, const void* p, std::size_t size,
                         bool write, const void* pc) {
  const Access a{t, clocks_[static_cast<std::size_t>(t)][static_cast<std::size_t>(t)], true, write,
                 pc};
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  for (std::uintptr_t b = at; b < at + size; ++b) check(t, now, line, b, a);
}

void RaceDetector::marked(int t, sim::Tick now, const Word& line, const void* p, std::size_t size,
                          bool read, bool write) {
  Clock& mine = clocks_[static_cast<std::size_t>(t)];
  const Access a{t, mine[static_cast<std::size_t>(t)], false, write, nullptr};
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  for (std::uintptr_t b = at; b < at + size; ++b) check(t, now, line, b, a);
  for (std::uintptr_t word = at & kWordMask; word < at + size; word += 8) {
    auto it = sync_.find(word);
    if (read && it != sync_.end()) join(mine, it->second);
    if (write) {
      Clock& released = sync_.try_emplace(word, mine.size(), 0).first->second;
      if (read)
        join(released, mine);  // a read-modify-write continues what it read from
      else
        released = mine;
    }
  }
  if (write) ++mine[static_cast<std::size_t>(t)];
}

void RaceDetector::kick(int from, int to) {
  Clock& mine = clocks_[static_cast<std::size_t>(from)];
  join(kicks_[static_cast<std::size_t>(to)], mine);
  ++mine[static_cast<std::size_t>(from)];
}

void RaceDetector::woken(int t) {
  join(clocks_[static_cast<std::size_t>(t)], kicks_[static_cast<std::size_t>(t)]);
}

void RaceDetector::check(int t, sim::Tick now, const Word& line, std::uintptr_t byte,
                         const Access& a) {
  Shadow& s = bytes_[byte];
  if ((a.plain || s.write.plain) && !ordered(t, s.write)) report(t, now, line, byte, a, s.write);
  if (a.write)
    for (const Access& r : s.reads)
      if ((a.plain || r.plain) && !ordered(t, r)) report(t, now, line, byte, a, r);
  if (a.write) {
    s.write = a;
    s.reads.clear();
    return;
  }
  for (Access& r : s.reads)
    if (r.vcpu == t) {
      r = a;
      return;
    }
  s.reads.push_back(a);
}

std::string RaceDetector::describe(const Access& a) const {
  std::string d = std::string(a.plain ? "plain " : "marked ") + (a.write ? "write" : "read") +
                  " on vCPU " + std::to_string(a.vcpu);
  const std::string where = a.pc && locator_ ? locator_->where(a.pc) : std::string();
  if (!where.empty()) d += " at " + where;
  return d;
}

void RaceDetector::report(int t, sim::Tick now, const Word& line, std::uintptr_t byte,
                          const Access& a, const Access& earlier) {
  if (!reported_.insert({a.pc, earlier.pc}).second) return;
  sim::Violation v;
  v.check = kCheck;
  v.time = now;
  v.cpus = {earlier.vcpu, t};
  v.message = "data race on " + line.name + " byte " + std::to_string(byte & kLineMask) + ": " +
              describe(a) + " and the earlier " + describe(earlier) +
              " are not ordered by any synchronisation";
  out_.report(std::move(v));
}

}  // namespace vcpusim::cpu
