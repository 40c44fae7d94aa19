#include "tools/explore/worker_pool.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "plugin/watchdog.hpp"
#include "sim/error.hpp"

namespace vcpusim::tools {
bool write_all(int fd, const std::string& s) {
  for (std::size_t done = 0; done < s.size();) {
    const ssize_t k = write(fd, s.data() + done, s.size() - done);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    done += static_cast<std::size_t>(k);
  }
  return true;
}

namespace {

// The next line of `fd` (without '\n'), false at the end of the stream.
bool read_line(int fd, std::string& buffer, std::string& line) {
  for (;;) {
    const std::size_t nl = buffer.find('\n');
    if (nl != std::string::npos) {
      line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    char chunk[1 << 16];
    const ssize_t k = read(fd, chunk, sizeof chunk);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(k));
  }
}

}  // namespace

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::serve(int in, int out) {
  int status = 0;
  try {
    std::string buffer, line;
    while (read_line(in, buffer, line))
      if (!write_all(out, work_(line) + "\n")) _exit(3);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vcpusim explore: worker: %s\n", e.what());
    status = 3;
  }
  _exit(status);
}

void WorkerPool::start() {
  std::cout.flush();
  std::cerr.flush();
  for (int w = 0; w < jobs_; ++w) {
    int down[2], up[2];
    if (pipe(down) != 0) throw sim::SimError("explore: pipe failed");
    if (pipe(up) != 0) {
      close(down[0]);
      close(down[1]);
      throw sim::SimError("explore: pipe failed");
    }
    const pid_t pid = fork();
    if (pid < 0) {
      for (int fd : {down[0], down[1], up[0], up[1]}) close(fd);
      throw sim::SimError("explore: fork failed");
    }
    if (pid == 0) {
      // Only this worker's ends: the earlier workers' pipes stay the parent's alone, so each
      // worker sees the end of its input when the parent closes it.
      for (const Worker& other : workers_) {
        close(other.to);
        close(other.from);
      }
      close(down[1]);
      close(up[0]);
      serve(down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    workers_.push_back({pid, down[1], up[0], {}});
  }
}

bool WorkerPool::stop() {
  bool watchdog = false;
  for (Worker& w : workers_) close(w.to);  // the end of its input: the worker exits
  for (Worker& w : workers_) {
    close(w.from);
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    watchdog = watchdog ||
               (WIFEXITED(status) && WEXITSTATUS(status) == plugin::watchdog::kExitPluginFault);
  }
  workers_.clear();
  return watchdog;
}

std::vector<std::string> WorkerPool::run(const std::vector<std::string>& inputs) {
  if (workers_.empty()) start();
  const std::size_t n = workers_.size();
  // A broken pipe (a worker died) must be an error here, not the end of the process.
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  bool sent = true;
  for (std::size_t w = 0; w < n; ++w) {
    std::string batch;
    for (std::size_t i = inputs.size() * w / n; i < inputs.size() * (w + 1) / n; ++i)
      batch += inputs[i] + "\n";
    sent = sent && write_all(workers_[w].to, batch);
  }
  std::vector<std::string> out;
  bool complete = sent;
  for (std::size_t w = 0; w < n && complete; ++w)
    for (std::size_t i = inputs.size() * w / n; i < inputs.size() * (w + 1) / n; ++i) {
      std::string line;
      if (!read_line(workers_[w].from, workers_[w].pending, line)) {
        complete = false;
        break;
      }
      out.push_back(std::move(line));
    }
  sigaction(SIGPIPE, &old, nullptr);
  if (!complete) {
    if (stop()) throw plugin::watchdog::ChildStopped();
    throw sim::SimError("explore: a worker process failed");
  }
  return out;
}

}  // namespace vcpusim::tools
