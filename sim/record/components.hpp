// The registry of simulated components (pCPUs, host threads, interrupt sources, guest models,
// checkers). A component registers once, by a unique name and a group, and gets a dense id in
// registration order: that id is its tie-break at equal (time, phase) in the event queue and the
// component of what it records. Its name is its identity everywhere else: the stream key of its
// random draws and its contribution to the fingerprint are a stable hash of the name, so adding
// an unrelated component renumbers ids but changes no other component's draws.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vcpusim::sim {

// FNV-1a 64 of the bytes: the same on every machine and build (never std::hash).
std::uint64_t stable_hash(std::string_view text);

class Components {
 public:
  struct Entry {
    std::string name;       // unique, e.g. "vcpu1"
    std::string group;      // what kind of component: who interprets its events ("vcpu", "pcpu")
    int index = 0;          // its number within the group's owner (the vCPU, pCPU or thread index)
    std::uint64_t key = 0;  // stable_hash(name)
  };

  // Registers a component and returns its id (0, 1, ... in registration order).
  // Throws sim::SimError when the name is taken.
  int add(std::string name, std::string group, int index = 0);

  int size() const { return static_cast<int>(entries_.size()); }
  const Entry& at(int id) const;
  std::uint64_t key(int id) const { return at(id).key; }
  // The id of the component with this name, or -1.
  int find(std::string_view name) const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace vcpusim::sim
