// The single-node Slurm of tests/slurm/ (started and stopped by the test, state in a temporary
// directory) and the shell the generated scripts run in, for the Slurm tests of sweep and explore.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace vcpusim::test {

inline std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its exit status and stdout.
inline int shell(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  const int status = ::pclose(p);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Starts tests/slurm/start-single-node.sh in `base` (made readable for munged) and stops it by
// PID whatever way the test ends. status(): 0 up, 77 no Slurm here (skip), else failed; the
// start script's stderr is in log.
class SingleNodeSlurm {
 public:
  explicit SingleNodeSlurm(const std::filesystem::path& base) : base_(base.string()) {
    namespace fs = std::filesystem;
    const fs::path parent = base.parent_path();
    fs::permissions(parent, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);  // for munged
    fs::create_directories(base);
    log_ = (parent / "slurm-start.log").string();
    std::string env;
    status_ = shell(
        sh_quote(script("start-single-node.sh")) + " " + sh_quote(base_) + " 2>" + sh_quote(log_),
        &env);
    conf_ = base_ + "/etc/slurm.conf";
    if (status_ == 0 && env.find(conf_) == std::string::npos) status_ = 1;
  }
  ~SingleNodeSlurm() {
    shell(sh_quote(script("stop-single-node.sh")) + " " + sh_quote(base_) + " >/dev/null 2>&1");
  }
  SingleNodeSlurm(const SingleNodeSlurm&) = delete;
  SingleNodeSlurm& operator=(const SingleNodeSlurm&) = delete;

  int status() const { return status_; }
  const std::string& log() const { return log_; }
  // SLURM_CONF=... for a command line that runs sbatch.
  std::string env() const { return "SLURM_CONF=" + sh_quote(conf_) + " "; }

 private:
  static std::string script(const std::string& name) {
    return std::string(VCPUSIM_SOURCE_DIR) + "/tests/slurm/" + name;
  }
  std::string base_, conf_, log_;
  int status_ = -1;
};

}  // namespace vcpusim::test
