// The lock algorithms a scenario can name in guest.locks.kind, each declared once as a
// LockAlgorithm (name, doc, how one lock of it is made). Adding one: implement Spinlock against
// cpu::GuestCpu, then add a row to builtin_lock_algorithms (docs/locks.md; mcs_lock.cpp is the
// example). A C plugin (plugin/, docs/c-guest-code.md) adds its locks to a copy of the registry.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "guest/locks/spinlock.hpp"
#include "sim/config/registry.hpp"

namespace vcpusim::guest {

struct LockAlgorithm {
  std::string name;
  std::string doc;
  std::function<std::unique_ptr<Spinlock>(LockKit& kit, const std::string& lock_name)> make;
};

using LockRegistry = sim::Registry<LockAlgorithm>;

// Fills `locks` with the built-in algorithms, in the order the schema and --help list them.
void add_builtin_lock_algorithms(LockRegistry& locks);
// "the spinlock algorithm of every lock: ticket: ...; mcs: ...": the doc of guest.locks.kind.
std::string lock_algorithms_doc(const LockRegistry& locks);

}  // namespace vcpusim::guest
