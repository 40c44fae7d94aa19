// Running `vcpusim sweep` from tests: a child process with captured output, files, temp dirs.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vcpusim::test {

struct Exit {
  int code = -1;    // exit status, or -1 when killed
  int signal = 0;   // the signal that ended it
  std::string err;  // stderr
  std::string out;  // stdout, when run_vcpusim was given a file for it
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream t;
  t << in.rdbuf();
  return t.str();
}

// Starts VCPUSIM_BINARY with `args`; stderr goes to `log`, stdout to `out` (or /dev/null).
inline pid_t start_vcpusim(const std::vector<std::string>& args, const std::string& log,
                           const std::string& out = "") {
  std::vector<std::string> all = {VCPUSIM_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(null, 0);
    ::dup2(out.empty() ? null : ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

inline Exit wait_vcpusim(pid_t pid, const std::string& log) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  Exit e;
  if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  e.err = slurp(log);
  return e;
}

inline Exit run_vcpusim(const std::vector<std::string>& args, const std::string& log) {
  return wait_vcpusim(start_vcpusim(args, log), log);
}

// As run_vcpusim, with stdout kept in `out` and returned in Exit::out.
inline Exit run_vcpusim_out(const std::vector<std::string>& args, const std::string& log,
                            const std::string& out) {
  Exit e = wait_vcpusim(start_vcpusim(args, log, out), log);
  e.out = slurp(out);
  return e;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vcpusim-sweep-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string sweep_spec(const std::string& name) {
  return std::string(VCPUSIM_SOURCE_DIR) + "/tests/sweeps/" + name;
}

}  // namespace vcpusim::test
