// Files written so that a crash or a planted link never leaves a partial or misplaced output:
// each through a temporary created exclusively (O_EXCL) in its output's own directory, opened
// without following a symbolic link, fsynced and renamed over its name (sweep outputs, the
// Slurm scripts of sweep slurm and explore slurm).
#pragma once
#include <string>

namespace vcpusim::tools {

// Writes `text` to `path` through a temporary in the same directory (create_temporary): write,
// fsync, rename over `path` (a link there is replaced, never followed), fsync the directory.
// Throws sim::ConfigError when it cannot; a failed write leaves `path` as it was.
void write_file_durably(const std::string& path, const std::string& text);

// Owns a file descriptor: closed on every way out.
struct FdGuard {
  int fd = -1;
  ~FdGuard();
};

// Opens `dir` as a directory, refusing a symbolic link (O_NOFOLLOW). Throws sim::ConfigError.
int open_directory(const std::string& dir);

// Creates a new file in the directory `dirfd` named `prefix` and a random suffix, exclusively
// (O_CREAT | O_EXCL | O_NOFOLLOW): never an existing file or a planted link. Returns the
// descriptor and sets `name`; -1 (errno set) when it cannot.
int create_temporary(int dirfd, const std::string& prefix, std::string& name);

// The prefix of every temporary write_file_durably makes; a sweep removes a killed one's.
extern const char* const kTemporaryPrefix;

}  // namespace vcpusim::tools
