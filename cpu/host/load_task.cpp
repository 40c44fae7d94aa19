#include "cpu/host/load_task.hpp"

namespace vcpusim::cpu {
namespace {
std::vector<int> to_int(const std::vector<std::int64_t>& v) {
  return {v.begin(), v.end()};
}
}  // namespace

LoadTask::LoadTask(int id, std::string name, const LoadParams& params, sim::Kernel& kernel,
                   HostScheduler& scheduler, sim::DecisionSource& decisions)
    : HostThread(id, Kind::kLoad, std::move(name), to_int(params.cpus.value),
                 static_cast<int>(params.nice.value)),
      params_(params),
      kind_(params.kind.value),
      kernel_(kernel),
      scheduler_(scheduler),
      decisions_(decisions) {}

void LoadTask::start() {
  if (kind_ == LoadKind::kDuty) {
    phase_ = params_.phase.value;
    if (params_.phase_max.value > phase_)
      phase_ += decisions_.choose(kernel_.now(), component(), "load.phase",
                                  params_.phase_max.value - phase_ + 1);
    schedule_window(phase_, phase_ + duty_busy());
  } else if (kind_ == LoadKind::kPoisson) {
    next_random_window(0);
  } else if (!params_.windows.empty()) {
    schedule_window(params_.windows[0].first, params_.windows[0].second);
  }
}

Tick LoadTask::duty_busy() {
  if (params_.busy_max.value <= params_.busy.value) return params_.busy.value;
  return params_.busy.value + decisions_.choose(kernel_.now(), component(), "load.length",
                                                params_.busy_max.value - params_.busy.value + 1);
}

void LoadTask::schedule_window(Tick start, Tick end) {
  kernel_.at(start, sim::Phase::kHost, component(), [this, end] { begin_busy(end); });
}

void LoadTask::next_random_window(Tick from) {
  const Tick idle =
      decisions_.exponential(kernel_.now(), component(), "load.idle", params_.idle.value);
  const Tick busy = std::max<Tick>(
      1, decisions_.exponential(kernel_.now(), component(), "load.busy", params_.busy.value));
  schedule_window(from + idle, from + idle + busy);
}

void LoadTask::begin_busy(Tick end) {
  scheduler_.wake(*this);
  scheduler_.set_work(*this, sim::kForever);
  const bool always_busy = kind_ == LoadKind::kDuty && params_.idle.value == 0;
  if (!always_busy) kernel_.at(end, sim::Phase::kHost, component(), [this] { end_busy(); });
}

void LoadTask::end_busy() {
  scheduler_.sleep(*this);
  const Tick now = kernel_.now();
  if (kind_ == LoadKind::kDuty) {
    ++period_index_;
    const Tick start = phase_ + period_index_ * (params_.busy.value + params_.idle.value);
    schedule_window(start, start + duty_busy());
  } else if (kind_ == LoadKind::kPoisson) {
    next_random_window(now);
  } else if (++script_index_ < params_.windows.size()) {
    schedule_window(params_.windows[script_index_].first, params_.windows[script_index_].second);
  }
}

}  // namespace vcpusim::cpu
