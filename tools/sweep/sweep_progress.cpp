#include "tools/sweep/sweep_progress.hpp"

#include <string>

namespace vcpusim::tools {

Progress::Progress(std::ostream& out, bool terminal, std::size_t total, std::size_t already_done,
                   std::chrono::seconds interval)
    : out_(out),
      terminal_(terminal),
      total_(total),
      already_(already_done),
      interval_(interval),
      start_(Clock::now()),
      last_(start_) {}

std::string Progress::eta(std::size_t done) const {
  const std::size_t left = total_ - already_ - done;
  if (done == 0) return left ? "ETA -" : "ETA 0s";
  const double per =
      std::chrono::duration<double>(Clock::now() - start_).count() / static_cast<double>(done);
  auto s = static_cast<long long>(per * static_cast<double>(left) + 0.5);
  std::string t;
  if (s >= 3600) t += std::to_string(s / 3600) + "h";
  if (s >= 60) t += std::to_string(s / 60 % 60) + "m";
  return "ETA " + t + std::to_string(s % 60) + "s";
}

void Progress::update(std::size_t done, std::size_t running, std::size_t failed, bool force) {
  const auto now = Clock::now();
  const std::size_t finished = already_ + done;
  const std::string counts = std::to_string(finished) + "/" + std::to_string(total_) + " runs, " +
                             std::to_string(running) + " running, " + std::to_string(failed) +
                             " failed, " + eta(done);
  if (terminal_) {
    constexpr std::size_t kWidth = 30;
    const std::size_t fill = total_ ? finished * kWidth / total_ : kWidth;
    out_ << "\r\033[K[" << std::string(fill, '#') << std::string(kWidth - fill, '.') << "] "
         << counts << std::flush;
    printed_ = true;
    return;
  }
  if (!force && now - last_ < interval_) return;
  last_ = now;
  out_ << "sweep: " << counts << "\n" << std::flush;
}

void Progress::finish(std::size_t done, std::size_t failed) {
  if (terminal_ && printed_) out_ << "\n";
  if (!terminal_) update(done, 0, failed, true);
}

}  // namespace vcpusim::tools
