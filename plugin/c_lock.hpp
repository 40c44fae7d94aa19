// A lock algorithm of a C plugin as a guest::Spinlock: each lock is an object vcpusim allocates
// (zeroed, 64-byte aligned, its size rounded up to whole lines) and registers as a guest memory
// region named after the lock ("lock0+0x0" is its first line), so its lines are the lock's own
// in the per-lock counters. lock() and unlock() run the plugin's functions on the vCPU.
#pragma once
#include <string>

#include "guest/locks/spinlock.hpp"
#define VCPUSIM_HOST 1  // the ABI's types, not a plugin's definitions
#include "include/vcpusim/guest.h"
#include "plugin/loaded_plugin.hpp"
#include "plugin/plugin_metrics.hpp"

namespace vcpusim::plugin {

class CLock final : public guest::Spinlock {
 public:
  CLock(guest::LockKit& kit, const std::string& name, const LoadedPlugin& plugin,
        const vcpusim_lock_ops& ops, const PluginMetrics& metrics);
  ~CLock() override;
  CLock(const CLock&) = delete;
  CLock& operator=(const CLock&) = delete;
  void lock(cpu::GuestCpu& cpu) override;
  void unlock(cpu::GuestCpu& cpu) override;
  bool fair() const override { return ops_.fair != 0; }

 private:
  const vcpusim_lock_ops& ops_;
  void* object_;
};

}  // namespace vcpusim::plugin
