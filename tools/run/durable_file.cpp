#include "tools/run/durable_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>

#include "sim/error.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;

const char* const kTemporaryPrefix = ".tmp-";

namespace {
[[noreturn]] void fail(const std::string& dir, const std::string& why) {
  throw sim::ConfigError(dir + ": " + why);
}
}  // namespace

void write_file_durably(const std::string& path, const std::string& text) {
  const fs::path p(path);
  const std::string name = p.filename().string();
  const int dir = open_directory(p.parent_path().empty() ? "." : p.parent_path().string());
  std::string tmp;
  const int fd = create_temporary(dir, kTemporaryPrefix + name + ".", tmp);
  bool ok = fd >= 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  if (fd >= 0) ok = ::close(fd) == 0 && ok;
  ok = ok && ::renameat(dir, tmp.c_str(), dir, name.c_str()) == 0 && ::fsync(dir) == 0;
  const int saved = errno;
  if (!ok && fd >= 0) ::unlinkat(dir, tmp.c_str(), 0);
  ::close(dir);
  if (!ok)
    throw sim::ConfigError(path + ": cannot write the output file (" + std::strerror(saved) + ")");
}

FdGuard::~FdGuard() {
  if (fd >= 0) ::close(fd);
}

int open_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    fail(dir, errno == ELOOP || errno == ENOTDIR
                  ? "is not a directory vcpusim made (a symbolic link or another file); "
                    "allowed: the directory itself"
                  : std::string("cannot open the directory (") + std::strerror(errno) + ")");
  return fd;
}

int create_temporary(int dirfd, const std::string& prefix, std::string& name) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
      r = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
          (static_cast<std::uint64_t>(::getpid()) << 40) ^ static_cast<std::uint64_t>(attempt);
    name = prefix;
    for (int i = 0; i < 10; ++i, r /= 36) name += kDigits[r % 36];
    const int fd =
        ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace vcpusim::tools
