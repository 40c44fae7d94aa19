#include "sim/checks/lock_checks.hpp"

namespace vcpusim::sim {

void MutualExclusionCheck::acquired(int lock, const std::string& name, int cpu, Tick now) {
  const auto i = static_cast<std::size_t>(lock);
  if (holders_.size() <= i) holders_.resize(i + 1);
  Held& h = holders_[i];
  if (h.cpu >= 0) {
    Violation v;
    v.check = kName;
    v.time = now;
    v.cpus = {h.cpu, cpu};
    v.message = "vCPU" + std::to_string(cpu) + " acquired " + name + " while vCPU" +
                std::to_string(h.cpu) + " held it (since " + format_time(h.since) + ")";
    v.details = {{"lock", name}, {"holder", h.cpu}, {"held_since_ns", h.since / kNanosecond}};
    out_.report(std::move(v));
  }
  h = Held{cpu, now};
}

void MutualExclusionCheck::released(int lock, int cpu) {
  const auto i = static_cast<std::size_t>(lock);
  if (i < holders_.size() && holders_[i].cpu == cpu) holders_[i] = Held{};
}

LostWakeupCheck::Halt& LostWakeupCheck::at(int cpu) {
  const auto i = static_cast<std::size_t>(cpu);
  if (halts_.size() <= i) halts_.resize(i + 1);
  return halts_[i];
}

void LostWakeupCheck::update(int cpu, const std::string& what, bool holds) {
  Halt& h = at(cpu);
  h.what = what;
  if (holds == h.holds) return;
  h.holds = holds;
  if (!holds) {
    kernel_.cancel(h.timer);
    return;
  }
  h.since = kernel_.now();
  if (h.reported) return;
  if (component_ < 0) component_ = kernel_.components().add("check.no_lost_wakeup", "check");
  h.timer = kernel_.at(h.since + bound_, Phase::kCheck, component_, [this, cpu] { expire(cpu); });
}

void LostWakeupCheck::resumed(int cpu) {
  Halt& h = at(cpu);
  kernel_.cancel(h.timer);
  h = Halt{};
}

void LostWakeupCheck::expire(int cpu) {
  Halt& h = at(cpu);
  h.reported = true;
  ++reported_;
  Violation v;
  v.check = kName;
  v.time = kernel_.now();
  v.cpus = {cpu};
  v.message = "vCPU" + std::to_string(cpu) + " is halted in pv_wait on " + h.what +
              " although its wake-up condition has held since " + format_time(h.since) +
              " and no kick came (bound " + format_time(bound_) + ")";
  v.details = {{"waiting_on", h.what},
               {"condition_since_ns", h.since / kNanosecond},
               {"bound_ns", bound_ / kNanosecond}};
  out_.report(std::move(v));
}

}  // namespace vcpusim::sim
