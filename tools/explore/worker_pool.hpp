// explore's -j: worker processes forked once, each running the work it is sent, one line in and
// one line out per item, for the whole exploration. Forking per batch cost more than the runs
// themselves on short scenarios (page tables copied and copy-on-write faults at every fork: 4x
// the CPU per schedule of -j1 at -j2); a pool pays that once per worker.
#pragma once
#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace vcpusim::tools {

// Writes all of `s` to `fd`, through interrupted and partial writes; false on an error.
bool write_all(int fd, const std::string& s);

class WorkerPool {
 public:
  // `work` runs in the worker processes: one input line (no '\n') to one output line.
  WorkerPool(int jobs, std::function<std::string(const std::string&)> work)
      : jobs_(jobs), work_(std::move(work)) {}
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The outputs of `inputs`, in their order: worker w takes a contiguous share. The workers
  // are forked at the first call, from the process as it is then. Throws sim::SimError when a
  // worker fails or dies.
  std::vector<std::string> run(const std::vector<std::string>& inputs);

 private:
  struct Worker {
    pid_t pid;
    int to;    // its input
    int from;  // its output
    std::string pending;  // read and not yet returned
  };
  void start();
  [[noreturn]] void serve(int in, int out);
  // Ends the workers; true when one was stopped by the plugin watchdog (it said why).
  bool stop();

  int jobs_;
  std::function<std::string(const std::string&)> work_;
  std::vector<Worker> workers_;
};

}  // namespace vcpusim::tools
