#include "sim/core/fiber.hpp"

#include "sim/core/asan.hpp"

// The fcontext primitives themselves, not boost::context::fiber: that class switches stacks
// inside its constructor and on exit where no AddressSanitizer annotation can go, and its ucontext
// flavour (which annotates) needs a library Debian does not build. Here every switch is ours.
#include <boost/context/detail/fcontext.hpp>

#if defined(VCPUSIM_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define VCPUSIM_ASAN_UNPOISON(bottom, size) ASAN_UNPOISON_MEMORY_REGION(bottom, size)
#define VCPUSIM_ASAN_START(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define VCPUSIM_ASAN_FINISH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define VCPUSIM_ASAN_UNPOISON(bottom, size) ((void)(bottom), (void)(size))
#define VCPUSIM_ASAN_START(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define VCPUSIM_ASAN_FINISH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

namespace vcpusim::sim {

struct FiberEntry {
  static void start(boost::context::detail::transfer_t t) noexcept {
    static_cast<Fiber*>(t.data)->run(t.fctx);
  }
};

// Stacks are allocated a page-aligned megabyte apart, so without a shift the hot top frames of
// every fiber would fall into the same few cache sets and evict each other (a run of a thousand
// vCPUs switches between them at every event). The shift spreads them over 64 lines x 4 pages,
// and never takes more than a quarter of a small stack.
static std::size_t stack_shift(std::size_t color, std::size_t stack_size) {
  const std::size_t shift = (color % 64) * 64 + (color / 64 % 4) * 4096;
  return shift % (stack_size / 4) / 64 * 64;
}

Fiber::Fiber(std::function<void()> body, std::size_t stack_bytes, std::size_t color,
             StackPool* pool)
    : pool_(pool), body_(std::move(body)) {
  // A guard page below the stack: an overflow faults instead of corrupting a neighbour. Pages
  // are committed only when touched, so a thousand fibers cost address space, not memory.
  stack_ = pool ? pool->take(stack_bytes) : StackPool::allocate(stack_bytes);
  // The kernel or the pool may hand back the pages of a finished fiber, whose last frames never
  // returned: their redzones would still be poisoned in ASan's shadow.
  VCPUSIM_ASAN_UNPOISON(static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
  const std::size_t shift = stack_shift(color, stack_.size);
  stack_top_ = static_cast<const char*>(stack_.sp) - shift;
  self_ = boost::context::detail::make_fcontext(static_cast<char*>(stack_.sp) - shift,
                                                stack_.size - shift, &FiberEntry::start);
}

Fiber::~Fiber() {
  // A fiber that started and did not finish still has frames on its stack: the kernel unwinds
  // every body before it lets go of its fibers, so only never-started or finished ones get here.
  VCPUSIM_ASAN_UNPOISON(static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
  if (pool_)
    pool_->give(stack_);
  else
    StackPool::release(stack_);
}

void Fiber::resume() {
  void* fake = nullptr;
  VCPUSIM_ASAN_START(&fake, static_cast<char*>(stack_.sp) - stack_.size, stack_.size);
  const boost::context::detail::transfer_t back =
      boost::context::detail::jump_fcontext(self_, this);
  VCPUSIM_ASAN_FINISH(fake, nullptr, nullptr);
  self_ = back.fctx;
}

void Fiber::suspend() {
  switch_to_caller(false);
}

void Fiber::switch_to_caller(bool dying) {
  // A dying fiber passes no fake-stack slot: ASan then frees its fake stack.
  VCPUSIM_ASAN_START(dying ? nullptr : &fake_stack_, caller_bottom_, caller_size_);
  const boost::context::detail::transfer_t back =
      boost::context::detail::jump_fcontext(caller_, nullptr);
  VCPUSIM_ASAN_FINISH(fake_stack_, &caller_bottom_, &caller_size_);
  caller_ = back.fctx;
}

// The first code on the fiber's stack.
void Fiber::run(void* caller) {
  caller_ = caller;
  VCPUSIM_ASAN_FINISH(nullptr, &caller_bottom_, &caller_size_);
  body_();
  finished_ = true;
  switch_to_caller(true);  // never resumed again
}

}  // namespace vcpusim::sim
