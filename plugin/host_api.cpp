#include "plugin/host_api.hpp"

#include <algorithm>
#include <exception>

#include "cpu/machine.hpp"
#include "guest/trace_kinds.hpp"
#include "plugin/plugin_run.hpp"
#include "plugin/watchdog.hpp"
#include "sim/error.hpp"

namespace vcpusim::plugin {

namespace {
thread_local cpu::GuestCpu* current = nullptr;
thread_local Registrar* registrar = nullptr;

// Lands the plain store an instrumented access left pending (cpu::GuestCpu::land_plain). That
// takes the operation boundary, where interrupts may run other fibers: a guest operation to the
// watchdog, after which `cpu` is current again.
void land(cpu::GuestCpu& cpu) {
  if (!cpu.plain_pending()) return;
  {
    watchdog::Operation op("instrumented store");
    cpu.land_plain();
  }
  current = &cpu;
}

// The vCPU running plugin code; an internal error when the plugin calls in from elsewhere
// (a constructor, a thread of its own).
cpu::GuestCpu& cpu_now() {
  if (!current)
    throw sim::ConfigError(
        "plugin: a guest operation outside a vCPU (only lock, unlock, a workload's run and what "
        "they call may use the guest API; init may only write its object with plain stores)");
  land(*current);  // an instrumented store before this call lands first
  current->forget_plain_loop();
  return *current;
}

// Calls `f` on the current vCPU and puts that vCPU back as current on return (the call may
// have switched fibers).
template <class F>
auto on_cpu(F f) {
  cpu::GuestCpu& cpu = cpu_now();
  struct Back {
    cpu::GuestCpu& cpu;
    ~Back() { current = &cpu; }
  } back{cpu};
  return f(cpu);
}

void* mut(const volatile void* p) {
  return const_cast<void*>(const_cast<const void*>(p));
}

std::uint64_t api_load(const volatile void* p, int size) {
  return on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "load");
    return c.load_at(mut(p), size);
  });
}
void api_store(volatile void* p, int size, std::uint64_t v) {
  on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "store");
    c.store_at(mut(p), size, v);
    return 0;
  });
}
std::uint64_t api_cmpxchg(volatile void* p, int size, std::uint64_t expected,
                          std::uint64_t desired) {
  return on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "cmpxchg");
    return c.cmpxchg_at(mut(p), size, expected, desired);
  });
}
std::uint64_t api_xchg(volatile void* p, int size, std::uint64_t v) {
  return on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "xchg");
    return c.xchg_at(mut(p), size, v);
  });
}
std::uint64_t api_fetch_add(volatile void* p, int size, std::uint64_t delta) {
  return on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "fetch_add");
    return c.fetch_add_at(mut(p), size, delta);
  });
}
void api_cpu_relax() {
  on_cpu([](cpu::GuestCpu& c) {
    c.cpu_relax();
    return 0;
  });
}
void api_smp_mb() {
  on_cpu([](cpu::GuestCpu& c) {
    c.smp_mb();
    return 0;
  });
}
void api_compute_ns(std::uint64_t ns) {
  on_cpu([&](cpu::GuestCpu& c) {
    constexpr std::uint64_t kMaxNs = 1000ULL * 1000 * 1000 * 1000;  // 1000 s: no overflow
    if (ns > kMaxNs)
      throw sim::ConfigError("plugin: a computation of " + std::to_string(ns) + " ns on vCPU " +
                             std::to_string(c.id()) + "; allowed: at most 1000 s");
    // Floored as every guest operation's cost is.
    c.compute(std::max<sim::Tick>(static_cast<sim::Tick>(ns) * sim::kNanosecond,
                                  cpu::kMinOperationCost));
    return 0;
  });
}
int api_smp_processor_id() {
  return cpu_now().id();
}
int api_nr_cpu_ids() {
  return cpu_now().machine().vcpu_count();
}
void api_pv_wait(const volatile void* p, int size, std::uint64_t val) {
  on_cpu([&](cpu::GuestCpu& c) {
    PluginRun::of(c).check_access(c, mut(p), size, "pv_wait");
    c.pv_wait_at(mut(p), size, val);
    return 0;
  });
}
void api_pv_kick(int target) {
  on_cpu([&](cpu::GuestCpu& c) {
    if (target < 0 || target >= c.machine().vcpu_count())
      throw sim::ConfigError("plugin: pv_kick of vCPU " + std::to_string(target) + " on vCPU " +
                             std::to_string(c.id()) + ": the VM has vCPUs 0 to " +
                             std::to_string(c.machine().vcpu_count() - 1));
    c.pv_kick(target);
    return 0;
  });
}
void api_report(const char* file, int line, const char* message) {
  cpu::GuestCpu& c = cpu_now();
  sim::Violation v;
  v.check = kAssertCheck;
  v.time = c.now();
  v.cpus = {c.id()};
  v.message = std::string(message ? message : "(no message)") + " at " + (file ? file : "?") +
              ":" + std::to_string(line) + " on vCPU " + std::to_string(c.id());
  c.violations().report(std::move(v));
}
int api_register_lock(const vcpusim_lock_ops* ops) {
  if (!registrar || !ops) return -1;
  return registrar->add_lock(*ops) ? 0 : -1;
}

unsigned long api_irq_save() {
  return cpu_now().local_irq_save() ? 1 : 0;
}
void api_irq_restore(unsigned long flags) {
  on_cpu([&](cpu::GuestCpu& c) {
    c.local_irq_restore(flags != 0);  // enabling takes pending interrupts: may switch fibers
    return 0;
  });
}
int api_irqs_disabled() {
  return cpu_now().irqs_disabled() ? 1 : 0;
}

int api_register_workload(const vcpusim_workload_ops* ops) {
  if (!registrar || !ops) return -1;
  return registrar->add_workload(*ops) ? 0 : -1;
}
int api_register_metric(const vcpusim_metric* metric) {
  if (!registrar || !metric) return -1;
  return registrar->add_metric(*metric) ? 0 : -1;
}
void api_metric_add(const vcpusim_metric* metric, std::int64_t delta) {
  cpu::GuestCpu& c = cpu_now();
  PluginRun::of(c).metric_add(metric, delta);
}
void* api_per_cpu_ptr(const void* start, const void* stop, const void* var, int target) {
  cpu::GuestCpu& c = cpu_now();
  return PluginRun::of(c).per_cpu_ptr(c, start, stop, var, target);
}
void api_preempt_disable() {
  cpu::GuestCpu& c = cpu_now();
  ++PluginRun::of(c).preempt_count(c.id());
}
void api_preempt_enable() {
  cpu::GuestCpu& c = cpu_now();
  PluginRun& run = PluginRun::of(c);
  int& count = run.preempt_count(c.id());
  if (count == 0) {
    run.report(c, kPreemptCheck,
               "preempt_enable on vCPU " + std::to_string(c.id()) +
                   " with preemption already enabled (preempt_count 0): an enable without its "
                   "disable");
    return;
  }
  --count;
}
int api_preempt_count() {
  cpu::GuestCpu& c = cpu_now();
  return PluginRun::of(c).preempt_count(c.id());
}
void* api_alloc(std::size_t size) {
  return PluginRun::of(cpu_now()).alloc(size);
}
void api_free(const void* object, const char* file, int line) {
  cpu::GuestCpu& c = cpu_now();
  PluginRun::of(c).free(c, object, file, line);
}
void api_trace_note(const char* text) {
  cpu::GuestCpu& c = cpu_now();
  c.trace(guest::trace_kind::kCodeNote, PluginRun::of(c).label(text));
}
void api_trace_span_begin(const char* name) {
  cpu::GuestCpu& c = cpu_now();
  c.trace(guest::trace_kind::kCodeSpanBegin, PluginRun::of(c).label(name));
}
void api_trace_span_end(const char* name) {
  cpu::GuestCpu& c = cpu_now();
  c.trace(guest::trace_kind::kCodeSpanEnd, PluginRun::of(c).label(name));
}
void api_might_sleep(const char* file, int line) {
  cpu::GuestCpu& c = cpu_now();
  PluginRun& run = PluginRun::of(c);
  const int count = run.preempt_count(c.id());
  if (count == 0 && !c.irqs_disabled()) return;
  run.report(c, kPreemptCheck,
             std::string("might_sleep at ") + (file ? file : "?") + ":" + std::to_string(line) +
                 " on vCPU " + std::to_string(c.id()) + " with " +
                 (count > 0 ? "preemption disabled (preempt_count " + std::to_string(count) + ")"
                            : std::string("interrupts disabled")) +
                 ": a sleeping function called from atomic context");
}
std::uint64_t api_rdtsc() {
  return on_cpu([](cpu::GuestCpu& c) { return c.rdtsc(); });
}
std::int64_t api_tsc_hz() {
  return cpu_now().machine().tsc_frequency();
}

const vcpusim_host_api kTable = {
    VCPUSIM_GUEST_ABI_VERSION,
    api_load,
    api_store,
    api_cmpxchg,
    api_xchg,
    api_fetch_add,
    api_cpu_relax,
    api_smp_mb,
    api_compute_ns,
    api_smp_processor_id,
    api_nr_cpu_ids,
    api_pv_wait,
    api_pv_kick,
    api_report,
    api_register_lock,
    api_irq_save,
    api_irq_restore,
    api_irqs_disabled,
    api_register_workload,
    api_register_metric,
    api_metric_add,
    api_per_cpu_ptr,
    api_preempt_disable,
    api_preempt_enable,
    api_preempt_count,
    api_alloc,
    api_free,
    api_trace_note,
    api_trace_span_begin,
    api_trace_span_end,
    api_might_sleep,
    api_rdtsc,
    api_tsc_hz,
};
}  // namespace

cpu::GuestCpu* running_cpu() {
  if (current) land(*current);
  return current;
}

void resume_on(cpu::GuestCpu& cpu) {
  current = &cpu;
}

const vcpusim_host_api& host_api() {
  return kTable;
}

CurrentCpu::CurrentCpu(cpu::GuestCpu& cpu) {
  current = &cpu;
  cpu.forget_reads();
  watchdog::enter(&cpu);
}

CurrentCpu::~CurrentCpu() noexcept(false) {
  watchdog::leave();
  // Plugin code returns to vcpusim: its last plain store lands (not while a run's end unwinds
  // the fiber, when no operation may run).
  cpu::GuestCpu* cpu = current;
  current = nullptr;
  if (cpu && std::uncaught_exceptions() == 0) cpu->land_plain();
}

Registering::Registering(Registrar& r) : outer_(registrar) {
  registrar = &r;
}

Registering::~Registering() {
  registrar = outer_;
}

}  // namespace vcpusim::plugin
