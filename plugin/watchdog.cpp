#include "plugin/watchdog.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <thread>

#include "plugin/host_api.hpp"

namespace vcpusim::plugin::watchdog {

namespace {

// What plugin code does on one thread. Constant-initialised and made of lock-free atomics, so
// that a signal handler on this thread and the monitor thread may read it.
struct ThreadState {
  std::atomic<int> inside;  // 1: plugin code runs on this thread now
  std::atomic<std::uint64_t> transitions;
  std::atomic<int> vcpu;             // -1: on no vCPU, in `outside`
  std::atomic<const char*> outside;  // what runs on no vCPU (vcpusim_plugin_init, a lock's init)
  std::atomic<std::int64_t> now;     // simulated time at the last transition (ps)
  std::atomic<const char*> last_op;  // nullptr: none since vcpusim called in
  std::atomic<std::int64_t> last_op_at;
  cpu::GuestCpu* cpu;  // this thread's only
  bool registered;
  void* alt_stack;  // the alternate signal stack installed here, if any
};
thread_local ThreadState state{};

constexpr int kMaxThreads = 64;  // threads running plugin code at once (beyond: not watched)
std::atomic<ThreadState*> threads[kMaxThreads];
std::atomic<std::int64_t> budget_ms{10000};
std::atomic<bool> monitor_running{false};
std::atomic<bool> armed{false};
char plugin_names[512];  // "a.so, b.so": written before any plugin code runs
constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction previous[NSIG];
constexpr std::size_t kAltStackBytes = 256 * 1024;  // roomy: a sanitizer's handler may run here

// A message built without allocating (async-signal-safe).
class Message {
 public:
  Message& operator<<(const char* s) {
    while (s && *s && n_ < sizeof buf_ - 1) buf_[n_++] = *s++;
    return *this;
  }
  Message& number(std::uint64_t v) {
    char d[24];
    int k = 0;
    do d[k++] = static_cast<char>('0' + v % 10);
    while ((v /= 10) != 0);
    while (k > 0 && n_ < sizeof buf_ - 1) buf_[n_++] = d[--k];
    return *this;
  }
  // A simulated time as vcpusim prints one: "1.234567ms", "12.5us", "800ns".
  Message& time(std::int64_t ps) {
    const std::uint64_t ns = ps > 0 ? static_cast<std::uint64_t>(ps) / 1000 : 0;
    const char* unit = ns >= 1000000 ? "ms" : ns >= 1000 ? "us" : "ns";
    const std::uint64_t scale = ns >= 1000000 ? 1000000 : ns >= 1000 ? 1000 : 1;
    number(ns / scale);
    std::uint64_t frac = ns % scale;
    if (frac != 0) {
      char d[8];
      int k = 0;
      for (std::uint64_t s = scale / 10; s > 0; s /= 10)
        d[k++] = static_cast<char>('0' + frac / s % 10);
      while (k > 0 && d[k - 1] == '0') --k;
      *this << ".";
      for (int i = 0; i < k && n_ < sizeof buf_ - 1; ++i) buf_[n_++] = d[i];
    }
    return *this << unit;
  }
  [[noreturn]] void exit() {
    buf_[n_++] = '\n';
    for (std::size_t done = 0; done < n_;) {
      const ssize_t k = ::write(2, buf_ + done, n_ - done);
      if (k <= 0) break;
      done += static_cast<std::size_t>(k);
    }
    ::_exit(kExitPluginFault);
  }

 private:
  char buf_[1024];
  std::size_t n_ = 0;
};

// "on vCPU 1 at simulated time 3.2us; its last guest operation: load at 3.1us"
void where(Message& m, const ThreadState& s) {
  const int vcpu = s.vcpu.load(std::memory_order_relaxed);
  if (vcpu < 0) {
    m << "in " << s.outside.load(std::memory_order_relaxed) << " (on no vCPU, before the run)";
    return;
  }
  m << "on vCPU ";
  m.number(static_cast<std::uint64_t>(vcpu)) << " at simulated time ";
  m.time(s.now.load(std::memory_order_relaxed)) << "; its last guest operation: ";
  const char* op = s.last_op.load(std::memory_order_relaxed);
  if (op) {
    m << op << " at ";
    m.time(s.last_op_at.load(std::memory_order_relaxed));
  } else {
    m << "none since vcpusim called it";
  }
}

void head(Message& m) {
  m << "vcpusim: C plugin code (" << plugin_names << ") ";
}

bool near_stack_pointer(const siginfo_t* info, const void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
  std::uintptr_t sp = 0;
#if defined(__x86_64__)
  sp = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  sp = static_cast<std::uintptr_t>(uc->uc_mcontext.sp);
#else
  (void)uc;
#endif
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  constexpr std::uintptr_t kReach = 64 * 1024;
  return sp != 0 && addr + kReach >= sp && addr <= sp + kReach;
}

const char* describe(int sig, const siginfo_t* info, const void* context) {
  switch (sig) {
    case SIGSEGV:
      return near_stack_pointer(info, context)
                 ? "overflowed its stack (SIGSEGV at the vCPU's fiber stack guard; "
                   "large locals or deep recursion)"
                 : "crashed: SIGSEGV (an invalid memory access)";
    case SIGBUS:
      return "crashed: SIGBUS (a bad memory access)";
    case SIGFPE:
      return "crashed: SIGFPE (an arithmetic fault, such as a division by zero)";
    case SIGILL:
      return "crashed: SIGILL (an illegal instruction, or __builtin_trap)";
    case SIGABRT:
      return "aborted (SIGABRT: abort() or a failed assert())";
    default:
      return "crashed";
  }
}

void on_fatal_signal(int sig, siginfo_t* info, void* context) {
  if (state.inside.load(std::memory_order_relaxed) == 1) {
    Message m;
    head(m);
    m << describe(sig, info, context) << " ";
    where(m, state);
    m.exit();
  }
  // Not plugin code: the signal is the handler's before us, unchanged.
  const struct sigaction& old = previous[sig];
  if (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) {
    sigaction(sig, &old, nullptr);
    if (info->si_code <= 0) raise(sig);  // sent (abort, kill): send it again
    return;  // a fault: the instruction runs again and faults into the old action
  }
  if (old.sa_flags & SA_SIGINFO)
    old.sa_sigaction(sig, info, context);
  else
    old.sa_handler(sig);
}

void monitor() {
  using Clock = std::chrono::steady_clock;
  std::uint64_t seen[kMaxThreads] = {};
  Clock::time_point since[kMaxThreads];
  bool stale[kMaxThreads] = {};
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = Clock::now();
    for (int i = 0; i < kMaxThreads; ++i) {
      const ThreadState* s = threads[i].load(std::memory_order_acquire);
      const std::uint64_t t = s ? s->transitions.load(std::memory_order_relaxed) : 0;
      if (!s || s->inside.load(std::memory_order_relaxed) != 1 || !stale[i] || t != seen[i]) {
        seen[i] = t;
        since[i] = now;
        stale[i] = s != nullptr;
        continue;
      }
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - since[i]).count();
      if (ms < budget_ms.load(std::memory_order_relaxed)) continue;
      Message m;
      head(m);
      // The budget, not the time measured: the same message every time.
      m << "ran for more than ";
      m.number(static_cast<std::uint64_t>(budget_ms.load(std::memory_order_relaxed)))
          << " ms of host time without a guest operation (an endless loop? --plugin-watchdog) ";
      where(m, *s);
      m.exit();
    }
  }
}

void start_monitor() {
  bool expected = false;
  if (!monitor_running.compare_exchange_strong(expected, true)) return;
  // The monitor takes no signal of the process (Ctrl-C stays the simulation thread's).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  std::thread(monitor).detach();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// A thread leaving: its state is no longer watched.
struct Unregister {
  ~Unregister() {
    for (auto& slot : threads) {
      ThreadState* mine = &state;
      slot.compare_exchange_strong(mine, nullptr);
    }
    if (state.alt_stack) {
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
      munmap(state.alt_stack, kAltStackBytes);
    }
  }
};

void register_thread() {
  static thread_local Unregister at_exit;
  (void)at_exit;
  state.registered = true;
  for (auto& slot : threads) {
    ThreadState* empty = nullptr;
    if (slot.compare_exchange_strong(empty, &state)) break;
  }
  // A stack overflow leaves no stack for the handler: give it one, unless the thread has one
  // (a sanitizer's).
  stack_t cur{};
  if (sigaltstack(nullptr, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
    void* p =
        mmap(nullptr, kAltStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      stack_t alt{};
      alt.ss_sp = p;
      alt.ss_size = kAltStackBytes;
      if (sigaltstack(&alt, nullptr) == 0)
        state.alt_stack = p;
      else
        munmap(p, kAltStackBytes);
    }
  }
}

void after_fork_in_child() {
  monitor_running.store(false);  // threads do not survive fork: the next entry starts one
}

// A guest operation of the host table, seen by the watchdog: the plugin is out of its own code
// while the operation runs (other vCPUs' fibers may run meanwhile) and back in on return.
template <class F>
struct Guard;
template <class R, class... A>
struct Guard<R (*)(A...)> {
  template <R (*vcpusim_host_api::*Entry)(A...), const char* Name>
  static R call(A... a) {
    Operation op(Name);
    return (host_api().*Entry)(a...);
  }
};

// Every entry of the table, guarded or passed through: a new entry must be placed in one list
// (the static_assert below counts them). Guard every entry that may block, take simulated time
// or switch fibers; pass through only what returns at once.
#define VCPUSIM_GUARDED(X)                                                                   \
  X(load)                                                                                    \
  X(store)                                                                                   \
  X(cmpxchg) X(xchg) X(fetch_add) X(cpu_relax) X(smp_mb) X(compute_ns) X(pv_wait) X(pv_kick) \
      X(irq_save) X(irq_restore) X(rdtsc)
// (An entry passed through may still land an instrumented store first, which can take
// interrupts: host_api.cpp makes that landing an Operation of its own.)
#define VCPUSIM_PASSED(X)                                                                        \
  X(smp_processor_id) X(nr_cpu_ids) X(report) X(register_lock) X(irqs_disabled)                 \
      X(register_workload) X(register_metric) X(metric_add) X(per_cpu_ptr) X(preempt_disable)    \
          X(preempt_enable) X(preempt_count) X(alloc) X(free) X(trace_note) X(trace_span_begin) \
              X(trace_span_end) X(might_sleep) X(tsc_hz)

#define VCPUSIM_NAME(field) constexpr char kName_##field[] = #field;
VCPUSIM_GUARDED(VCPUSIM_NAME)
#undef VCPUSIM_NAME

#define VCPUSIM_COUNT(field) +1
static_assert(sizeof(vcpusim_host_api) ==
                  sizeof(void*) * (0 VCPUSIM_GUARDED(VCPUSIM_COUNT) VCPUSIM_PASSED(VCPUSIM_COUNT)) +
                      sizeof(void*) /* abi_version, padded */,
              "a new host API entry: list it in VCPUSIM_GUARDED or VCPUSIM_PASSED");
#undef VCPUSIM_COUNT

vcpusim_host_api make_guarded() {
  vcpusim_host_api t = host_api();
#define VCPUSIM_WRAP(field) \
  t.field = &Guard<decltype(t.field)>::template call<&vcpusim_host_api::field, kName_##field>;
  VCPUSIM_GUARDED(VCPUSIM_WRAP)
#undef VCPUSIM_WRAP
  return t;
}

}  // namespace

void arm(const char* plugin_name) {
  const std::size_t used = std::strlen(plugin_names);
  if (used + 2 + std::strlen(plugin_name) < sizeof plugin_names) {
    if (used > 0) std::strcat(plugin_names, ", ");
    std::strcat(plugin_names, plugin_name);
  }
  bool expected = false;
  if (!armed.compare_exchange_strong(expected, true)) return;
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int sig : kSignals) sigaction(sig, &action, &previous[sig]);
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
}

void set_budget(std::chrono::milliseconds budget) {
  budget_ms.store(budget.count());
}

const vcpusim_host_api& guarded_api() {
  static const vcpusim_host_api table = make_guarded();
  return table;
}

Operation::Operation(const char* name) : cpu_(state.cpu) {
  const std::int64_t now = cpu_ ? cpu_->now() : 0;
  state.last_op.store(name, std::memory_order_relaxed);
  state.last_op_at.store(now, std::memory_order_relaxed);
  state.now.store(now, std::memory_order_relaxed);
  state.inside.store(0, std::memory_order_relaxed);
  state.transitions.fetch_add(1, std::memory_order_relaxed);
}

Operation::~Operation() {
  state.cpu = cpu_;  // the fiber that resumes here is the one that called
  if (cpu_) state.vcpu.store(cpu_->id(), std::memory_order_relaxed);
  if (cpu_ && std::uncaught_exceptions() == 0)
    state.now.store(cpu_->now(), std::memory_order_relaxed);
  state.inside.store(1, std::memory_order_relaxed);
  state.transitions.fetch_add(1, std::memory_order_relaxed);
  // explore forks inside guest operations: the child's monitor starts here.
  if (!monitor_running.load(std::memory_order_relaxed)) start_monitor();
}

void enter(cpu::GuestCpu* cpu, const char* outside) {
  if (!state.registered) register_thread();
  state.outside.store(outside, std::memory_order_relaxed);
  if (!monitor_running.load(std::memory_order_relaxed)) start_monitor();
  state.cpu = cpu;
  state.vcpu.store(cpu ? cpu->id() : -1, std::memory_order_relaxed);
  state.now.store(cpu ? cpu->now() : 0, std::memory_order_relaxed);
  state.last_op.store(nullptr, std::memory_order_relaxed);
  state.inside.store(1, std::memory_order_relaxed);
  state.transitions.fetch_add(1, std::memory_order_relaxed);
}

void leave() {
  state.inside.store(0, std::memory_order_relaxed);
  state.transitions.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace vcpusim::plugin::watchdog
