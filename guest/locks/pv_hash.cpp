#include "guest/locks/pv_hash.hpp"

#include "sim/error.hpp"

namespace vcpusim::guest {

namespace {
// The kernel's rule: 4 entries per possible CPU, whole cachelines, at least a page of entries.
int default_entries(int cpus) {
  int n = 4 * cpus;
  n = (n + PvHash::kEntriesPerLine - 1) / PvHash::kEntriesPerLine * PvHash::kEntriesPerLine;
  return std::max(n, 256);
}
}  // namespace

PvHash::PvHash(LockKit& kit)
    : stop_at_empty_(kit.params().pv_hash_lookup.value == PvHashLookup::kStopAtEmpty) {
  int n = static_cast<int>(kit.params().pv_hash_entries.value);
  if (n == 0) n = default_entries(kit.cpus());
  while ((1 << bits_) < n) ++bits_;  // alloc_large_system_hash rounds up to a power of two
  cpu::Memory& mem = kit.machine().memory();
  int line = -1;
  for (int i = 0; i < (1 << bits_); ++i) {
    if (i % kEntriesPerLine == 0) line = kit.shared_line();
    const std::string p = "pv_lock_hash." + std::to_string(i);
    entries_.push_back(Entry{&mem.word(p + ".lock", line), &mem.word(p + ".node", line)});
  }
}

// hash_ptr(lock, bits), first entry of its bucket: the golden-ratio multiplicative hash.
int PvHash::bucket_of(std::uint64_t lock) const {
  const std::uint64_t h = (lock * 0x61C8864680B583EBULL) >> (64 - bits_);
  return static_cast<int>(h) & ~(kEntriesPerLine - 1);
}

int PvHash::insert(cpu::GuestCpu& cpu, std::uint64_t lock, std::uint64_t node) {
  const int first = bucket_of(lock);
  for (int offset = 0; offset < size(); ++offset) {
    Entry& e = at(first, offset);
    if (cpu.cmpxchg(*e.lock, 0, lock) == 0) {
      cpu.store(*e.node, node);
      return (first + offset) & (size() - 1);
    }
  }
  throw sim::SimError("the pv lock hash table is full (" + std::to_string(size()) + " entries)");
}

std::optional<std::uint64_t> PvHash::remove(cpu::GuestCpu& cpu, std::uint64_t lock) {
  const int first = bucket_of(lock);
  for (int offset = 0; offset < size(); ++offset) {
    Entry& e = at(first, offset);
    const std::uint64_t l = cpu.load(*e.lock);
    if (l == lock) {
      const std::uint64_t node = cpu.load(*e.node);
      cpu.store(*e.lock, 0);
      return node;
    }
    if (l == 0 && stop_at_empty_) return std::nullopt;
  }
  return std::nullopt;
}

void PvHash::clear(cpu::GuestCpu& cpu, int entry) {
  cpu.store(*entries_[static_cast<std::size_t>(entry)].lock, 0);
}

}  // namespace vcpusim::guest
