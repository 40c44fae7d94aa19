// Fiber stacks kept from one run to the next. Mapping a megabyte with a guard page, faulting its
// first pages in and unmapping it again cost more than a whole short run: explore runs thousands
// of 100 us runs in one process, and those system calls and faults were a third of its time. A
// pool hands back a stack as it was left, mapped, guarded and touched. One owner, one thread.
#pragma once
#include <cstddef>
#include <vector>

namespace vcpusim::sim {

class StackPool {
 public:
  // A stack as Boost.Context gives it: `sp` is its top, `size` counts the guard page below.
  struct Stack {
    void* sp = nullptr;
    std::size_t size = 0;
    std::size_t asked = 0;  // the size it was allocated for
  };

  StackPool() = default;
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // A kept stack allocated for `bytes`, else a fresh one (with a guard page below it).
  Stack take(std::size_t bytes);
  // Keeps `stack` for a later take(). Its contents are left as they are.
  void give(Stack stack);
  std::size_t kept() const { return free_.size(); }

  // Without a pool: allocated at take and unmapped at give, as if none were kept.
  static Stack allocate(std::size_t bytes);
  static void release(Stack stack);

 private:
  std::vector<Stack> free_;
};

}  // namespace vcpusim::sim
