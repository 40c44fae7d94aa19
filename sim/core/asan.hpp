// Whether this build runs under AddressSanitizer: gcc says so with __SANITIZE_ADDRESS__, clang
// (14, the fuzz and sanitizer builds) only through __has_feature. The stack-switch annotations
// (sim/core/fiber.cpp, sim/core/kernel.cpp) must be there under either, or ASan reports a
// coroutine's frames as overflows of the thread's stack.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define VCPUSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VCPUSIM_ASAN 1
#endif
#endif
