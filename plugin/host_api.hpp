// The function table vcpusim hands a C plugin (include/vcpusim/guest.h): each entry is one
// cpu::GuestCpu operation of the vCPU that runs the plugin's code.
//
// The C ABI passes no CPU: guest code calls READ_ONCE(x), not READ_ONCE(cpu, x). So the vCPU is
// found through one thread_local pointer, set by CurrentCpu while vcpusim runs the plugin's code.
// It stays right across fiber switches because every entry of the table puts back, on return,
// the GuestCpu it was called for: the fiber resuming there is the one that made that call.
// thread_local (not a process global) keeps parallel runs on other threads apart.
#pragma once
#include <string>

#include "cpu/vm/guest_api.hpp"
#define VCPUSIM_HOST 1  // the ABI's types, not a plugin's definitions
#include "include/vcpusim/guest.h"

namespace vcpusim::plugin {

// The check a C assertion (BUG_ON, WARN_ON, VCPUSIM_ASSERT) reports.
constexpr const char* kAssertCheck = "guest_assert";

// Where the entries of register_lock, register_workload and register_metric go while
// vcpusim_plugin_init runs; set by the loader.
class Registrar {
 public:
  virtual ~Registrar() = default;
  // False (with the message kept for the loader) when the lock cannot be registered.
  virtual bool add_lock(const vcpusim_lock_ops& ops) = 0;
  virtual bool add_workload(const vcpusim_workload_ops& ops) = 0;
  virtual bool add_metric(const vcpusim_metric& metric) = 0;
};

// The table (one per process: it holds only function pointers).
const vcpusim_host_api& host_api();

// Runs plugin code on `cpu` for the scope's lifetime (and starts its cpu_relax read set). On
// exit no vCPU is current, so code run outside a vCPU (a lock's init) gets a clear error rather
// than the vCPU of an earlier, finished run.
class CurrentCpu {
 public:
  explicit CurrentCpu(cpu::GuestCpu& cpu);
  // Lands the plugin's last plain store, which may take interrupts: it may end in the exception
  // that unwinds a fiber at the end of a run.
  ~CurrentCpu() noexcept(false);
  CurrentCpu(const CurrentCpu&) = delete;
  CurrentCpu& operator=(const CurrentCpu&) = delete;
};

// The vCPU running plugin code on this thread, with its plain accesses landed
// (GuestCpu::land_plain); null outside a vCPU (a lock's init, vcpusim_plugin_init).
cpu::GuestCpu* running_cpu();
// Makes `cpu` current again after a call that may have switched fibers (every entry point does,
// as it returns into the plugin).
void resume_on(cpu::GuestCpu& cpu);

// Makes `r` the target of the register_* entries for the scope's lifetime (vcpusim_plugin_init).
class Registering {
 public:
  explicit Registering(Registrar& r);
  ~Registering();
  Registering(const Registering&) = delete;
  Registering& operator=(const Registering&) = delete;

 private:
  Registrar* outer_;
};

}  // namespace vcpusim::plugin
