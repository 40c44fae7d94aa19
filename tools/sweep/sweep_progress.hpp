// Sweep progress on stderr: a redrawn bar with an ETA on a terminal, otherwise a plain line
// at most every `interval` (and at the end), so logs of batch jobs stay short.
#pragma once
#include <chrono>
#include <cstddef>
#include <ostream>

namespace vcpusim::tools {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  Progress(std::ostream& out, bool terminal, std::size_t total, std::size_t already_done,
           std::chrono::seconds interval = std::chrono::seconds(10));
  // `done` counts runs finished in this invocation.
  void update(std::size_t done, std::size_t running, std::size_t failed, bool force = false);
  void finish(std::size_t done, std::size_t failed);

 private:
  std::string eta(std::size_t done) const;
  std::ostream& out_;
  bool terminal_;
  std::size_t total_, already_;
  std::chrono::seconds interval_;
  Clock::time_point start_, last_;
  bool printed_ = false;
};

}  // namespace vcpusim::tools
