// The lock algorithms a scenario can name in guest.locks.kind. Adding one: implement Spinlock
// against cpu::GuestCpu, then add a row here (docs/locks.md; mcs_lock.cpp is the example).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "guest/locks/spinlock.hpp"

namespace vcpusim::guest {

struct LockAlgorithm {
  const char* name;
  const char* doc;
  std::unique_ptr<Spinlock> (*make)(LockKit& kit, const std::string& lock_name);
};

// In the order the schema and --help list them.
const std::vector<LockAlgorithm>& lock_algorithms();
std::vector<std::string> lock_algorithm_names();
std::string lock_algorithms_doc();
std::unique_ptr<Spinlock> make_lock(LockKit& kit, const std::string& kind, const std::string& name);

}  // namespace vcpusim::guest
