// The guard around C plugin code (docs/c-guest-code.md "When a plugin misbehaves"). Plugin code
// that crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, abort), overflows its vCPU's fiber stack, or
// runs for a bounded host time without a guest operation ends the process with one message
// naming the vCPU, the simulated time and its last guest operation, and exit code
// kExitPluginFault: never a core dump or a hang.
//
// What plugin code does is tracked per thread at each transition between vcpusim and a plugin:
// vcpusim calling in (Entered: a CurrentCpu scope, or vcpusim_plugin_init), and the plugin
// calling one of the host API's guest operations and its return (guarded_api()). The handlers
// of the fatal signals run on an alternate signal stack (so a stack overflow reaches them) and
// act only when the faulting thread is inside plugin code; otherwise the signal goes, unchanged,
// to the handler installed before (the sanitizers', or the default). A monitor thread looks at
// the transitions every 50 ms of host time. Host time decides only whether to stop the process:
// it never enters a result.
#pragma once
#include <chrono>
#include <stdexcept>

#include "cpu/vm/guest_api.hpp"
#define VCPUSIM_HOST 1  // the ABI's types, not a plugin's definitions
#include "include/vcpusim/guest.h"

namespace vcpusim::plugin::watchdog {

// The exit code of a misbehaving plugin (tools/cli_args.hpp kExitPluginFault).
constexpr int kExitPluginFault = 4;

// A child process (explore's workers and forks) that the watchdog stopped, after it printed its
// message there: the command exits kExitPluginFault too, and says nothing more.
class ChildStopped : public std::runtime_error {
 public:
  ChildStopped() : std::runtime_error("a child process stopped by the plugin watchdog") {}
};

// Installs the signal handlers (once per process) and records the plugin's name for messages.
void arm(const char* plugin_name);
// Host time plugin code may run without a guest operation (default 10 s).
void set_budget(std::chrono::milliseconds budget);

// The host API table the plugins get: host_api()'s, each guest operation wrapped so that the
// watchdog sees it (entries that cannot block or switch fibers are passed through).
const vcpusim_host_api& guarded_api();

// A guest operation of plugin code for its scope, as each guarded entry of the table is one: the
// plugin is out of its own code meanwhile (other vCPUs' fibers may run) and back in at the end.
// Also for operations made outside the table (plugin/tsan_entry_points.cpp). `name` must be a
// string literal (it names the last guest operation in a message).
class Operation {
 public:
  explicit Operation(const char* name);
  ~Operation();
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

 private:
  cpu::GuestCpu* cpu_;
};

// vcpusim calls plugin code on `cpu`, or on no vCPU (nullptr) in `outside` (a string literal:
// "vcpusim_plugin_init", "a lock's init"), and is back.
void enter(cpu::GuestCpu* cpu, const char* outside = "vcpusim_plugin_init");
void leave();

// enter() and leave() for a scope.
class Entered {
 public:
  explicit Entered(cpu::GuestCpu* cpu, const char* outside = "vcpusim_plugin_init") {
    enter(cpu, outside);
  }
  ~Entered() { leave(); }
  Entered(const Entered&) = delete;
  Entered& operator=(const Entered&) = delete;
};

}  // namespace vcpusim::plugin::watchdog
