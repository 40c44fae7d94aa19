#include "tools/run/run_control.hpp"

#include <unistd.h>

#include <cstdio>

namespace vcpusim::tools {
namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_sigint(int) {
  interrupted = 1;
}

// A run shorter than this never shows the progress line.
constexpr auto kQuietFor = std::chrono::seconds(2);
constexpr auto kRedrawEvery = std::chrono::milliseconds(250);

}  // namespace

RunControl::RunControl(sim::Tick duration, sim::Tick max_wall, bool progress)
    : duration_(duration),
      max_wall_(max_wall),
      progress_(progress && ::isatty(2)),
      start_(Clock::now()),
      last_draw_(start_) {
  interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &sa, &previous_);
}

RunControl::~RunControl() {
  sigaction(SIGINT, &previous_, nullptr);
  if (drawn_) std::fputs("\r\033[K", stderr);
}

bool RunControl::poll(sim::Tick now) {
  const auto wall = Clock::now();
  const auto elapsed = std::chrono::duration<double>(wall - start_).count();
  if (interrupted) {
    reason_ = "SIGINT";
    return false;
  }
  if (max_wall_ > 0 && elapsed * sim::kSecond >= static_cast<double>(max_wall_)) {
    reason_ = "--max-wall " + sim::format_duration(max_wall_);
    return false;
  }
  if (progress_ && wall - start_ >= kQuietFor && wall - last_draw_ >= kRedrawEvery) {
    last_draw_ = wall;
    drawn_ = true;
    const double done = duration_ > 0 ? static_cast<double>(now) / duration_ : 1.0;
    const double eta = done > 0 ? elapsed * (1 - done) / done : 0;
    std::fprintf(stderr, "\r\033[Ksimulated %s of %s (%.1f%%), %.0f s elapsed, ETA %.0f s",
                 sim::format_time(now).c_str(), sim::format_time(duration_).c_str(),
                 100 * done, elapsed, eta);
    std::fflush(stderr);
  }
  return true;
}

}  // namespace vcpusim::tools
