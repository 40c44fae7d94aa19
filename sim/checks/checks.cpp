#include "sim/checks/checks.hpp"

namespace vcpusim::sim {

nlohmann::json Violation::to_json() const {
  nlohmann::json out = {{"check", check},
                        {"time_ns", to_ns(time)},
                        {"cpus", cpus},
                        {"message", message},
                        {"details", details}};
  return out;
}

void Violations::report(Violation v) {
  if (++counts_[v.check] > kKept) return;
  list_.push_back(std::move(v));
  if (observer_) observer_(list_.back());
}

std::size_t Violations::count(const std::string& check) const {
  auto it = counts_.find(check);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t Violations::total() const {
  std::size_t n = 0;
  for (const auto& [check, c] : counts_) n += c;
  return n;
}

void MonotonicTimeCheck::read_started(int cpu) {
  const auto idx = static_cast<std::size_t>(cpu);
  if (snapshot_.size() <= idx) snapshot_.resize(idx + 1);
  snapshot_[idx] = max_ended_;
}

void MonotonicTimeCheck::read_finished(int cpu, Tick start, Tick end, std::int64_t value,
                                       const char* clock) {
  const auto idx = static_cast<std::size_t>(cpu);
  if (last_.size() <= idx) last_.resize(idx + 1);
  if (snapshot_.size() <= idx) snapshot_.resize(idx + 1);
  if (behind_.size() <= idx) behind_.resize(idx + 1, kNoEpisode);
  if (reader_episodes_.size() <= idx) reader_episodes_.resize(idx + 1, 0);
  ++reads_;
  // The reference: the larger of this reader's previous value and every value that had been
  // returned anywhere before this read started.
  const Read& prev = last_[idx];
  const Read& before = snapshot_[idx];
  const Read* ref = nullptr;
  if (prev.cpu >= 0) ref = &prev;
  if (before.cpu >= 0 && (!ref || before.value > ref->value)) ref = &before;
  if (ref && value < ref->value) {
    ++backward_reads_;
    // Reads still catching up with the same reference are not new; a reader falling behind
    // while another one still is joins that reader's episode.
    if (behind_[idx] == kNoEpisode || ref->value > behind_[idx]) {
      bool others_behind = false;
      for (std::size_t j = 0; j < behind_.size(); ++j)
        others_behind = others_behind || (j != idx && behind_[j] != kNoEpisode);
      if (!others_behind)
        violate(cpu, start, end, value, *ref, ref == &prev ? "same reader" : "across CPUs", clock);
      ++reader_episodes_[idx];
      behind_[idx] = ref->value;
    }
  } else {
    behind_[idx] = kNoEpisode;
  }
  Read r{cpu, start, end, value};
  last_[idx] = r;
  if (max_ended_.cpu < 0 || value >= max_ended_.value) max_ended_ = r;
}

void MonotonicTimeCheck::violate(int cpu, Tick start, Tick end, std::int64_t value,
                                 const Read& earlier, const char* scope, const char* clock) {
  Violation v;
  v.check = kName;
  v.time = end;
  v.cpus = {earlier.cpu, cpu};
  if (earlier.cpu == cpu) v.cpus = {cpu};
  const std::int64_t step = earlier.value - value;
  v.message = std::string(clock) + " time went backwards by " + format_time(step * kNanosecond) +
              " (" + scope + "): vCPU" + std::to_string(earlier.cpu) + " read " +
              std::to_string(earlier.value) + " ending at " + format_time(earlier.end) +
              ", then vCPU" + std::to_string(cpu) + " read " + std::to_string(value) +
              " starting at " + format_time(start);
  v.details = {
      {"clock", clock},
      {"scope", scope},
      {"backward_step_ns", step},
      {"earlier",
       {{"cpu", earlier.cpu},
        {"value_ns", earlier.value},
        {"start_ns", to_ns(earlier.start)},
        {"end_ns", to_ns(earlier.end)}}},
      {"later",
       {{"cpu", cpu}, {"value_ns", value}, {"start_ns", to_ns(start)}, {"end_ns", to_ns(end)}}}};
  for (const auto& provider : context_) provider(earlier.end, end, v.details);
  out_.report(std::move(v));
}

}  // namespace vcpusim::sim
