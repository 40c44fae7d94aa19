// Scenario section "guest.locks": which spinlock algorithm the lock workloads use, how many locks
// there are, and the knobs of the paravirt variants (seed 003).
#pragma once
#include "sim/config/config.hpp"
#include "sim/config/registry.hpp"

namespace vcpusim::guest {

struct LockAlgorithm;
using LockRegistry = sim::Registry<LockAlgorithm>;

enum class PvHashOrder { kHashThenSlow, kSlowThenHash };
enum class PvHashLookup { kProbeUntilFound, kStopAtEmpty };
// Which kernel's paravirt spinlock: docs/locks.md has the table and the commits each follows.
enum class LockEra { k2015, k2016, kCurrent };

struct LockParams : sim::ParamSet {
  // `algorithms`: what guest.locks.kind may name; it outlives the parameters.
  explicit LockParams(const LockRegistry& algorithms);
  const LockRegistry& algorithms() const { return algorithms_; }

 private:
  const LockRegistry& algorithms_;
  std::string kind_doc_;  // before `kind`, which keeps a pointer to it

 public:
  sim::ChoiceParam kind;  // a name in `algorithms`
  sim::EnumParam<LockEra> era{
      *this,
      "era",
      LockEra::k2015,
      {{"2015", LockEra::k2015}, {"2016", LockEra::k2016}, {"current", LockEra::kCurrent}},
      "which kernel's paravirt spinlock: 2015: Long's pvqspinlock as seed 003 models it (also "
      "the only era of pvticket); 2016: v4.5's adaptive early halt sampled every 256 spins and "
      "one lock-steal attempt at queue entry (1c4941fd53af, cd0272fab785); current: mainline, "
      "whose hybrid unfair trylock (11752adb) keeps stealing while the queue head is not "
      "spinning"};
  sim::IntParam count{*this, "count", 1, 1, 4096, "number of locks (lock0, lock1, ...)"};
  sim::IntParam spin_threshold{
      *this,     "spin_threshold",
      1 << 15,   1,
      1LL << 30, "SPIN_THRESHOLD: cpu_relax() loops a pv waiter spins before it halts (x86: 2^15)"};
  // Floored as every guest operation's cost is (cpu::kMinOperationCost): one cycle at 10 GHz.
  sim::DurationParam relax{*this,
                           "relax",
                           10 * sim::kNanosecond,
                           100 * sim::kPicosecond,
                           sim::kMillisecond,
                           "one spin-loop iteration, PAUSE plus the re-read: ~25 cycles on the "
                           "2015-era parts of Long's table (PAUSE ~10 cycles), ~140 since "
                           "Skylake (set 56ns for those); sets how long a spin threshold lasts"};
  sim::EnumParam<PvHashOrder> pv_hash_order{
      *this,
      "pv_hash_order",
      PvHashOrder::kHashThenSlow,
      {{"hash-then-slow", PvHashOrder::kHashThenSlow},
       {"slow-then-hash", PvHashOrder::kSlowThenHash, "hash_lookup"}},
      "pvqspinlock queue head before it halts: hash-then-slow (mainline) inserts lock -> node "
      "into the hash table, then publishes _Q_SLOW_VAL; slow-then-hash publishes _Q_SLOW_VAL "
      "first (seed 003: an unlocker that sees it may not find the entry)"};
  sim::EnumParam<PvHashLookup> pv_hash_lookup{
      *this,
      "pv_hash_lookup",
      PvHashLookup::kProbeUntilFound,
      {{"probe-until-found", PvHashLookup::kProbeUntilFound},
       {"stop-at-empty", PvHashLookup::kStopAtEmpty, "hash_lookup"}},
      "pv_unhash: probe-until-found (mainline: _Q_SLOW_VAL implies an entry exists) or "
      "stop-at-empty (seed 003: broken once an earlier slot of the chain is emptied)"};
  sim::IntParam pv_hash_entries{*this,
                                "pv_hash_entries",
                                0,
                                0,
                                1 << 20,
                                "pv hash table size, a power of two >= 4 (0: the kernel's "
                                "rule, 4 x vCPUs rounded up to a cacheline, at least 256)"};
  void validate(const sim::Node& node) const override;
};

}  // namespace vcpusim::guest
