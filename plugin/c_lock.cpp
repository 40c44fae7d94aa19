#include "plugin/c_lock.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "plugin/host_api.hpp"
#include "plugin/plugin_run.hpp"
#include "plugin/watchdog.hpp"

namespace vcpusim::plugin {

namespace {
constexpr std::size_t kLine = cpu::Memory::kLineBytes;

}  // namespace

CLock::CLock(guest::LockKit& kit, const std::string& name, const LoadedPlugin& plugin,
             const vcpusim_lock_ops& ops, const PluginMetrics& metrics)
    : Spinlock(name), ops_(ops) {
  cpu::Memory& memory = kit.machine().memory();
  kit.machine().attachment<PluginRun>().enter(plugin, metrics);
  const std::size_t bytes = (ops.size + kLine - 1) / kLine * kLine;
  object_ = std::aligned_alloc(kLine, bytes);
  if (!object_) throw std::bad_alloc();
  std::memset(object_, 0, bytes);
  memory.add_region(name, object_, bytes);
  std::string why;
  for (std::size_t off = 0; off < bytes; off += kLine)
    adopt_line(*memory.line_word(static_cast<char*>(object_) + off, 1, why));
  if (ops.init) {
    watchdog::Entered plugin_code(nullptr, "a lock's init");
    ops.init(object_);
  }
}

CLock::~CLock() {
  std::free(object_);
}

void CLock::lock(cpu::GuestCpu& cpu) {
  CurrentCpu on(cpu);
  ops_.lock(object_);
}

void CLock::unlock(cpu::GuestCpu& cpu) {
  CurrentCpu on(cpu);
  ops_.unlock(object_);
}

}  // namespace vcpusim::plugin
