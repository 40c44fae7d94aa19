#include "tools/sweep/sweep_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "sim/config/config.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
namespace fs = std::filesystem;

const char* const kSweepMarker = ".vcpusim-sweep";
const char* const kSweepMarkerText =
    "vcpusim sweep directory: vcpusim sweep may replace and delete the files it wrote here\n";

namespace {

[[noreturn]] void fail(const std::string& dir, const std::string& why) {
  throw sim::ConfigError(dir + ": " + why);
}

fs::path resolved(const std::string& path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  const fs::path p = fs::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal() : p;
}

// `file` is `dir` or lies below it (both resolved, links included).
bool inside(const fs::path& file, const fs::path& dir) {
  auto f = file.begin();
  for (auto d = dir.begin(); d != dir.end(); ++d, ++f) {
    if (d->empty()) continue;  // a trailing separator
    if (f == file.end() || *f != *d) return false;
  }
  return true;
}

}  // namespace

std::string claim_sweep_dir(const std::string& dir, const std::vector<std::string>& inputs) {
  if (dir.empty()) fail(dir, "is an empty path; allowed: a directory name");
  const fs::path where = resolved(dir);
  for (const auto& in : inputs)
    if (!in.empty() && inside(resolved(in), where))
      fail(dir, "holds " + in +
                    ", an input of this sweep; allowed: an output directory that holds none of "
                    "the sweep's inputs (the spec and its scenario)");
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) {
    // symlink_status reports "not found" in ec too: a bare name (no parent to create) must not
    // read it as a failure to create the directory.
    ec.clear();
    const fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec || (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST))
      fail(dir, std::string("cannot create the sweep directory (") +
                    (ec ? ec.message() : std::strerror(errno)) + ")");
  }
  if (!fs::is_directory(dir, ec))
    fail(dir, "is not a directory; allowed: a new, empty or sweep directory");
  const std::string real = fs::canonical(dir, ec).string();
  if (ec) fail(dir, "cannot resolve the directory (" + ec.message() + ")");
  if (is_sweep_dir(real)) return real;
  // Empty, or holding only the temporary of a marker whose sweep was killed before renaming it
  // (a name only this function makes): that leftover is removed and the marker written again.
  const std::string marker_temporary = std::string(kTemporaryPrefix) + kSweepMarker + ".";
  std::vector<fs::path> leftovers;
  bool empty = true;
  for (fs::directory_iterator it(real, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(marker_temporary, 0) == 0 && it->is_regular_file(ec) && !it->is_symlink(ec))
      leftovers.push_back(it->path());
    else
      empty = false;
  }
  if (ec) fail(dir, "cannot read the directory (" + ec.message() + ")");
  if (empty)
    for (const auto& l : leftovers) fs::remove(l, ec);
  if (!empty)
    fail(dir, std::string("is not empty and holds no ") + kSweepMarker +
                  " marker, so it is not a directory a sweep made; a sweep writes only into a "
                  "new or empty directory, or one it made; allowed: another -o DIR");
  write_file_durably((fs::path(real) / kSweepMarker).string(), kSweepMarkerText);
  return real;
}

bool is_sweep_dir(const std::string& dir) {
  const std::string path = (fs::path(dir) / kSweepMarker).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) text.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text == kSweepMarkerText;
}

// A sweep killed a moment ago may still have a run child between fork and exec holding the
// lock's file (it dies with its parent, but not at once): resuming right after a kill waits up to
// two seconds for it before calling the directory taken.
int lock_sweep_dir(const std::string& dir) {
  const std::string path = (fs::path(dir) / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) fail(dir, "cannot create " + path + " (" + std::strerror(errno) + ")");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (std::chrono::steady_clock::now() >= give_up) {
      ::close(fd);
      throw sim::ConfigError(dir + ": another sweep is writing into this directory");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fd;
}

namespace {
void require_sweep_dir(const std::string& dir) {
  if (!is_sweep_dir(dir))
    throw sim::SimError(dir + " is not a sweep directory: nothing in it may be deleted");
}
}  // namespace

void remove_temporaries(const std::string& dir, const std::string& sub) {
  require_sweep_dir(dir);
  const fs::path d = sub.empty() ? fs::path(dir) : fs::path(dir) / sub;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(d, ec))) return;
  for (const auto& e : fs::directory_iterator(d, ec))
    if (e.path().filename().string().rfind(kTemporaryPrefix, 0) == 0)
      fs::remove(e.path(), ec);  // the entry itself, a link included, never what it points at
}

void renew_subdir(const std::string& dir, const std::string& sub) {
  require_sweep_dir(dir);
  const fs::path d = fs::path(dir) / sub;
  std::error_code ec;
  fs::remove_all(d, ec);  // a link at d is removed, not followed
  if (!ec) fs::create_directory(d, ec);
  if (ec) fail(d.string(), "cannot renew the directory (" + ec.message() + ")");
}

}  // namespace vcpusim::tools
