#include "plugin/loaded_plugin.hpp"

#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "plugin/c_workload.hpp"
#include "plugin/host_api.hpp"
#include "plugin/watchdog.hpp"
#include "sim/error.hpp"
#include "sim/record/components.hpp"

namespace vcpusim::plugin {

namespace {
constexpr std::size_t kMaxLockName = 64;
constexpr std::size_t kMaxLockBytes = 4096;

bool good_name(const char* name) {
  if (!name) return false;
  const std::size_t n = std::strlen(name);
  if (n == 0 || n > kMaxLockName) return false;
  return std::all_of(name, name + n, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || std::strchr("_:.-", c);
  });
}

// A writable segment copied whole, byte by byte: a plugin built with AddressSanitizer (the
// sanitizer suite builds the test plugins so) has redzones between its globals, which are bytes
// of the segment like any other here, not accesses of the program's own objects. Uninstrumented,
// and through a volatile pointer so no memcpy (which ASan intercepts) replaces the loop.
__attribute__((no_sanitize("address"))) void copy_segment(void* to, const void* from,
                                                          std::size_t bytes) {
  volatile unsigned char* d = static_cast<volatile unsigned char*>(to);
  const volatile unsigned char* s = static_cast<const volatile unsigned char*>(from);
  for (std::size_t i = 0; i < bytes; ++i) d[i] = s[i];
}
}  // namespace

std::string file_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return "";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(sim::stable_hash(bytes)));
  return hex;
}

// Takes the plugin's register_lock calls during vcpusim_plugin_init.
class LockCollector final : public Registrar {
 public:
  explicit LockCollector(LoadedPlugin& p) : p_(p) {}
  bool add_lock(const vcpusim_lock_ops& ops) override {
    std::string name = ops.name ? ops.name : "(null)";
    if (!good_name(ops.name))
      return fail("lock name \"" + name.substr(0, kMaxLockName) + "\"",
                  "1 to 64 characters of a-z 0-9 _ : . -");
    if (!ops.lock || !ops.unlock) return fail("lock \"" + name + "\" without lock or unlock", "both");
    if (ops.size == 0 || ops.size > kMaxLockBytes)
      return fail("lock \"" + name + "\" of " + std::to_string(ops.size) + " bytes",
                  "1 to " + std::to_string(kMaxLockBytes));
    for (const vcpusim_lock_ops* o : p_.locks_)
      if (name == o->name) return fail("lock \"" + name + "\" registered twice", "one each");
    p_.locks_.push_back(&ops);
    return true;
  }
  bool add_workload(const vcpusim_workload_ops& ops) override {
    const std::string problem = workload_problem(ops);
    if (!problem.empty()) return fail(problem);
    for (const vcpusim_workload_ops* o : p_.workloads_)
      if (std::strcmp(o->name, ops.name) == 0)
        return fail("workload \"" + std::string(ops.name) + "\" registered twice", "one each");
    p_.workloads_.push_back(&ops);
    return true;
  }
  bool add_metric(const vcpusim_metric& metric) override {
    const std::string problem = metric_problem(metric);
    if (!problem.empty()) return fail(problem);
    for (const vcpusim_metric* m : p_.metrics_)
      if (std::strcmp(m->name, metric.name) == 0)
        return fail("metric \"" + std::string(metric.name) + "\" registered twice", "one each");
    p_.metrics_.push_back(&metric);
    return true;
  }
  std::string error;

 private:
  bool fail(const std::string& what, const std::string& allowed) {
    return fail(what + "; allowed: " + allowed);
  }
  bool fail(const std::string& message) {
    if (error.empty()) error = message;
    return false;
  }
  LoadedPlugin& p_;
};

LoadedPlugin::LoadedPlugin(const std::string& path) : path_(path) {
  const std::size_t slash = path.rfind('/');
  name_ = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string where = "plugin " + path + ": ";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw sim::ConfigError(where + "no such file; allowed: a shared object built against "
                                   "<vcpusim/guest.h> (docs/c-guest-code.md)");
  if (!S_ISREG(st.st_mode)) throw sim::ConfigError(where + "is not a regular file");
  // A name without a slash would be searched for in the library path, not taken as the file.
  const std::string file = slash == std::string::npos ? "./" + path : path;
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real)) real_path_ = real;
  content_hash_ = file_hash(path);
  if (content_hash_.empty()) throw sim::ConfigError(where + "cannot be read");
  handle_ = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle_) {
    const char* e = ::dlerror();
    throw sim::ConfigError(where + "cannot be loaded: " + (e ? e : "dlopen failed"));
  }
  try {
    const auto* abi =
        static_cast<const unsigned*>(::dlsym(handle_, "vcpusim_plugin_abi_version"));
    if (!abi)
      throw sim::ConfigError(where + "has no symbol vcpusim_plugin_abi_version: build it against "
                                     "<vcpusim/guest.h>");
    if (*abi != VCPUSIM_GUEST_ABI_VERSION)
      throw sim::ConfigError(where + "was built for guest ABI version " + std::to_string(*abi) +
                             "; this vcpusim runs version " +
                             std::to_string(VCPUSIM_GUEST_ABI_VERSION) +
                             ": rebuild it against this vcpusim's <vcpusim/guest.h>");
    using Init = int (*)(const vcpusim_host_api*, unsigned);
    void* sym = ::dlsym(handle_, "vcpusim_plugin_init");
    if (!sym)
      throw sim::ConfigError(where + "has no symbol vcpusim_plugin_init: define "
                                     "int vcpusim_plugin_init(const struct vcpusim_host_api *, "
                                     "unsigned) (docs/c-guest-code.md)");
    Init init;
    std::memcpy(&init, &sym, sizeof init);
    LockCollector collector(*this);
    int rc;
    {
      watchdog::arm(name_.c_str());
      Registering scope(collector);
      watchdog::Entered plugin_code(nullptr);
      rc = init(&watchdog::guarded_api(), VCPUSIM_GUEST_ABI_VERSION);
    }
    if (!collector.error.empty()) throw sim::ConfigError(where + collector.error);
    if (rc != 0)
      throw sim::ConfigError(where + "vcpusim_plugin_init returned " + std::to_string(rc) +
                             "; allowed: 0");
    find_segments();
  } catch (...) {
    ::dlclose(handle_);
    throw;
  }
}

LoadedPlugin::~LoadedPlugin() {
  ::dlclose(handle_);
}

// The plugin's writable PT_LOAD segments, less what becomes read-only after relocation
// (PT_GNU_RELRO): its .data and .bss (and .got.plt without -z now).
void LoadedPlugin::find_segments() {
  link_map* map = nullptr;
  if (::dlinfo(handle_, RTLD_DI_LINKMAP, &map) != 0 || !map)
    throw sim::SimError("plugin " + path_ + ": dlinfo found no link map");
  struct Search {
    ElfW(Addr) base;
    std::vector<std::pair<char*, std::size_t>> found;
  } search{map->l_addr, {}};
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto& s = *static_cast<Search*>(data);
        if (info->dlpi_addr != s.base) return 0;
        ElfW(Addr) relro_end = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i)
          if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO)
            relro_end = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W)) continue;
          ElfW(Addr) start = info->dlpi_addr + ph.p_vaddr;
          const ElfW(Addr) end = start + ph.p_memsz;
          if (relro_end > start && relro_end < end) start = relro_end;
          if (relro_end >= end) continue;
          s.found.emplace_back(reinterpret_cast<char*>(start), end - start);
        }
        return 1;
      },
      &search);
  for (const auto& [start, bytes] : search.found) {
    std::vector<unsigned char> initial(bytes);
    copy_segment(initial.data(), start, bytes);
    segments_.push_back({start, std::move(initial)});
  }
}

void LoadedPlugin::enter_run(cpu::Memory& memory) const {
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    copy_segment(s.start, s.initial.data(), s.initial.size());
    memory.add_region(name_ + ".data" + std::to_string(i), s.start, s.initial.size());
  }
}

}  // namespace vcpusim::plugin
