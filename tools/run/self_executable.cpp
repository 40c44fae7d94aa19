#include "tools/run/self_executable.hpp"

#include <filesystem>

#include "sim/error.hpp"

namespace vcpusim::tools {

std::string self_executable() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw sim::ConfigError("cannot find the vcpusim executable (/proc/self/exe)");
  return p.string();
}

}  // namespace vcpusim::tools
