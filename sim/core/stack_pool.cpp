#include "sim/core/stack_pool.hpp"

#include <boost/context/protected_fixedsize_stack.hpp>

namespace vcpusim::sim {

StackPool::Stack StackPool::allocate(std::size_t bytes) {
  const boost::context::stack_context s =
      boost::context::protected_fixedsize_stack(bytes).allocate();
  return Stack{s.sp, s.size, bytes};
}

void StackPool::release(Stack stack) {
  boost::context::stack_context s;
  s.sp = stack.sp;
  s.size = stack.size;
  boost::context::protected_fixedsize_stack(stack.asked).deallocate(s);
}

StackPool::~StackPool() {
  for (const Stack& s : free_) release(s);
}

StackPool::Stack StackPool::take(std::size_t bytes) {
  // The most recently given first: its pages are the likeliest still in the cache.
  for (std::size_t i = free_.size(); i-- > 0;) {
    if (free_[i].asked != bytes) continue;
    const Stack s = free_[i];
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
    return s;
  }
  return allocate(bytes);
}

void StackPool::give(Stack stack) {
  free_.push_back(stack);
}

}  // namespace vcpusim::sim
