#include "tools/run/output_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/config/config.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void refuse(const std::string& option, const std::string& dir,
                         const std::string& why) {
  throw sim::ConfigError(option + " " + sim::quote(dir) + ": " + why);
}

// Opens the marker without following a link planted in its place; creates it (exclusively)
// when `create`. -1 with errno set when it cannot.
int open_marker(const std::string& path, bool create) {
  const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  return ::open(path.c_str(), flags, 0644);
}

}  // namespace

std::string OutputDir::marker(const std::string& command) {
  return ".vcpusim-" + command;
}

OutputDir::OutputDir(const std::string& option, const std::string& dir, const std::string& command)
    : dir_(dir) {
  if (dir.empty()) refuse(option, dir, "is an empty path; allowed: a directory path");
  const std::string allowed = "; allowed: a new or empty directory, or one vcpusim " + command +
                              " wrote before (it holds " + marker(command) + ")";
  std::error_code ec;
  made_ = fs::create_directories(dir, ec);
  if (ec)
    refuse(option, dir,
         "cannot create the directory (" + ec.message() + "); allowed: a writable directory path");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    refuse(option, dir, "is not a directory" + allowed);
  marker_ = (fs::path(dir) / marker(command)).string();
  fd_ = open_marker(marker_, false);
  if (fd_ < 0 && errno == ENOENT) {
    // Unmarked: only an empty directory becomes ours.
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      (void)e;
      refuse(option, dir, "is not empty and was not written by vcpusim " + command + allowed);
    }
    if (ec) refuse(option, dir, "cannot list the directory (" + ec.message() + ")" + allowed);
    fd_ = open_marker(marker_, true);
    if (fd_ < 0 && errno == EEXIST) fd_ = open_marker(marker_, false);  // another one marked it
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_size == 0) {
      const std::string note = "This directory is written by vcpusim " + command +
                               ", which replaces or removes only the files it names here.\n";
      const ssize_t n = ::write(fd_, note.data(), note.size());
      (void)n;  // the file is the marker; its text is only for people
    }
  }
  if (fd_ < 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string why = fd_ < 0 ? std::strerror(errno) : "not a regular file";
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    refuse(option, dir, "cannot open its marker " + marker(command) + " (" + why + ")" + allowed);
  }
  // A POSIX record lock: held by this process only (explore's forked workers do not inherit it),
  // released by the kernel when the process ends, however it ends.
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd_, F_SETLK, &lock) != 0) {
    ::close(fd_);
    fd_ = -1;
    refuse(option, dir,
         "another vcpusim " + command +
             " is writing into this directory; allowed: another directory, or this one once it "
             "has finished");
  }
}

OutputDir::~OutputDir() {
  if (made_ && !committed_) {  // nothing written: leave no trace of the directory
    ::unlink(marker_.c_str());
    ::rmdir(dir_.c_str());
  }
  if (fd_ >= 0) ::close(fd_);
}

std::string OutputDir::file(const std::string& name) const {
  return (fs::path(dir_) / name).string();
}

void OutputDir::committed(const std::function<bool(const std::string&)>& ours,
                          const std::vector<std::string>& keep) {
  committed_ = true;
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (!ours(name) || std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) stale.push_back(e.path());
  }
  for (const fs::path& p : stale) ::unlink(p.c_str());
}

}  // namespace vcpusim::tools
