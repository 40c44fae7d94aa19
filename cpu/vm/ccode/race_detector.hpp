// The data_race check of C guest code (docs/c-guest-code.md "Data races"): two accesses of
// different vCPUs to the same byte, at least one a write and at least one plain, that
// happens-before does not order.
//
// The definition is the one that matches the model's memory: accesses are sequentially
// consistent, so every marked access (READ_ONCE / WRITE_ONCE, an atomic, smp_load_acquire /
// smp_store_release, a volatile access) behaves as a C11 seq_cst atomic. Happens-before is
// program order plus synchronises-with: a marked write (or read-modify-write) releases, a later
// marked read of the same 8-byte word acquires; a pv_kick releases to the kicked vCPU, which
// acquires when its pv_wait returns. A plain access is one the compiler instrumented
// (-fsanitize=thread entry points). This is the SC-for-DRF definition (TSan's, with every marked
// access seq_cst), checked with vector clocks (FastTrack's epochs for the last write): it
// reports races that a run's interleaving did not make overlap in time, unlike KCSAN's
// watchpoints, and it never reports an access pair that synchronisation orders. It is stronger
// than the LKMM only in treating READ_ONCE / WRITE_ONCE as ordering: message passing through
// them without barriers, a bug on arm64, is not reported here (the model is SC).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/checks/checks.hpp"
#include "sim/time.hpp"

namespace vcpusim::cpu {

class Word;

// Turns a code address of guest code into "file.c:line" (or "" when unknown); never a host
// address, so messages do not depend on where the loader put the code.
class CodeLocator {
 public:
  virtual ~CodeLocator() = default;
  virtual std::string where(const void* pc) const = 0;
};

class RaceDetector {
 public:
  // The check name a race is reported under.
  static constexpr const char* kCheck = "data_race";

  RaceDetector(int vcpus, sim::Violations& out, const CodeLocator* locator);

  // An access of vCPU `t` at `now` to [p, p + size) on `line`, as it lands. A plain access
  // names the code address that made it (`pc`); a marked one also synchronises as above.
  void plain(int t, sim::Tick now, const Word& line, const void* p, std::size_t size, bool write,
             const void* pc);
  void marked(int t, sim::Tick now, const Word& line, const void* p, std::size_t size, bool read,
              bool write);
  // pv_kick from `from` to `to`; `t` returned from pv_wait.
  void kick(int from, int to);
  void woken(int t);

 private:
  using Clock = std::vector<std::uint64_t>;
  struct Access {
    int vcpu = -1;
    std::uint64_t epoch = 0;  // the vCPU's own clock entry at the access
    bool plain = false;
    bool write = false;
    const void* pc = nullptr;
  };
  struct Shadow {
    Access write;               // the last write (vcpu -1: none yet)
    std::vector<Access> reads;  // the last read of each vCPU since that write
  };

  bool ordered(int t, const Access& earlier) const;
  void check(int t, sim::Tick now, const Word& line, std::uintptr_t byte, const Access& a);
  void report(int t, sim::Tick now, const Word& line, std::uintptr_t byte, const Access& a,
              const Access& earlier);
  std::string describe(const Access& a) const;
  static void join(Clock& into, const Clock& from);

  std::vector<Clock> clocks_;                               // per vCPU
  std::vector<Clock> kicks_;                                // released to each vCPU by pv_kick
  std::unordered_map<std::uintptr_t, Clock> sync_;          // per 8-byte word; lookup only
  std::unordered_map<std::uintptr_t, Shadow> bytes_;        // per byte; lookup only
  std::set<std::pair<const void*, const void*>> reported_;  // code pairs, each reported once
  sim::Violations& out_;
  const CodeLocator* locator_;
};

}  // namespace vcpusim::cpu
