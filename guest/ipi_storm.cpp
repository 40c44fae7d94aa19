#include "guest/ipi_storm.hpp"

#include <algorithm>

namespace vcpusim::guest {

std::size_t CallLedger::issue(int runs) {
  expected_.push_back(runs);
  runs_.push_back(0);
  return expected_.size() - 1;
}

void CallLedger::ran(std::size_t id) {
  ++metrics_.runs;
  if (++runs_[id] > expected_[id]) ++metrics_.duplicate_runs;
}

void CallLedger::refused(std::size_t id) {
  expected_[id] = 0;
  ++refused_;
}

void CallLedger::collect_metrics(sim::Metrics& out) const {
  std::uint64_t expected = 0, missing = 0;
  for (std::size_t i = 0; i < expected_.size(); ++i) {
    expected += static_cast<std::uint64_t>(expected_[i]);
    if (runs_[i] < expected_[i]) missing += static_cast<std::uint64_t>(expected_[i] - runs_[i]);
  }
  metrics_.collect(out);
  out.set(metrics_.calls, static_cast<std::uint64_t>(expected_.size()) - refused_);
  out.set(metrics_.refused, refused_);
  out.set(metrics_.expected_runs, expected);
  out.set(metrics_.not_run, missing);
}

void IpiStorm::run(cpu::GuestCpu& cpu) {
  std::vector<int> targets;
  for (std::int64_t t : p_.targets.value)
    if (t != cpu.id()) targets.push_back(static_cast<int>(t));
  const bool many = p_.mode.value == CallMode::kMany;
  const bool irqs_off = p_.irqs.value == IrqState::kOff;
  const bool wait = p_.wait.value;
  const sim::Tick work = p_.work.value;
  for (sim::Tick left = p_.start.value; left > 0; left -= p_.chunk.value)
    cpu.compute(std::min(left, p_.chunk.value));
  for (std::int64_t i = 0; !targets.empty() && (p_.count.value == 0 || i < p_.count.value); ++i) {
    const bool flags = irqs_off ? cpu.local_irq_save() : true;
    const int single = targets[static_cast<std::size_t>(i) % targets.size()];
    const std::size_t id = ledger_.issue(many ? static_cast<int>(targets.size()) : 1);
    auto func = [this, id, work](cpu::GuestCpu& c) {
      ledger_.ran(id);
      c.compute(work);
    };
    const sim::Tick start = cpu.now();
    const bool made = many ? calls_.call_many(cpu, targets, func, wait)
                           : calls_.call_single(cpu, single, func, wait);
    if (!made) {
      ledger_.refused(id);
    } else if (wait) {
      ledger_.completed(cpu.now() - start);
    }
    if (irqs_off) cpu.local_irq_restore(flags);
    for (sim::Tick left = p_.interval.value; left > 0; left -= p_.chunk.value)
      cpu.compute(std::min(left, p_.chunk.value));
  }
  ledger_.caller_finished();
}

}  // namespace vcpusim::guest
