// A stackful coroutine switched by hand, for the kernel's guest coroutines: the driver resume()s
// it, the code running on it suspend()s back. A switch is a register swap (Boost.Context's
// fcontext), with AddressSanitizer told of every stack change when it is on.
#pragma once
#include <cstddef>
#include <functional>

#include "sim/core/stack_pool.hpp"

namespace vcpusim::sim {

class Fiber {
 public:
  // `body` runs on the fiber's own stack from the first resume(); it must not throw. `color`
  // (any number, e.g. the fiber's index) shifts where the stack's first frames lie in the cache.
  // With `pool` the stack comes from it and goes back to it; the pool must outlive the fiber.
  Fiber(std::function<void()> body, std::size_t stack_bytes, std::size_t color = 0,
        StackPool* pool = nullptr);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Driver side: runs the fiber until it suspends or its body returns. Not once it finished.
  void resume();
  // Fiber side: gives control back to the resume() that ran it.
  void suspend();
  bool finished() const { return finished_; }
  // Where the fiber's frames can be: [stack_low(), stack_high()), the first frame at the top.
  const char* stack_low() const { return static_cast<const char*>(stack_.sp) - stack_.size; }
  const char* stack_high() const { return stack_top_; }

 private:
  friend struct FiberEntry;  // the function the fiber's stack starts in (fiber.cpp)
  void run(void* caller);
  void switch_to_caller(bool dying);

  // What a switch touches comes first (the kernel keeps a fiber in one cacheline with its own
  // per-coroutine counters).
  void* self_ = nullptr;    // where resume() continues the fiber
  void* caller_ = nullptr;  // where suspend() returns to
  bool finished_ = false;
  // AddressSanitizer's bookkeeping: the fake stacks of each side and the caller's stack bounds.
  void* fake_stack_ = nullptr;
  const void* caller_bottom_ = nullptr;
  std::size_t caller_size_ = 0;
  StackPool::Stack stack_;  // as allocated: its top, and its size with the guard page
  StackPool* pool_ = nullptr;
  const char* stack_top_ = nullptr;  // where the first frame starts (below the color shift)
  std::function<void()> body_;
};

}  // namespace vcpusim::sim
