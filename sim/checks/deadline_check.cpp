#include "sim/checks/deadline_check.hpp"

namespace vcpusim::sim {
DeadlineCheck::DeadlineCheck(Kernel& kernel, Violations& out, std::string check, std::string what,
                             Tick bound)
    : kernel_(kernel),
      out_(out),
      check_(std::move(check)),
      what_(std::move(what)),
      bound_(bound),
      component_(kernel.components().add("check." + check_, "check")) {}

int DeadlineCheck::begin(int cpu) {
  const int token = next_token_++;
  const Tick now = kernel_.now();
  EventKey timer =
      kernel_.at(now + bound_, Phase::kCheck, component_, [this, token] { expired(token); });
  open_.emplace(token, Open{cpu, now, timer});
  return token;
}

void DeadlineCheck::end(int token) {
  auto it = open_.find(token);
  if (it == open_.end()) return;
  kernel_.cancel(it->second.timer);
  open_.erase(it);
}

void DeadlineCheck::expired(int token) {
  auto it = open_.find(token);
  if (it == open_.end()) return;
  const Open o = it->second;
  open_.erase(it);
  Violation v;
  v.check = check_;
  v.time = kernel_.now();
  v.cpus = {o.cpu};
  v.message = what_ + " on vCPU" + std::to_string(o.cpu) + " entered at " + format_time(o.start) +
              " has not returned within " + format_time(bound_);
  v.details = {{"start_ns", to_ns(o.start)}, {"bound_ns", to_ns(bound_)}};
  out_.report(std::move(v));
}

}  // namespace vcpusim::sim
