// The pv qspinlock's lock -> node hash table (kernel/locking/qspinlock_paravirt.h): open
// addressing with linear probing from the first entry of the lock's hash bucket (a cacheline of
// four entries), deletion by writing NULL, no tombstones. A waiter about to halt inserts its lock
// and node; the unlocker that finds _Q_SLOW_VAL looks the lock up, takes the node and clears the
// entry. Lookup variants: probe until found (mainline; terminates because _Q_SLOW_VAL implies an
// entry) or stop at an empty entry (seed 003: broken once an earlier entry of the chain is freed).
#pragma once
#include <optional>

#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

class PvHash {
 public:
  explicit PvHash(LockKit& kit);
  static constexpr int kEntriesPerLine = 4;  // 16-byte entries

  // pv_hash: claims a free entry for `lock` (an id != 0) and records `node`; returns the entry.
  // Throws when the table is full (the kernel BUG()s).
  int insert(cpu::GuestCpu& cpu, std::uint64_t lock, std::uint64_t node);
  // pv_unhash: the node recorded for `lock`, its entry cleared; nullopt when the lookup fails.
  std::optional<std::uint64_t> remove(cpu::GuestCpu& cpu, std::uint64_t lock);
  // WRITE_ONCE(*lp, NULL) on an entry insert() returned.
  void clear(cpu::GuestCpu& cpu, int entry);
  int size() const { return static_cast<int>(entries_.size()); }
  int bucket_of(std::uint64_t lock) const;

 private:
  struct Entry {
    cpu::Word* lock;
    cpu::Word* node;
  };
  Entry& at(int first, int offset) {
    return entries_[static_cast<std::size_t>((first + offset) & (size() - 1))];
  }
  std::vector<Entry> entries_;
  int bits_ = 0;
  bool stop_at_empty_;
};

}  // namespace vcpusim::guest
