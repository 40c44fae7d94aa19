// The ThreadSanitizer entry points, defined by vcpusim itself (as the kernel's KCSAN provides its
// own runtime for the same compiler hooks): a plugin compiled with -fsanitize=thread and linked
// without libtsan (`vcpusim cc --instrument`, docs/c-guest-code.md "Instrumented mode") calls
// these for every plain, volatile and atomic access it makes, and each becomes a guest access
// of the vCPU running it. The executables export them (CMakeLists.txt: --export-dynamic-symbol)
// so that dlopen binds the plugin's undefined __tsan_* symbols here.
//
// Outside a vCPU (vcpusim_plugin_init, a lock's init) and on bytes in no guest region (the
// fiber's own stack, host memory) the accesses stay native and cost nothing.
#include <cstdint>
#include <cstring>
#include <string>

#include "cpu/machine.hpp"
#include "plugin/host_api.hpp"
#include "plugin/watchdog.hpp"
#include "sim/error.hpp"

namespace vcpusim::plugin {
namespace {

// The memory orders of the __tsan_atomic* calls (the compiler passes the C11 order).
constexpr int kSeqCst = 5;

// The plugin's own pointer to the host API table (vcpusim_api in <vcpusim/guest.h>), which every
// API call reads: a plain load of it is the plugin finding vcpusim, not guest code touching
// shared memory, so it stays local as it does in a build without instrumentation. It is known by
// its value, the table's address, which nothing else holds.
bool reads_api_pointer(const void* p, std::size_t size, bool write) {
  if (write || size != sizeof(void*) ||
      reinterpret_cast<std::uintptr_t>(p) % alignof(const void*) != 0)
    return false;
  const void* value = nullptr;
  std::memcpy(&value, p, sizeof value);
  return value == &watchdog::guarded_api() || value == &host_api();
}

void plain(const void* p, std::size_t size, bool write, bool marked, const void* pc,
           const std::uint64_t* frame = nullptr) {
  cpu::GuestCpu* cpu = running_cpu();
  if (!cpu || reads_api_pointer(p, size, write)) return;
  {
    watchdog::Operation op(write ? "instrumented store" : "instrumented load");
    cpu->plain_access(p, size, write, marked, pc, frame);
  }
  resume_on(*cpu);
}

// The vCPU when `p` is guest memory and a vCPU runs; null: the atomic stays native.
cpu::GuestCpu* guest_atomic(const volatile void* p) {
  cpu::GuestCpu* cpu = running_cpu();
  std::uintptr_t end = 0;
  if (!cpu || !cpu->machine().memory().line_of(const_cast<const void*>(p), end)) return nullptr;
  return cpu;
}

void* mut(const volatile void* p) {
  return const_cast<void*>(const_cast<const void*>(p));
}

[[noreturn]] void no_128_bit_atomics() {
  throw sim::ConfigError(
      "plugin: a 16-byte atomic on guest memory; allowed: atomics of 1, 2, 4 or 8 bytes");
}

template <class T>
T load(const volatile T* a) {
  if (cpu::GuestCpu* cpu = guest_atomic(a)) {
    watchdog::Operation op("atomic load");
    const T v = static_cast<T>(cpu->load_at(mut(a), sizeof(T)));
    resume_on(*cpu);
    return v;
  }
  return __atomic_load_n(a, __ATOMIC_SEQ_CST);
}

template <class T>
void store(volatile T* a, T v) {
  if (cpu::GuestCpu* cpu = guest_atomic(a)) {
    watchdog::Operation op("atomic store");
    cpu->store_at(mut(a), sizeof(T), static_cast<std::uint64_t>(v));
    resume_on(*cpu);
    return;
  }
  __atomic_store_n(a, v, __ATOMIC_SEQ_CST);
}

template <class T, class F>
T rmw(volatile T* a, F f, const char* what) {
  if (cpu::GuestCpu* cpu = guest_atomic(a)) {
    watchdog::Operation op("atomic read-modify-write");
    const T old = static_cast<T>(cpu->rmw_at(
        mut(a), sizeof(T),
        [&f](std::uint64_t o) { return static_cast<std::uint64_t>(f(static_cast<T>(o))); }, what));
    resume_on(*cpu);
    return old;
  }
  T old = __atomic_load_n(a, __ATOMIC_SEQ_CST);
  while (!__atomic_compare_exchange_n(a, &old, f(old), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}

template <class T>
T cas_val(volatile T* a, T expected, T desired) {
  if (cpu::GuestCpu* cpu = guest_atomic(a)) {
    const T old =
        static_cast<T>(cpu->cmpxchg_at(mut(a), sizeof(T), static_cast<std::uint64_t>(expected),
                                       static_cast<std::uint64_t>(desired)));
    resume_on(*cpu);
    return old;
  }
  __atomic_compare_exchange_n(a, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

template <class T>
int cas(volatile T* a, T* expected, T desired) {
  const T old = cas_val(a, *expected, desired);
  if (old == *expected) return 1;
  *expected = old;
  return 0;
}

void fence(int mo) {
  if (mo != kSeqCst) return;  // x86: only a seq_cst fence is an instruction (mfence)
  if (cpu::GuestCpu* cpu = running_cpu()) {
    watchdog::Operation op("smp_mb");
    cpu->smp_mb();
    resume_on(*cpu);
  }
}

}  // namespace
}  // namespace vcpusim::plugin

using vcpusim::plugin::plain;
#define VCPUSIM_PC __builtin_return_address(0)
#define VCPUSIM_TSAN extern "C" __attribute__((visibility("default"), used))

VCPUSIM_TSAN void __tsan_init() {}
VCPUSIM_TSAN void __tsan_func_entry(void*) {}
VCPUSIM_TSAN void __tsan_func_exit() {}
VCPUSIM_TSAN void __tsan_ignore_thread_begin() {}
VCPUSIM_TSAN void __tsan_ignore_thread_end() {}
VCPUSIM_TSAN void __tsan_vptr_update(void**, void*) {}
VCPUSIM_TSAN void __tsan_vptr_read(void**) {}

// Plain accesses: the instrumented code makes the access itself right after the call.
#define VCPUSIM_TSAN_STORE(N)                                     \
  VCPUSIM_TSAN void __tsan_write##N(void* p) {                    \
    plain(p, N, true, false, VCPUSIM_PC);                         \
  }                                                               \
  VCPUSIM_TSAN void __tsan_unaligned_write##N(void* p) {          \
    plain(p, N, true, false, VCPUSIM_PC);                         \
  }                                                               \
  VCPUSIM_TSAN void __tsan_volatile_write##N(void* p) {           \
    plain(p, N, true, true, VCPUSIM_PC);                          \
  }                                                               \
  VCPUSIM_TSAN void __tsan_unaligned_volatile_write##N(void* p) { \
    plain(p, N, true, true, VCPUSIM_PC);                          \
  }                                                               \
  VCPUSIM_TSAN void __tsan_read##N##_pc(void* p, void* pc) {      \
    plain(p, N, false, false, pc);                                \
  }                                                               \
  VCPUSIM_TSAN void __tsan_write##N##_pc(void* p, void* pc) {     \
    plain(p, N, true, false, pc);                                 \
  }
VCPUSIM_TSAN_STORE(1)
VCPUSIM_TSAN_STORE(2)
VCPUSIM_TSAN_STORE(4)
VCPUSIM_TSAN_STORE(8)
VCPUSIM_TSAN_STORE(16)

#if defined(__x86_64__)
// Loads pass the code's whole state, so that a loop at a fixed point can wait instead of paying
// an event per pass (cpu/vm/ccode/plain_loop.hpp): a trampoline pushes the six callee-saved
// registers below the return address and hands their address over; values in any other register
// are dead across the call. Unwind directives, because the run's end unwinds fibers through here.
extern "C" __attribute__((used, visibility("hidden"))) void vcpusim_tsan_load(
    void* p, unsigned long size, const std::uint64_t* frame, int marked) {
  plain(p, size, false, marked != 0,
        reinterpret_cast<const void*>(frame[vcpusim::cpu::CodeState::kReturnAddress]), frame);
}
#define VCPUSIM_PUSH(reg) \
  " push %" reg "\n .cfi_adjust_cfa_offset 8\n .cfi_rel_offset %" reg ", 0\n"
#define VCPUSIM_POP(reg) " pop %" reg "\n .cfi_adjust_cfa_offset -8\n .cfi_restore %" reg "\n"
#define VCPUSIM_TSAN_LOAD(name, size, marked)                                                 \
  asm(".text\n .globl " name "\n .type " name ", @function\n" name                            \
      ":\n .cfi_startproc\n endbr64\n" VCPUSIM_PUSH("rbx") VCPUSIM_PUSH("rbp")                 \
          VCPUSIM_PUSH("r12") VCPUSIM_PUSH("r13") VCPUSIM_PUSH("r14") VCPUSIM_PUSH("r15")       \
      " mov %rsp, %rdx\n mov $" #size ", %esi\n mov $" #marked                                \
      ", %ecx\n sub $8, %rsp\n .cfi_adjust_cfa_offset 8\n call vcpusim_tsan_load\n"            \
      " add $8, %rsp\n .cfi_adjust_cfa_offset -8\n" VCPUSIM_POP("r15") VCPUSIM_POP("r14")       \
          VCPUSIM_POP("r13") VCPUSIM_POP("r12") VCPUSIM_POP("rbp") VCPUSIM_POP("rbx")           \
      " ret\n .cfi_endproc\n .size " name ", . - " name "\n");
#define VCPUSIM_TSAN_LOADS(N)                                            \
  VCPUSIM_TSAN_LOAD("__tsan_read" #N, N, 0)                              \
  VCPUSIM_TSAN_LOAD("__tsan_unaligned_read" #N, N, 0)                    \
  VCPUSIM_TSAN_LOAD("__tsan_volatile_read" #N, N, 1)                     \
  VCPUSIM_TSAN_LOAD("__tsan_unaligned_volatile_read" #N, N, 1)
#else
// Elsewhere loads are plain calls: correct, but a loop of them pays an event per pass.
#define VCPUSIM_TSAN_LOADS(N)                                    \
  VCPUSIM_TSAN void __tsan_read##N(void* p) {                    \
    plain(p, N, false, false, VCPUSIM_PC);                       \
  }                                                              \
  VCPUSIM_TSAN void __tsan_unaligned_read##N(void* p) {          \
    plain(p, N, false, false, VCPUSIM_PC);                       \
  }                                                              \
  VCPUSIM_TSAN void __tsan_volatile_read##N(void* p) {           \
    plain(p, N, false, true, VCPUSIM_PC);                        \
  }                                                              \
  VCPUSIM_TSAN void __tsan_unaligned_volatile_read##N(void* p) { \
    plain(p, N, false, true, VCPUSIM_PC);                        \
  }
#endif
VCPUSIM_TSAN_LOADS(1)
VCPUSIM_TSAN_LOADS(2)
VCPUSIM_TSAN_LOADS(4)
VCPUSIM_TSAN_LOADS(8)
VCPUSIM_TSAN_LOADS(16)

VCPUSIM_TSAN void __tsan_read_range(void* p, unsigned long size) {
  plain(p, size, false, false, VCPUSIM_PC);
}
VCPUSIM_TSAN void __tsan_write_range(void* p, unsigned long size) {
  plain(p, size, true, false, VCPUSIM_PC);
}
// clang's replacements of memcpy, memmove and memset: the access, then the native operation.
VCPUSIM_TSAN void* __tsan_memcpy(void* d, const void* s, unsigned long n) {
  plain(s, n, false, false, VCPUSIM_PC);
  plain(d, n, true, false, VCPUSIM_PC);
  return std::memcpy(d, s, n);
}
VCPUSIM_TSAN void* __tsan_memmove(void* d, const void* s, unsigned long n) {
  plain(s, n, false, false, VCPUSIM_PC);
  plain(d, n, true, false, VCPUSIM_PC);
  return std::memmove(d, s, n);
}
VCPUSIM_TSAN void* __tsan_memset(void* d, int c, unsigned long n) {
  plain(d, n, true, false, VCPUSIM_PC);
  return std::memset(d, c, n);
}

// Atomics: each is one guest operation of its kind (the memory order does not matter in an SC
// model), or a native atomic on memory that is not the guest's.
#define VCPUSIM_TSAN_ATOMIC(N, T)                                                                 \
  VCPUSIM_TSAN T __tsan_atomic##N##_load(const volatile T* a, int) {                              \
    return vcpusim::plugin::load(a);                                                              \
  }                                                                                               \
  VCPUSIM_TSAN void __tsan_atomic##N##_store(volatile T* a, T v, int) {                           \
    vcpusim::plugin::store(a, v);                                                                 \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_exchange(volatile T* a, T v, int) {                           \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T) { return v; }, "xchg");                                                         \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_add(volatile T* a, T v, int) {                          \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(o + v); }, "fetch_add");                              \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_sub(volatile T* a, T v, int) {                          \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(o - v); }, "fetch_sub");                              \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_and(volatile T* a, T v, int) {                          \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(o & v); }, "fetch_and");                              \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_or(volatile T* a, T v, int) {                           \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(o | v); }, "fetch_or");                               \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_xor(volatile T* a, T v, int) {                          \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(o ^ v); }, "fetch_xor");                              \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_fetch_nand(volatile T* a, T v, int) {                         \
    return vcpusim::plugin::rmw(                                                                  \
        a, [v](T o) { return static_cast<T>(~(o & v)); }, "fetch_nand");                          \
  }                                                                                               \
  VCPUSIM_TSAN int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* e, T v, int,      \
                                                              int) {                              \
    return vcpusim::plugin::cas(a, e, v);                                                         \
  }                                                                                               \
  VCPUSIM_TSAN int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* e, T v, int, int) { \
    return vcpusim::plugin::cas(a, e, v);                                                         \
  }                                                                                               \
  VCPUSIM_TSAN T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T e, T v, int, int) {     \
    return vcpusim::plugin::cas_val(a, e, v);                                                     \
  }
VCPUSIM_TSAN_ATOMIC(8, std::uint8_t)
VCPUSIM_TSAN_ATOMIC(16, std::uint16_t)
VCPUSIM_TSAN_ATOMIC(32, std::uint32_t)
VCPUSIM_TSAN_ATOMIC(64, std::uint64_t)

// 16-byte atomics exist in the ABI; guest memory has none (a clear error, not a missing symbol).
#define VCPUSIM_TSAN_ATOMIC128(name, ...)                  \
  VCPUSIM_TSAN void __tsan_atomic128_##name(__VA_ARGS__) { \
    vcpusim::plugin::no_128_bit_atomics();                 \
  }
VCPUSIM_TSAN_ATOMIC128(load, const volatile void*, int)
VCPUSIM_TSAN_ATOMIC128(store, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(exchange, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_add, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_sub, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_and, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_or, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_xor, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(fetch_nand, volatile void*, unsigned __int128, int)
VCPUSIM_TSAN_ATOMIC128(compare_exchange_strong, volatile void*, void*, unsigned __int128, int, int)
VCPUSIM_TSAN_ATOMIC128(compare_exchange_weak, volatile void*, void*, unsigned __int128, int, int)
VCPUSIM_TSAN_ATOMIC128(compare_exchange_val, volatile void*, unsigned __int128, unsigned __int128,
                       int, int)

VCPUSIM_TSAN void __tsan_atomic_thread_fence(int mo) {
  vcpusim::plugin::fence(mo);
}
VCPUSIM_TSAN void __tsan_atomic_signal_fence(int) {}

#undef VCPUSIM_TSAN_ATOMIC128
#undef VCPUSIM_TSAN_ATOMIC
#undef VCPUSIM_TSAN_LOADS
#if defined(__x86_64__)
#undef VCPUSIM_TSAN_LOAD
#undef VCPUSIM_PUSH
#undef VCPUSIM_POP
#endif
#undef VCPUSIM_TSAN_STORE
#undef VCPUSIM_TSAN
#undef VCPUSIM_PC
