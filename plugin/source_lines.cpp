#include "plugin/source_lines.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#if VCPUSIM_HAVE_LIBDW
#include <elfutils/libdw.h>
#endif

namespace vcpusim::plugin {

// One plugin file's debug information, open for the set's lifetime.
struct SourceLines::Module {
  int fd = -1;
#if VCPUSIM_HAVE_LIBDW
  Dwarf* dwarf = nullptr;
#endif
  ~Module() {
#if VCPUSIM_HAVE_LIBDW
    if (dwarf) dwarf_end(dwarf);
#endif
    if (fd >= 0) ::close(fd);
  }
};

namespace {
std::string base_name(const char* path) {
  const std::string p(path ? path : "");
  const std::size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}
}  // namespace

SourceLines::SourceLines() = default;
SourceLines::~SourceLines() = default;

const SourceLines::Module* SourceLines::module(const std::string& path) const {
  auto it = modules_.find(path);
  if (it != modules_.end()) return it->second.get();
  Module* m = (modules_[path] = std::make_unique<Module>()).get();
#if VCPUSIM_HAVE_LIBDW
  m->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m->fd >= 0) m->dwarf = dwarf_begin(m->fd, DWARF_C_READ);
#endif
  return m;
}

std::string SourceLines::where(const void* pc) const {
  auto cached = cache_.find(pc);
  if (cached != cache_.end()) return cached->second;
  std::string out;
  Dl_info info{};
  if (::dladdr(pc, &info) && info.dli_fname) {
    // The call's return address: the access is the instruction before it.
    const auto offset =
        reinterpret_cast<std::uintptr_t>(pc) - reinterpret_cast<std::uintptr_t>(info.dli_fbase) - 1;
#if VCPUSIM_HAVE_LIBDW
    if (const Module* m = module(info.dli_fname); m->dwarf) {
      Dwarf_Die cu;
      if (dwarf_addrdie(m->dwarf, offset, &cu)) {
        if (Dwarf_Line* line = dwarf_getsrc_die(&cu, offset)) {
          int number = 0;
          dwarf_lineno(line, &number);
          out = base_name(dwarf_linesrc(line, nullptr, nullptr)) + ":" + std::to_string(number);
        }
      }
    }
#else
    (void)offset;
#endif
    if (out.empty() && info.dli_sname) {
      char off[32];
      std::snprintf(
          off, sizeof off, "+0x%llx",
          static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(pc) -
                                          reinterpret_cast<std::uintptr_t>(info.dli_saddr)));
      out = std::string(info.dli_sname) + off + " in " + base_name(info.dli_fname);
    }
  }
  cache_[pc] = out;
  return out;
}

}  // namespace vcpusim::plugin
